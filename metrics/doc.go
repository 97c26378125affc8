// Package metrics owns Rivulet's Prometheus collectors and the HTTP endpoint
// (/metrics, /healthz, /readyz). It imports nothing of Rivulet's: stages
// declare small observer interfaces with plain arguments, and the types here
// satisfy them.
package metrics

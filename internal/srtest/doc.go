// Package srtest is a Confluent-compatible schema registry for tests and
// benchmarks: franz-go's in-memory srfake (the REST endpoints franz-go's sr
// client uses) plus what srfake leaves out and Rivulet's tests need — the
// registry's default BACKWARD compatibility rule for Avro, enforced on
// registration (409 like Confluent's registry), and fault injection (fail
// the next N requests with a status, as an unavailable registry does).
//
// CheckBackward is the Avro schema-resolution test behind the rule: a
// reader with the new schema can decode data written with the old one.
package srtest

// Package event holds the one type that flows between stages: ChangeEvent,
// its typed Values and its Source block. It imports only schema.
//
// An event is immutable once sent; ownership passes with the send. It carries
// no JSON or Avro tags: the envelope belongs to sink.
package event

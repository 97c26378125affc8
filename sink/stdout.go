package sink

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/rivulet-cdc/rivulet/event"
)

// Stdout is a transport for trying Rivulet out: it writes each record as one
// line {"topic":"…","key":<key or null>,"value":<value or null>} (plus
// "headers":{…} when the record has headers) to an io.Writer. Send writes
// synchronously and then calls done; it is safe for concurrent use.
type Stdout struct {
	format Format

	mu     sync.Mutex
	w      io.Writer
	recs   []Record
	buf    []byte
	out    []byte
	closed bool
}

// NewStdout returns a Stdout sink writing the records of format f to w.
func NewStdout(w io.Writer, f Format) *Stdout {
	return &Stdout{format: f, w: w}
}

// Format returns the sink's record format.
func (s *Stdout) Format() Format { return s.format }

// Send encodes events and writes their records with one Write call; done is
// called exactly once (with the error Send returns, if any).
func (s *Stdout) Send(ctx context.Context, events []event.ChangeEvent, done func(error)) error {
	err := s.send(ctx, events)
	done(err)
	return err
}

func (s *Stdout) send(ctx context.Context, events []event.ChangeEvent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	recs, buf, out := s.recs[:0], s.buf[:0], s.out[:0]
	var err error
	if recs, buf, err = appendEvents(ctx, s.format, recs, buf, events); err != nil {
		return err
	}
	for i := range recs {
		out = appendStdoutLine(out, &recs[i])
	}
	s.recs, s.buf, s.out = recs, buf, out
	if len(out) == 0 {
		return nil
	}
	if _, err := s.w.Write(out); err != nil {
		return fmt.Errorf("write records: %w", err)
	}
	return nil
}

func appendStdoutLine(dst []byte, r *Record) []byte {
	dst = append(dst, `{"topic":`...)
	dst = appendJSONStr(dst, r.Topic)
	dst = append(dst, `,"key":`...)
	if r.Key == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, r.Key...)
	}
	dst = append(dst, `,"value":`...)
	if r.Value == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, r.Value...)
	}
	if len(r.Headers) > 0 {
		dst = append(dst, `,"headers":{`...)
		for i, h := range r.Headers {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONStr(dst, h.Key)
			dst = append(dst, ':')
			dst = appendJSONString(dst, h.Value)
		}
		dst = append(dst, '}')
	}
	return append(dst, '}', '\n')
}

// Flush does nothing: Send writes synchronously.
func (s *Stdout) Flush(context.Context) error { return nil }

// Close makes later Sends fail with ErrClosed; it does not close the writer.
func (s *Stdout) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

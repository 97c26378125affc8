package sink_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/rivulet-cdc/rivulet/sink"
	"github.com/rivulet-cdc/rivulet/sink/debeziumjson"
)

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestStdout_Send(t *testing.T) {
	enc, err := debeziumjson.NewJSON(testEncoding())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	s := sink.NewStdout(&out, enc.Format())
	evs := kafkaEvents()
	done, ch := doneCh(t)
	if err := s.Send(t.Context(), evs, done); err != nil {
		t.Fatal(err)
	}
	if err := <-ch; err != nil {
		t.Fatalf("done(%v)", err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 8 {
		t.Fatalf("%d lines, want 8:\n%s", len(lines), out.String())
	}
	type line struct {
		Topic   string            `json:"topic"`
		Key     json.RawMessage   `json:"key"`
		Value   json.RawMessage   `json:"value"`
		Headers map[string]string `json:"headers"`
	}
	var got []line
	for _, l := range lines {
		var x line
		if err := json.Unmarshal([]byte(l), &x); err != nil {
			t.Fatalf("line is not JSON: %v\n%s", err, l)
		}
		got = append(got, x)
	}
	if got[3].Topic != "dbserver1.inventory.customers" || !bytes.Contains(got[3].Value, []byte(`"op":"d"`)) {
		t.Errorf("line 4 = %+v, want the customers delete", got[3])
	}
	if string(got[4].Value) != "null" || got[4].Key == nil {
		t.Errorf("line 5 = %+v, want a tombstone with the key", got[4])
	}
	if got[7].Headers[sink.HeaderOldKey] != `{"order_id":1,"region":"eu"}` {
		t.Errorf("line 8 headers = %v", got[7].Headers)
	}
	if !strings.HasPrefix(lines[0], `{"topic":"dbserver1.inventory.customers","key":{"schema":`) {
		t.Errorf("line 1 = %s", lines[0])
	}

	s2 := sink.NewStdout(failWriter{}, enc.Format())
	done2, ch2 := doneCh(t)
	if err := s2.Send(t.Context(), evs[:1], done2); err == nil {
		t.Error("Send to a failing writer succeeded")
	}
	if err := <-ch2; err == nil {
		t.Error("done(nil) after a failed write")
	}
	_ = s.Close()
	done3, ch3 := doneCh(t)
	if err := s.Send(t.Context(), evs[:1], done3); !errors.Is(err, sink.ErrClosed) {
		t.Errorf("Send after Close = %v", err)
	}
	<-ch3
}

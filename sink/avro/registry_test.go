package avro_test

import (
	"context"
	"encoding/binary"
	"errors"
	"net/http"
	"testing"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/internal/srtest"
	"github.com/rivulet-cdc/rivulet/schema"
	"github.com/rivulet-cdc/rivulet/sink"
	"github.com/rivulet-cdc/rivulet/sink/avro"
	"github.com/rivulet-cdc/rivulet/sink/internal/sinktest"
)

const userV1 = `{"type":"record","name":"User","namespace":"t","fields":[{"name":"id","type":"int"}]}`

// TestRegistry_RetriesUntilAvailable: while the registry answers 503,
// Register waits and retries; once it answers, the id is returned and then
// cached (no further request).
func TestRegistry_RetriesUntilAvailable(t *testing.T) {
	srv, reg := sinktest.NewTestRegistry(t)
	srv.FailNext(5, http.StatusServiceUnavailable)
	id, err := reg.Register(context.Background(), "t-value", userV1)
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.Requests(); got != 6 {
		t.Errorf("%d requests, want 5 failed + 1", got)
	}
	again, err := reg.Register(context.Background(), "t-value", userV1)
	if err != nil || again != id {
		t.Fatalf("second Register = %d, %v; want %d from the cache", again, err, id)
	}
	if got := srv.Requests(); got != 6 {
		t.Errorf("cached Register made a request (%d)", got)
	}
}

// TestRegistry_RefusalIsFinal: an incompatible schema (409) is not retried.
func TestRegistry_RefusalIsFinal(t *testing.T) {
	srv, reg := sinktest.NewTestRegistry(t)
	ctx := context.Background()
	if _, err := reg.Register(ctx, "t-value", userV1); err != nil {
		t.Fatal(err)
	}
	incompatible := `{"type":"record","name":"User","namespace":"t","fields":[{"name":"id","type":"int"},{"name":"n","type":"string"}]}`
	_, err := reg.Register(ctx, "t-value", incompatible)
	var re *avro.RegistryError
	if !errors.As(err, &re) || re.Status != http.StatusConflict {
		t.Fatalf("err = %v, want a RegistryError with HTTP 409", err)
	}
	if srv.Refused() != 1 || srv.Requests() != 2 {
		t.Errorf("refused %d, requests %d; want 1 and 2", srv.Refused(), srv.Requests())
	}
}

// TestRegistry_CancelWhileUnavailable: a context that ends while the
// registry is down ends Register with the context's error.
func TestRegistry_CancelWhileUnavailable(t *testing.T) {
	srv, reg := sinktest.NewTestRegistry(t)
	srv.FailNext(1<<30, http.StatusBadGateway)
	ctx, cancel := context.WithCancel(context.Background())
	srv.OnRequest(func(n int64) {
		if n >= 3 {
			cancel()
		}
	})
	_, err := reg.Register(ctx, "t-value", userV1)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func customersV(extra ...schema.Column) *schema.Table {
	t := &schema.Table{DB: "inventory", Name: "customers", Columns: []schema.Column{
		{Name: "id", Type: schema.TypeInt, TypeName: "INT"},
		{Name: "first_name", Type: schema.TypeVarchar, TypeName: "VARCHAR", Length: 255},
	}, PrimaryKey: []int{0}}
	t.Columns = append(t.Columns, extra...)
	return t
}

// TestAvro_SchemaEvolutionBackward: after a DDL adds a nullable column, the
// next event registers a second version of <topic>-value that the
// registry's BACKWARD rule accepts (the new schema reads old records), the
// key subject keeps one version, and records of both versions decode with
// the schema their id names. A NOT NULL column without default is refused
// by the rule, and the encoder reports the registry's refusal.
func TestAvro_SchemaEvolutionBackward(t *testing.T) {
	srv, reg := sinktest.NewTestRegistry(t)
	enc, err := avro.New(sink.DefaultJSONConfig("dbserver1"), avro.Config{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	v1 := customersV()
	v2 := customersV(schema.Column{Name: "note", Type: schema.TypeVarchar, TypeName: "VARCHAR", Length: 20, Nullable: true})
	evs := []event.ChangeEvent{
		{Op: event.OpCreate, Table: v1, After: []event.Value{event.Int(1), str("anne")}, Source: streamSource},
		{Op: event.OpCreate, Table: v2, After: []event.Value{event.Int(2), str("bob"), str("hi")}, Source: streamSource},
	}
	var recs []sink.Record
	var buf []byte
	for i := range evs {
		if recs, buf, err = enc.AppendRecords(ctx, recs, buf, &evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	const subject = "dbserver1.inventory.customers-value"
	if v, _ := srv.Latest(subject); v != 2 {
		t.Fatalf("%s has %d versions, want 2", subject, v)
	}
	if v, _ := srv.Latest("dbserver1.inventory.customers-key"); v != 1 {
		t.Errorf("key subject has %d versions, want 1", v)
	}
	s1, _ := srv.GetSchema(subject, 1)
	s2, _ := srv.GetSchema(subject, 2)
	if err := srtest.CheckBackward(s2.Schema.Schema, s1.Schema.Schema); err != nil {
		t.Errorf("version 2 is not BACKWARD compatible with version 1: %v", err)
	}
	lookup := func(id int) string {
		for _, s := range []srtestSchema{{s1.ID, s1.Schema.Schema}, {s2.ID, s2.Schema.Schema}} {
			if s.id == id {
				return s.schema
			}
		}
		return ""
	}
	for i, r := range recs {
		if id := int(binary.BigEndian.Uint32(r.Value[1:5])); id != []int{s1.ID, s2.ID}[i] {
			t.Errorf("record %d has schema id %d", i, id)
		}
		_, native := sinktest.DecodeWire(t, lookup, r.Value)
		after := native.(map[string]any)["after"].(map[string]any)["dbserver1.inventory.customers.Value"].(map[string]any)
		if after["id"] != int32(i+1) {
			t.Errorf("record %d: after = %v", i, after)
		}
	}

	v3 := customersV(schema.Column{Name: "required", Type: schema.TypeInt, TypeName: "INT"})
	ev := event.ChangeEvent{Op: event.OpCreate, Table: v3, After: []event.Value{event.Int(3), str("c"), event.Int(1)}, Source: streamSource}
	_, _, err = enc.AppendRecords(ctx, nil, nil, &ev)
	var re *avro.RegistryError
	if !errors.As(err, &re) || re.Status != http.StatusConflict {
		t.Fatalf("NOT NULL column without default: err = %v, want the registry's 409", err)
	}
}

type srtestSchema struct {
	id     int
	schema string
}

package differential

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
	"github.com/rivulet-cdc/rivulet/sink/avro"
)

// TestAvroRegistryClient: Rivulet's registry client (sink/avro.Registry)
// against the real registry of the Avro runs: what the differential
// runs do not reach. A schema registered by two clients gets one id
// (Debezium's and Rivulet's records then carry the same id); SchemaByID
// reads it back; Ping answers; a schema the subject's BACKWARD level
// refuses is a *avro.RegistryError with HTTP 409 and the registry's
// message, returned at once (not retried as an outage would be).
func TestAvroRegistryClient(t *testing.T) {
	reg := testenv.SharedRegistry(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := func() *avro.Registry {
		// Connection: close leaves no idle connection behind (testenv.Main
		// checks for leaked goroutines).
		r, err := avro.NewRegistry(avro.RegistryConfig{URLs: []string{reg.URL}, Headers: map[string]string{"Connection": "close"}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	subject := testenv.TopicPrefix(t) + "-value"
	if err := reg.SetCompatibility(subject, "BACKWARD"); err != nil {
		t.Fatal(err)
	}
	v1 := `{"type":"record","name":"Value","namespace":"df.db.t","fields":[{"name":"id","type":"int"},{"name":"n","type":["null","string"],"default":null}]}`
	a, b := client(), client()
	if err := a.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	id, err := a.Register(ctx, subject, v1)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := b.Register(ctx, subject, v1); err != nil || again != id {
		t.Fatalf("the same schema from a second client: id %d, %v; want %d", again, err, id)
	}
	text, err := b.SchemaByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, `"name":"n"`) {
		t.Errorf("schema %d reads %s", id, text)
	}

	// A nullable column made NOT NULL without a default: the DDL
	// workload's change the README says BACKWARD refuses.
	v2 := `{"type":"record","name":"Value","namespace":"df.db.t","fields":[{"name":"id","type":"int"},{"name":"n","type":"string"},{"name":"m","type":"int"}]}`
	start := time.Now()
	_, err = a.Register(ctx, subject, v2)
	var re *avro.RegistryError
	if !errors.As(err, &re) || re.Status != http.StatusConflict || re.Message == "" {
		t.Fatalf("incompatible schema: err = %v, want a RegistryError with HTTP 409 and the registry's message", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the refusal took %v: retried?", d)
	}
	t.Logf("refusal: %v", err)
}

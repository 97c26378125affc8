package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPlan(t *testing.T) {
	const cb = "snapshot.mode.configuration.based."
	tests := []struct {
		name string
		kv   []string
		want SnapshotPlan
	}{
		{"initial", nil, SnapshotPlan{Data: SnapshotInitial, Stream: true}},
		{"initial_only", []string{"snapshot.mode", "initial_only"}, SnapshotPlan{Data: SnapshotInitial}},
		{"always", []string{"snapshot.mode", "always"}, SnapshotPlan{Data: SnapshotAlways, Stream: true, OnPurged: "snapshot"}},
		{"when_needed", []string{"snapshot.mode", "when_needed"}, SnapshotPlan{Data: SnapshotWhenNeeded, Stream: true, OnPurged: "snapshot"}},
		{"no_data", []string{"snapshot.mode", "no_data"}, SnapshotPlan{Stream: true}},
		{"never", []string{"snapshot.mode", "never"}, SnapshotPlan{Stream: true}},
		{"recovery", []string{"snapshot.mode", "recovery"}, SnapshotPlan{Stream: true, RebuildHistory: true}},
		// ConfigurationBasedSnapshotter answers its keys, whatever the offsets.
		{"cb data+stream", []string{"snapshot.mode", "configuration_based", cb + "snapshot.data", "true", cb + "start.stream", "true"},
			SnapshotPlan{Data: SnapshotAlways, Stream: true}},
		{"cb data only", []string{"snapshot.mode", "configuration_based", cb + "snapshot.data", "true"},
			SnapshotPlan{Data: SnapshotAlways}},
		{"cb stream only", []string{"snapshot.mode", "configuration_based", cb + "snapshot.schema", "true", cb + "start.stream", "true"},
			SnapshotPlan{Stream: true}},
		{"cb on errors", []string{"snapshot.mode", "configuration_based", cb + "start.stream", "true",
			cb + "snapshot.on.schema.error", "true", cb + "snapshot.on.data.error", "true"},
			SnapshotPlan{Stream: true, RebuildMissingHistory: true, OnPurged: "current"}},
		{"cb data on data error", []string{"snapshot.mode", "configuration_based", cb + "snapshot.data", "true", cb + "start.stream", "true",
			cb + "snapshot.on.data.error", "true"},
			SnapshotPlan{Data: SnapshotAlways, Stream: true, OnPurged: "snapshot"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := mustFromMap(t, with(tt.kv...))
			if diff := cmp.Diff(tt.want, c.Plan()); diff != "" {
				t.Errorf("Plan() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigurationBased_Errors(t *testing.T) {
	_, _, err := FromMap(with("snapshot.mode", "configuration_based", "snapshot.mode.configuration.based.snapshot.schema", "true"))
	if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "leaves nothing to do") ||
		!strings.Contains(err.Error(), "start.stream=true") {
		t.Fatalf("err = %v, want the nothing-to-do error naming start.stream", err)
	}
	_, w, err := FromMap(with("snapshot.mode.configuration.based.snapshot.data", "true"))
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != 1 || !strings.Contains(w[0].Message, "only with snapshot.mode=configuration_based") {
		t.Fatalf("warnings = %v, want one saying the key is ignored", w)
	}
}

func TestMessageKeyColumns(t *testing.T) {
	c, _ := mustFromMap(t, with("message.key.columns", "inventory.customers:email;(.*).orders:ref,line"))
	if got := c.Filters.MessageKeyColumns; got != "inventory.customers:email;(.*).orders:ref,line" {
		t.Fatalf("MessageKeyColumns = %q", got)
	}
	for _, bad := range []string{"inventory.customers", "inventory.customers:", "a.b:c:d", "a.b:c,,d", "a b:c", "a.(b:c"} {
		_, _, err := FromMap(with("message.key.columns", bad))
		if err == nil || !strings.Contains(err.Error(), "message.key.columns:") || !strings.Contains(err.Error(), "<db>.<table>:<column>") {
			t.Errorf("message.key.columns=%q: err = %v, want an error with the expected form", bad, err)
		}
	}
}

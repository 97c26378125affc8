package srtest

import "testing"

func TestCheckBackward(t *testing.T) {
	rec := func(fields string) string {
		return `{"type":"record","name":"Envelope","namespace":"a.b","fields":[{"name":"after","type":["null",{"type":"record","name":"Value","fields":[` + fields + `]}],"default":null},{"name":"before","type":["null","Value"],"default":null}]}`
	}
	base := `{"name":"id","type":"int"}`
	for _, tc := range []struct {
		name           string
		reader, writer string
		ok             bool
	}{
		{"same", rec(base), rec(base), true},
		{"new optional field", rec(base + `,{"name":"n","type":["null","string"],"default":null}`), rec(base), true},
		{"new required field", rec(base + `,{"name":"n","type":"string"}`), rec(base), false},
		{"dropped field", rec(base), rec(base + `,{"name":"n","type":"string"}`), true},
		{"int to long", rec(`{"name":"id","type":"long"}`), rec(base), true},
		{"long to int", rec(base), rec(`{"name":"id","type":"long"}`), false},
		{"made optional", rec(`{"name":"id","type":["null","int"],"default":null}`), rec(base), true},
		{"made required", rec(base), rec(`{"name":"id","type":["null","int"],"default":null}`), false},
		{"renamed record", `{"type":"record","name":"X","fields":[]}`, `{"type":"record","name":"Y","fields":[]}`, false},
	} {
		err := CheckBackward(tc.reader, tc.writer)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

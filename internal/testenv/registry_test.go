package testenv

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// srCall sends one request to the registry's Confluent API and decodes
// the JSON answer into out (when not nil); it returns the HTTP status.
func srCall(t *testing.T, method, url, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	cl := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(got, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, got)
		}
	}
	return resp.StatusCode
}

func schemaBody(schema string) string {
	b, _ := json.Marshal(map[string]string{"schema": schema})
	return string(b)
}

// TestSchemaRegistry starts a registry of its own and checks the Confluent
// API the Avro tests use: registering returns an id, the same schema again
// the same id, GET /schemas/ids/{id} the schema, a BACKWARD-incompatible
// schema is refused with 409 under the default level (BACKWARD, as
// Confluent's), and the subject's level NONE lets it in. Close stops the JVM.
func TestSchemaRegistry(t *testing.T) {
	r := StartRegistry(t)
	t.Logf("Apicurio Registry %s ready in %v at %s", apicurioVersion, r.Startup, r.URL)
	subject := "testenv-value"
	v1 := `{"type":"record","name":"R","namespace":"ns","fields":[{"name":"a","type":"int"}]}`
	var reg struct {
		ID int `json:"id"`
	}
	if st := srCall(t, http.MethodPost, r.URL+"/subjects/"+subject+"/versions", schemaBody(v1), &reg); st != http.StatusOK || reg.ID <= 0 {
		t.Fatalf("register v1: status %d, id %d", st, reg.ID)
	}
	id := reg.ID
	if st := srCall(t, http.MethodPost, r.URL+"/subjects/"+subject+"/versions", schemaBody(v1), &reg); st != http.StatusOK || reg.ID != id {
		t.Fatalf("register v1 again: status %d, id %d, want %d", st, reg.ID, id)
	}
	var got struct {
		Schema string `json:"schema"`
	}
	if st := srCall(t, http.MethodGet, fmt.Sprintf("%s/schemas/ids/%d", r.URL, id), "", &got); st != http.StatusOK {
		t.Fatalf("GET /schemas/ids/%d: status %d", id, st)
	}
	var gotTree, wantTree any
	_ = json.Unmarshal([]byte(got.Schema), &gotTree)
	_ = json.Unmarshal([]byte(v1), &wantTree)
	if fmt.Sprint(gotTree) != fmt.Sprint(wantTree) {
		t.Fatalf("schema %d is %s, want %s", id, got.Schema, v1)
	}

	// A new field without a default: under BACKWARD the new schema must
	// read data written with the old one, which it cannot.
	v2 := `{"type":"record","name":"R","namespace":"ns","fields":[{"name":"a","type":"int"},{"name":"b","type":"string"}]}`
	var cfg struct {
		Level string `json:"compatibilityLevel"`
	}
	if st := srCall(t, http.MethodGet, r.URL+"/config", "", &cfg); st != http.StatusOK || cfg.Level != "BACKWARD" {
		t.Fatalf("GET /config: status %d, level %q, want BACKWARD (Confluent's default)", st, cfg.Level)
	}
	if st := srCall(t, http.MethodPost, r.URL+"/subjects/"+subject+"/versions", schemaBody(v2), nil); st != http.StatusConflict {
		t.Fatalf("register an incompatible v2 under BACKWARD: status %d, want 409", st)
	}
	if err := r.SetCompatibility(subject, "NONE"); err != nil {
		t.Fatal(err)
	}
	if st := srCall(t, http.MethodPost, r.URL+"/subjects/"+subject+"/versions", schemaBody(v2), &reg); st != http.StatusOK || reg.ID == id {
		t.Fatalf("register v2 under NONE: status %d, id %d (v1 is %d)", st, reg.ID, id)
	}

	pid, dir := r.PID(), r.Dir
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("registry JVM %d still runs after Close", pid)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still there after Close: %v", dir, err)
	}
}

func TestJavaRelease(t *testing.T) {
	dir := t.TempDir()
	for text, want := range map[string]int{
		"JAVA_VERSION=\"25.0.3\"\n":               25,
		"IMPLEMENTOR=x\nJAVA_VERSION=\"17.0.15\"": 17,
		"JAVA_VERSION=\"1.8.0_452\"":              8,
		"JAVA_VERSION=\"21\"":                     21,
		"OTHER=1":                                 0,
	} {
		if err := os.WriteFile(filepath.Join(dir, "release"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := javaRelease(dir); got != want {
			t.Errorf("javaRelease(%q) = %d, want %d", text, got, want)
		}
	}
	if got := javaRelease(filepath.Join(dir, "none")); got != 0 {
		t.Errorf("javaRelease of a missing home = %d, want 0", got)
	}
}

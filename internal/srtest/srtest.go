package srtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// Registry is an in-memory registry served on a loopback httptest server.
type Registry struct {
	*srfake.Registry
	failNext   atomic.Int64
	failStatus atomic.Int64
	requests   atomic.Int64
	refused    atomic.Int64
	onRequest  atomic.Pointer[func(n int64)]
	noCompat   atomic.Bool
}

// OnRequest calls f with the request count at the start of every request,
// before any injected failure.
func (r *Registry) OnRequest(f func(n int64)) { r.onRequest.Store(&f) }

// New starts a registry; Close stops it.
func New() *Registry {
	r := &Registry{Registry: srfake.New(srfake.WithGlobalCompat(sr.CompatBackward))}
	r.Intercept(r.intercept)
	return r
}

// FailNext makes the next n requests fail with HTTP status (e.g. 503).
func (r *Registry) FailNext(n int, status int) {
	r.failStatus.Store(int64(status))
	r.failNext.Store(int64(n))
}

// NoCompat turns the BACKWARD check off for every subject, as a registry
// whose compatibility level is NONE: every new schema is registered.
func (r *Registry) NoCompat() { r.noCompat.Store(true) }

// Requests is the number of requests received so far (failed ones included).
func (r *Registry) Requests() int64 { return r.requests.Load() }

// Refused is the number of registrations refused as incompatible.
func (r *Registry) Refused() int64 { return r.refused.Load() }

// Latest returns the latest version of subject and its schema; 0 when the
// subject has none.
func (r *Registry) Latest(subject string) (version int, schema string) {
	for v := 1; ; v++ {
		s, ok := r.GetSchema(subject, v)
		if !ok {
			return v - 1, schema
		}
		schema = s.Schema.Schema
	}
}

func (r *Registry) intercept(w http.ResponseWriter, req *http.Request) bool {
	n := r.requests.Add(1)
	if f := r.onRequest.Load(); f != nil {
		(*f)(n)
	}
	if r.failNext.Add(-1) >= 0 {
		writeErr(w, int(r.failStatus.Load()), 50003, "injected failure")
		return true
	}
	r.failNext.Store(max(r.failNext.Load(), 0))
	if req.Method != http.MethodPost || r.noCompat.Load() {
		return false
	}
	subject := req.PathValue("subject")
	if subject == "" {
		// Interceptors run before routing: take the subject from the path.
		const pre, suf = "/subjects/", "/versions"
		p := req.URL.Path
		if len(p) <= len(pre)+len(suf) || p[:len(pre)] != pre || p[len(p)-len(suf):] != suf {
			return false
		}
		subject = p[len(pre) : len(p)-len(suf)]
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		writeErr(w, http.StatusBadRequest, 400, err.Error())
		return true
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	var s sr.Schema
	if err := json.Unmarshal(body, &s); err != nil || (s.Type != sr.TypeAvro && s.Type != 0) {
		return false
	}
	_, latest := r.Latest(subject)
	if latest == "" {
		return false
	}
	if err := CheckBackward(s.Schema, latest); err != nil {
		r.refused.Add(1)
		writeErr(w, http.StatusConflict, 409, fmt.Sprintf("Schema being registered is incompatible with an earlier schema for subject %q: %v", subject, err))
		return true
	}
	return false
}

func writeErr(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error_code": code, "message": msg})
}

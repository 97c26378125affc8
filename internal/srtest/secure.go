package srtest

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
)

// Secure puts an https front with mutual TLS before an in-memory
// registry (serverTLS requires the client certificate); it lets a request through when want accepts its headers, and
// answers 503 while failing is set.
func Secure(t testing.TB, serverTLS *tls.Config, want func(http.Header) bool) (string, *atomic.Bool) {
	t.Helper()
	reg := New()
	t.Cleanup(reg.Close)
	target, _ := url.Parse(reg.URL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	var failing atomic.Bool
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.TLS == nil || len(r.TLS.PeerCertificates) == 0:
			http.Error(w, `{"error_code":401,"message":"no client certificate"}`, http.StatusUnauthorized)
		case !want(r.Header):
			http.Error(w, `{"error_code":401,"message":"unauthorized"}`, http.StatusUnauthorized)
		case failing.Load():
			http.Error(w, `{"error_code":50301,"message":"unavailable"}`, http.StatusServiceUnavailable)
		default:
			proxy.ServeHTTP(w, r)
		}
	}))
	srv.TLS = serverTLS
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL, &failing
}

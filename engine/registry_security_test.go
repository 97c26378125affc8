package engine

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/config"
	"github.com/rivulet-cdc/rivulet/internal/srtest"
	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

const (
	registryPassword = "sr-B4sic-S3cret"
	registryToken    = "sr-St4tic-T0ken"
	registryClient   = "sr-Cl1ent-S3cret"
)

// TestRegistry_TLSAndAuth reaches an https registry that requires a client
// certificate signed by a private CA, with each way of authenticating:
// worker-level basic auth (schema.registry.basic.auth.user.info), user info
// in the URL, a static bearer token, and an OAuth bearer token with
// Confluent Cloud's logical cluster header. `check` passes and prints no
// credential; a registry outage's retry warnings and check's failure print
// none either.
func TestRegistry_TLSAndAuth(t *testing.T) {
	certs := testenv.TLSCerts(t)
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "sr-app" || p != registryClient {
			http.Error(w, "bad client", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"access_token":"oauth-registry-token","expires_in":300}`)
	}))
	defer idp.Close()
	basic := func(h http.Header) bool {
		r := &http.Request{Header: h}
		u, p, ok := r.BasicAuth()
		return ok && u == "sruser" && p == registryPassword
	}
	for _, tc := range []struct {
		name string
		want func(http.Header) bool
		keys func(base string) map[string]string
	}{
		{"worker basic auth", basic, func(base string) map[string]string {
			return map[string]string{"schema.registry.url": base, "schema.registry.basic.auth.user.info": "sruser:" + registryPassword}
		}},
		{"url user info", basic, func(base string) map[string]string {
			u, _ := url.Parse(base)
			u.User = url.UserPassword("sruser", registryPassword)
			return map[string]string{"value.converter.schema.registry.url": u.String(), "value.converter.basic.auth.credentials.source": "URL"}
		}},
		{"static bearer", func(h http.Header) bool { return h.Get("Authorization") == "Bearer "+registryToken }, func(base string) map[string]string {
			return map[string]string{"value.converter.schema.registry.url": base,
				"value.converter.bearer.auth.credentials.source": "STATIC_TOKEN", "value.converter.bearer.auth.token": registryToken}
		}},
		{"oauth bearer", func(h http.Header) bool {
			return h.Get("Authorization") == "Bearer oauth-registry-token" && h.Get("target-sr-cluster") == "lsrc-1"
		}, func(base string) map[string]string {
			return map[string]string{"value.converter.schema.registry.url": base,
				"value.converter.bearer.auth.credentials.source":  "OAUTHBEARER",
				"value.converter.bearer.auth.issuer.endpoint.url": idp.URL, "value.converter.bearer.auth.client.id": "sr-app",
				"value.converter.bearer.auth.client.secret": registryClient, "value.converter.bearer.auth.logical.cluster": "lsrc-1"}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, failing := srtest.Secure(t, certs.ServerTLS(true), tc.want)
			m := map[string]string{
				"database.hostname": "db", "database.user": "u", "database.server.id": "1", "topic.prefix": "p",
				"schema.history.internal.kafka.topic": "h", "offset.storage.file.filename": "/o", "bootstrap.servers": "127.0.0.1:9092",
				"key.converter": config.AvroConverterClass, "value.converter": config.AvroConverterClass,
				"value.converter.schema.registry.ssl.truststore.location": certs.CAFile,
				"value.converter.schema.registry.ssl.keystore.location":   certs.ClientFile,
				"value.converter.schema.registry.ssl.keystore.type":       "PEM",
			}
			for k, v := range tc.keys(base) {
				m[k] = v
			}
			cfg, _, err := config.FromMap(m)
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			r, ok := registryCheck(t.Context(), cfg)
			fmt.Fprintf(&out, "%s %s %s\n", r.Name, r.Detail, r.Fix)
			if !ok || !r.OK {
				t.Fatalf("registryCheck = %+v, want PASS", r)
			}

			// A registry outage: the retry warnings name the registry, never a credential.
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			ac, err := AvroConfig(cfg, log)
			if err != nil {
				t.Fatal(err)
			}
			failing.Store(true)
			ctx, cancel := context.WithTimeout(t.Context(), 800*time.Millisecond) // three attempts at the default backoff
			_, err = ac.Registry.Register(ctx, "p.db.t-value", `{"type":"string"}`)
			cancel()
			if err == nil {
				t.Fatal("registered during the outage")
			}
			if !strings.Contains(logs.String(), "schema registry unavailable; retrying") {
				t.Errorf("no retry warning during the outage:\n%s", logs.String())
			}
			fmt.Fprintf(&out, "%s\n%v\n", logs.String(), err)
			failing.Store(false)
			if _, err := ac.Registry.Register(t.Context(), "p.db.t-value", `{"type":"string"}`); err != nil {
				t.Fatalf("register after the outage: %v", err)
			}
			down := map[string]string{}
			deadURL := "https://127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
			for k, v := range m {
				down[k] = strings.Replace(strings.Replace(v, base, deadURL, 1), strings.TrimPrefix(base, "https://"), strings.TrimPrefix(deadURL, "https://"), 1)
			}
			cfgDown, _, err := config.FromMap(down)
			if err != nil {
				t.Fatal(err)
			}
			r, _ = registryCheck(t.Context(), cfgDown)
			if r.OK {
				t.Errorf("check passed with the registry down: %+v", r)
			}
			fmt.Fprintf(&out, "%s %s %s\n", r.Name, r.Detail, r.Fix)
			for _, s := range []string{registryPassword, registryToken, registryClient, "oauth-registry-token"} {
				if strings.Contains(out.String(), s) {
					t.Errorf("output holds a credential %q:\n%s", s, out.String())
				}
			}
		})
	}
}

package config

import (
	"context"
	"net/url"
	"strings"

	"github.com/twmb/franz-go/pkg/sasl/oauth"
)

// RegistryBearer is the schema registry's bearer authentication
// (bearer.auth.*, Confluent's BearerAuthCredentialProvider).
type RegistryBearer struct {
	// Source is bearer.auth.credentials.source: STATIC_TOKEN (Token),
	// OAUTHBEARER (client credentials against OAuth.TokenURL) or
	// SASL_OAUTHBEARER_INHERIT (the Kafka producer's OAUTHBEARER token).
	// "" means no bearer auth.
	Source string
	// Token is bearer.auth.token.
	Token Secret
	// OAuth is bearer.auth.issuer.endpoint.url, bearer.auth.client.id,
	// bearer.auth.client.secret and bearer.auth.scope.
	OAuth OAuthBearer
	// LogicalCluster and IdentityPoolID are bearer.auth.logical.cluster
	// and bearer.auth.identity.pool.id, sent as the target-sr-cluster and
	// Confluent-Identity-Pool-Id headers (Confluent Cloud).
	LogicalCluster string
	IdentityPoolID string
	auth           *clientAuth
}

// Equal compares the settings (not the token cache), for go-cmp.
func (b RegistryBearer) Equal(o RegistryBearer) bool {
	return b.Source == o.Source && b.Token.Equal(o.Token) && b.LogicalCluster == o.LogicalCluster &&
		b.IdentityPoolID == o.IdentityPoolID && KafkaClient{SASL: SASL{OAuth: b.OAuth}}.Equal(KafkaClient{SASL: SASL{OAuth: o.OAuth}})
}

// registrySides are the spellings of a registry key, weakest first: the
// worker-level key, then the key converter's, then the value converter's.
var registrySides = []string{"", "key.converter.", "value.converter."}

// registryKey consumes key (and its schema.registry.-prefixed alias) on
// every side and returns the strongest value and the key as written.
func (l *loader) registryKey(key string) (v, src string, ok bool) {
	for _, side := range registrySides {
		for _, k := range []string{side + key, side + "schema.registry." + key} {
			if raw, present := l.m[k]; present {
				delete(l.m, k)
				if strings.TrimSpace(raw) != "" {
					v, src, ok = raw, k, true
				}
			}
		}
	}
	return v, src, ok
}

// parseRegistryAuth reads basic auth, bearer auth and TLS of the schema
// registry. urlUser and urlPassword are the user info the URL held.
func (l *loader) parseRegistryAuth(c *Config, urlUser string, urlPassword Secret) {
	a := &c.Avro
	source, srcKey, _ := l.registryKey("basic.auth.credentials.source")
	info, infoKey, hasInfo := l.registryKey("basic.auth.user.info")
	switch strings.ToUpper(strings.TrimSpace(source)) {
	case "", "USER_INFO":
		if hasInfo {
			user, pass, found := strings.Cut(info, ":")
			if !found {
				l.fail(invalid(infoKey, redacted, "is not user:password", "set user:password"))
			} else {
				a.User, a.Password = user, NewSecret(pass)
			}
		} else if urlUser != "" {
			a.User, a.Password = urlUser, urlPassword // Confluent's client reads it too
		}
	case "URL":
		if urlUser == "" {
			l.fail(invalid(srcKey, source, "needs user:password@ in schema.registry.url", "put the credentials in the URL, or set USER_INFO with basic.auth.user.info"))
		}
		a.User, a.Password = urlUser, urlPassword
	case "SASL_INHERIT":
		a.InheritSASL = true
	default:
		l.fail(invalid(srcKey, source, "is not a credentials source", "set USER_INFO, URL or SASL_INHERIT"))
	}

	b := &a.Bearer
	if v, k, ok := l.registryKey("bearer.auth.credentials.source"); ok {
		b.Source = strings.ToUpper(strings.TrimSpace(v))
		switch b.Source {
		case "STATIC_TOKEN", "OAUTHBEARER", "SASL_OAUTHBEARER_INHERIT":
		case "CUSTOM":
			l.fail(unsupported(k, v, "custom credential provider classes cannot run in Rivulet; use STATIC_TOKEN, OAUTHBEARER or SASL_OAUTHBEARER_INHERIT"))
		default:
			l.fail(invalid(k, v, "is not a bearer credentials source", "set STATIC_TOKEN, OAUTHBEARER or SASL_OAUTHBEARER_INHERIT"))
		}
	}
	tok, tokKey, hasTok := l.registryKey("bearer.auth.token")
	b.Token = NewSecret(strings.TrimSpace(tok))
	endpoint, endpointKey, _ := l.registryKey("bearer.auth.issuer.endpoint.url")
	b.OAuth.ClientID, _, _ = l.registryKey("bearer.auth.client.id")
	secret, _, _ := l.registryKey("bearer.auth.client.secret")
	b.OAuth.ClientSecret = NewSecret(secret)
	b.OAuth.Scope, _, _ = l.registryKey("bearer.auth.scope")
	b.LogicalCluster, _, _ = l.registryKey("bearer.auth.logical.cluster")
	b.IdentityPoolID, _, _ = l.registryKey("bearer.auth.identity.pool.id")
	for _, k := range []string{"bearer.auth.scope.claim.name", "bearer.auth.sub.claim.name", "bearer.auth.cache.expiry.buffer.seconds"} {
		l.registryKey(k) // Rivulet does not read the token's claims; it refreshes at 80% of its lifetime
	}
	switch b.Source {
	case "STATIC_TOKEN":
		if !hasTok {
			l.fail(invalid("bearer.auth.token", "", "is not set", "set the token, or another bearer.auth.credentials.source"))
		}
	case "OAUTHBEARER":
		u, err := url.Parse(strings.TrimSpace(endpoint))
		if endpoint == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			l.fail(invalid("bearer.auth.issuer.endpoint.url", RedactURL(endpoint), "is not an http or https URL", "set the identity provider's token endpoint"))
		} else {
			b.OAuth.TokenURL = u.String()
		}
		if b.OAuth.ClientID == "" || b.OAuth.ClientSecret.IsZero() {
			l.fail(invalid("bearer.auth.client.id", b.OAuth.ClientID, "needs bearer.auth.client.secret with it", "set both"))
		}
		b.auth = &clientAuth{}
	case "":
		if hasTok {
			l.warn(tokKey+" is not used: bearer.auth.credentials.source is not set; set STATIC_TOKEN", tokKey)
		}
		_ = endpointKey
	}
	if b.Source != "" && (a.User != "" || a.InheritSASL) {
		l.fail(invalid("bearer.auth.credentials.source", b.Source, "is set together with basic auth", "use one of basic.auth.* and bearer.auth.*"))
	}

	// TLS: schema.registry.ssl.* on each side.
	p := clientProps{vals: map[string]string{}, sources: map[string]string{}}
	for _, k := range clientKeys {
		sub, ok := strings.CutPrefix(k, "ssl.")
		if !ok {
			continue
		}
		for _, side := range registrySides {
			full := side + "schema.registry.ssl." + sub
			if v, present := l.m[full]; present {
				delete(l.m, full)
				if strings.TrimSpace(v) != "" || k == "ssl.endpoint.identification.algorithm" {
					p.vals[k], p.sources[k] = v, full
				}
			}
		}
	}
	if len(p.vals) > 0 {
		kc := KafkaClient{Protocol: SSL, sources: p.sources}
		l.kafkaTLS(&kc, p)
		a.TLS = &kc.TLS
	}
}

// splitURLUser returns u without user info, and the user and password it held.
func splitURLUser(u string) (clean, user, pass string) {
	pu, err := url.Parse(u)
	if err != nil || pu.User == nil {
		return u, "", ""
	}
	user = pu.User.Username()
	pass, _ = pu.User.Password()
	pu.User = nil
	return pu.String(), user, pass
}

// BearerToken returns the function that gives the registry's bearer token,
// or nil without bearer auth. SASL_OAUTHBEARER_INHERIT shares the Kafka
// producer's token cache.
func (c *Config) BearerToken() func(context.Context) (string, error) {
	b := c.Avro.Bearer
	switch b.Source {
	case "STATIC_TOKEN":
		tok := b.Token.Reveal()
		return func(context.Context) (string, error) { return tok, nil }
	case "OAUTHBEARER":
		return tokenString(b.auth.token(b.OAuth))
	case "SASL_OAUTHBEARER_INHERIT":
		kc := c.Kafka.Client(RoleProducer)
		if kc.auth == nil {
			return nil
		}
		return tokenString(kc.auth.token(kc.SASL.OAuth))
	}
	return nil
}

func tokenString(fn func(context.Context) (oauth.Auth, error)) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		t, err := fn(ctx)
		if err != nil {
			return "", err
		}
		return t.Token, nil
	}
}

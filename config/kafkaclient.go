package config

import (
	"crypto/tls"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"time"
)

// KafkaRole is one kind of Kafka client Rivulet opens. Each role reads the
// worker-level client keys (security.protocol, sasl.*, ssl.*, client.id,
// request.timeout.ms) overlaid with its own prefixes, later ones winning,
// as Kafka Connect and Debezium configure their clients.
type KafkaRole uint8

// Kafka client roles.
const (
	// RoleProducer is the change-event producer (sink), the heartbeat and
	// the offsets producer: producer.*, then producer.override.*.
	RoleProducer KafkaRole = iota
	// RoleConsumer reads the offsets topic: consumer.*.
	RoleConsumer
	// RoleAdmin creates topics and answers `rivulet check`: admin.*.
	RoleAdmin
	// RoleHistoryProducer writes the schema history and creates its
	// topic: schema.history.internal.producer.*.
	RoleHistoryProducer
	// RoleHistoryConsumer reads the schema history:
	// schema.history.internal.consumer.*.
	RoleHistoryConsumer
	// RoleSignalConsumer reads the Kafka signal channel: signal.consumer.*.
	RoleSignalConsumer

	numKafkaRoles
)

// rolePrefixes are each role's key prefixes, weakest first.
var rolePrefixes = [numKafkaRoles][]string{
	RoleProducer:        {"producer.", "producer.override."},
	RoleConsumer:        {"consumer."},
	RoleAdmin:           {"admin.", "admin.override."}, // admin.override.: a source connector's topic creation client in Connect
	RoleHistoryProducer: {"schema.history.internal.producer."},
	RoleHistoryConsumer: {"schema.history.internal.consumer."},
	RoleSignalConsumer:  {"signal.consumer."},
}

// String names the role as its key prefix does.
func (r KafkaRole) String() string {
	switch r {
	case RoleProducer:
		return "producer"
	case RoleConsumer:
		return "consumer"
	case RoleAdmin:
		return "admin"
	case RoleHistoryProducer:
		return "schema history producer"
	case RoleHistoryConsumer:
		return "schema history consumer"
	case RoleSignalConsumer:
		return "signal consumer"
	}
	return fmt.Sprintf("role %d", uint8(r))
}

// SecurityProtocol is Kafka's security.protocol.
type SecurityProtocol string

// Security protocols, as Kafka's SecurityProtocol.
const (
	Plaintext     SecurityProtocol = "PLAINTEXT"
	SSL           SecurityProtocol = "SSL"
	SASLPlaintext SecurityProtocol = "SASL_PLAINTEXT"
	SASLSSL       SecurityProtocol = "SASL_SSL"
)

// TLS reports whether the protocol encrypts.
func (p SecurityProtocol) TLS() bool { return p == SSL || p == SASLSSL }

// SASL reports whether the protocol authenticates with SASL.
func (p SecurityProtocol) SASL() bool { return p == SASLPlaintext || p == SASLSSL }

// SASL mechanisms (sasl.mechanism) Rivulet implements.
const (
	MechanismPlain       = "PLAIN"
	MechanismSCRAM256    = "SCRAM-SHA-256"
	MechanismSCRAM512    = "SCRAM-SHA-512"
	MechanismOAuthBearer = "OAUTHBEARER"
	MechanismMSKIAM      = "AWS_MSK_IAM"
)

// KafkaClient is the connection and authentication setting of one Kafka
// client role, resolved from the keys at load time. Options turns it into
// franz-go options.
type KafkaClient struct {
	// Protocol is security.protocol. Default PLAINTEXT.
	Protocol SecurityProtocol
	// TLS holds the ssl.* keys; used when Protocol is SSL or SASL_SSL.
	TLS KafkaTLS
	// SASL holds sasl.mechanism and the credentials read from
	// sasl.jaas.config; used when Protocol is SASL_*.
	SASL SASL
	// ClientID is client.id; "" means the role's default.
	ClientID string
	// RequestTimeout is request.timeout.ms; 0 means franz-go's default.
	RequestTimeout time.Duration
	// auth caches tokens and AWS credentials for OAUTHBEARER and
	// AWS_MSK_IAM; roles with the same login share one.
	auth *clientAuth
	// sources names, for each key the role read, the key as written
	// (such as producer.override.sasl.jaas.config), for error messages.
	sources map[string]string
}

// Source returns the key as written that set key (such as
// "producer.override.security.protocol" for "security.protocol"), or key
// itself when the role took the worker-level key or the default.
func (c KafkaClient) Source(key string) string {
	if s, ok := c.sources[key]; ok {
		return s
	}
	return key
}

// KafkaTLS is the ssl.* keys of one client role.
type KafkaTLS struct {
	// TruststoreLocation, TruststoreType (JKS, PKCS12 or PEM; default JKS
	// as in Kafka, PEM when the file is PEM) and TruststorePassword are
	// ssl.truststore.*; TruststoreCertificates is
	// ssl.truststore.certificates (inline PEM). Neither: the system roots.
	TruststoreLocation     string
	TruststoreType         string
	TruststorePassword     Secret
	TruststoreCertificates string
	// KeystoreLocation, KeystoreType, KeystorePassword and KeyPassword
	// (ssl.key.password) are ssl.keystore.*; KeystoreCertificateChain and
	// KeystoreKey are the inline PEM forms ssl.keystore.certificate.chain
	// and ssl.keystore.key. Set for mutual TLS.
	KeystoreLocation         string
	KeystoreType             string
	KeystorePassword         Secret
	KeyPassword              Secret
	KeystoreCertificateChain string
	KeystoreKey              Secret
	// NoHostnameCheck is ssl.endpoint.identification.algorithm set empty:
	// the broker's certificate chain is verified, its host name is not.
	// Default false (Kafka's "https").
	NoHostnameCheck bool
	// MinVersion is the oldest TLS version from ssl.protocol /
	// ssl.enabled.protocols (tls.VersionTLS12 by default).
	MinVersion uint16
}

// SASL is the authentication of one client role.
type SASL struct {
	// Mechanism is sasl.mechanism: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512,
	// OAUTHBEARER or AWS_MSK_IAM.
	Mechanism string
	// User and Password are the PlainLoginModule / ScramLoginModule
	// username and password.
	User     string
	Password Secret
	// OAuth is the client-credentials login of OAUTHBEARER.
	OAuth OAuthBearer
	// IAM is the AWS_MSK_IAM login.
	IAM MSKIAM
}

// OAuthBearer is Kafka's OIDC client-credentials login
// (OAuthBearerLoginCallbackHandler): a token from TokenURL, sent as the
// OAUTHBEARER token and fetched again before it expires.
type OAuthBearer struct {
	// TokenURL is sasl.oauthbearer.token.endpoint.url.
	TokenURL string
	// ClientID, ClientSecret and Scope are the JAAS options clientId,
	// clientSecret and scope.
	ClientID     string
	ClientSecret Secret
	Scope        string
	// Extensions are the JAAS options extension_<name> (Confluent Cloud's
	// logicalCluster and identityPoolId), sent as SASL extensions.
	Extensions map[string]string
	// ConnectTimeout and ReadTimeout are sasl.login.connect.timeout.ms
	// and sasl.login.read.timeout.ms; 0 means 10s each.
	ConnectTimeout time.Duration
	ReadTimeout    time.Duration
}

// MSKIAM is the AWS_MSK_IAM login of Amazon MSK's IAMLoginModule:
// credentials from the standard AWS chain (environment, shared files and
// awsProfileName, EKS IRSA web identity, EKS Pod Identity and ECS container
// credentials, EC2 instance role), optionally exchanged for awsRoleArn's.
type MSKIAM struct {
	// Profile is awsProfileName.
	Profile string
	// RoleARN, RoleSessionName and RoleExternalID are awsRoleArn,
	// awsRoleSessionName and awsRoleExternalId: a role assumed with the
	// chain's credentials.
	RoleARN         string
	RoleSessionName string
	RoleExternalID  string
	// STSRegion is awsStsRegion, the region of the STS endpoint used to
	// assume RoleARN.
	STSRegion string
}

// defaultClients are the client settings when no key is set: PLAINTEXT.
func defaultClients() [numKafkaRoles]KafkaClient {
	var out [numKafkaRoles]KafkaClient
	for r := range out {
		out[r] = KafkaClient{Protocol: Plaintext, TLS: KafkaTLS{MinVersion: tls.VersionTLS12}}
	}
	return out
}

// clientKeys are the keys every client role reads (unprefixed or with one
// of its prefixes).
var clientKeys = []string{
	"security.protocol",
	"sasl.mechanism", "sasl.jaas.config",
	"sasl.client.callback.handler.class", "sasl.login.callback.handler.class", "sasl.login.class",
	"sasl.oauthbearer.token.endpoint.url", "sasl.oauthbearer.scope.claim.name", "sasl.oauthbearer.sub.claim.name",
	"sasl.login.connect.timeout.ms", "sasl.login.read.timeout.ms",
	"sasl.login.refresh.window.factor", "sasl.login.refresh.window.jitter",
	"sasl.login.refresh.min.period.seconds", "sasl.login.refresh.buffer.seconds",
	"sasl.login.retry.backoff.ms", "sasl.login.retry.backoff.max.ms",
	"sasl.kerberos.service.name",
	"ssl.truststore.location", "ssl.truststore.password", "ssl.truststore.type", "ssl.truststore.certificates",
	"ssl.keystore.location", "ssl.keystore.password", "ssl.keystore.type",
	"ssl.keystore.key", "ssl.keystore.certificate.chain", "ssl.key.password",
	"ssl.endpoint.identification.algorithm", "ssl.protocol", "ssl.enabled.protocols",
	"client.id", "request.timeout.ms", "client.dns.lookup",
}

// clientKeysNoEffect are client keys whose work franz-go does on its own
// (token refresh timing, login retries): accepted, and said so once.
var clientKeysNoEffect = map[string]string{
	"sasl.oauthbearer.scope.claim.name":     "it is read by brokers validating tokens, not by clients",
	"sasl.oauthbearer.sub.claim.name":       "it is read by brokers validating tokens, not by clients",
	"sasl.login.refresh.window.factor":      "Rivulet fetches a new token at 80% of its lifetime, Kafka's default",
	"sasl.login.refresh.window.jitter":      "Rivulet fetches a new token at 80% of its lifetime, Kafka's default",
	"sasl.login.refresh.min.period.seconds": "Rivulet fetches a new token at 80% of its lifetime, Kafka's default",
	"sasl.login.refresh.buffer.seconds":     "Rivulet fetches a new token at 80% of its lifetime, Kafka's default",
	"sasl.login.retry.backoff.ms":           "a failed token request fails the connection attempt, which franz-go retries with its own backoff",
	"sasl.login.retry.backoff.max.ms":       "a failed token request fails the connection attempt, which franz-go retries with its own backoff",
	"client.dns.lookup":                     "Go's dialer tries every address a broker's name resolves to, as use_all_dns_ips does",
}

// noEffectReason is the reason of clientKeysNoEffect for k, which may carry
// a role prefix.
func noEffectReason(k string) string {
	for base, why := range clientKeysNoEffect {
		if k == base || strings.HasSuffix(k, "."+base) {
			return why
		}
	}
	return ""
}

// clientProps is one role's client keys: value and the key as written.
type clientProps struct {
	vals    map[string]string
	sources map[string]string
}

func (p clientProps) get(key string) (string, bool) {
	v, ok := p.vals[key]
	return v, ok && strings.TrimSpace(v) != ""
}

// parseKafkaClients resolves every role's client keys and consumes them.
// Errors name the key as written; a key shared by several roles is
// reported once.
func (l *loader) parseKafkaClients(c *Config) {
	var props [numKafkaRoles]clientProps
	consumed := map[string]bool{}
	for r := range numKafkaRoles {
		p := clientProps{vals: map[string]string{}, sources: map[string]string{}}
		for _, k := range clientKeys {
			for _, full := range append([]string{k}, prefixed(rolePrefixes[r], k)...) {
				if v, ok := l.m[full]; ok {
					consumed[full] = true
					if strings.TrimSpace(v) == "" && k != "ssl.endpoint.identification.algorithm" {
						continue // blank means the default, as in Connect
					}
					p.vals[k], p.sources[k] = v, full
				}
			}
		}
		props[r] = p
	}
	for k := range consumed {
		delete(l.m, k)
	}
	noEffect := map[string]bool{}
	auths := map[string]*clientAuth{}
	for r := range numKafkaRoles {
		kc := l.kafkaClient(props[r], c.Kafka.ServerProtocol, noEffect)
		if m := kc.SASL.Mechanism; m == MechanismOAuthBearer || m == MechanismMSKIAM {
			o := kc.SASL.OAuth
			id := fmt.Sprint(m, o.TokenURL, o.ClientID, o.ClientSecret.Reveal(), o.Scope, o.Extensions, kc.SASL.IAM)
			if auths[id] == nil {
				auths[id] = &clientAuth{}
			}
			kc.auth = auths[id]
		}
		c.Kafka.Clients[r] = kc
	}
	if len(noEffect) > 0 {
		keys := make([]string, 0, len(noEffect))
		for k := range noEffect {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + " (" + noEffectReason(k) + ")"
		}
		l.warn("Kafka client keys with no effect in Rivulet: "+strings.Join(parts, ", "), keys...)
	}
}

func prefixed(prefixes []string, key string) []string {
	out := make([]string, len(prefixes))
	for i, p := range prefixes {
		out[i] = p + key
	}
	return out
}

// failOnce records e unless its key already has an error (a worker-level
// key is read by every role).
func (l *loader) failOnce(e *FieldError) {
	if !l.bad[e.Key] {
		l.fail(e)
	}
}

// kafkaClient builds one role's setting from its keys. serverProtocol is
// the protocol named by a bootstrap.servers prefix ("" when none).
func (l *loader) kafkaClient(p clientProps, serverProtocol SecurityProtocol, noEffect map[string]bool) KafkaClient {
	kc := KafkaClient{Protocol: Plaintext, sources: p.sources}
	if v, ok := p.get("security.protocol"); ok {
		switch sp := SecurityProtocol(strings.ToUpper(strings.TrimSpace(v))); sp {
		case Plaintext, SSL, SASLPlaintext, SASLSSL:
			kc.Protocol = sp
		default:
			l.failOnce(invalid(kc.Source("security.protocol"), v, "is not a security protocol", "set PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL"))
		}
	} else if serverProtocol != "" {
		kc.Protocol = serverProtocol
	}
	if v, ok := p.get("client.id"); ok {
		kc.ClientID = strings.TrimSpace(v)
	}
	if v, ok := p.get("request.timeout.ms"); ok {
		kc.RequestTimeout = l.clientMillis(kc.Source("request.timeout.ms"), v)
	}
	for k := range clientKeysNoEffect {
		if _, ok := p.get(k); ok {
			noEffect[kc.Source(k)] = true
		}
	}
	if v, ok := p.get("sasl.kerberos.service.name"); ok && kc.Protocol.SASL() {
		l.failOnce(unsupported(kc.Source("sasl.kerberos.service.name"), v, "Kerberos (GSSAPI) is not implemented; use SCRAM, OAUTHBEARER or AWS_MSK_IAM"))
	}
	l.kafkaTLS(&kc, p)
	l.kafkaSASL(&kc, p)
	return kc
}

// clientMillis parses a client *.ms value; 0 on error (reported).
func (l *loader) clientMillis(key, v string) time.Duration {
	var n int64
	if _, err := fmt.Sscan(strings.TrimSpace(v), &n); err != nil || n < 0 || n > math.MaxInt64/int64(time.Millisecond) {
		l.failOnce(invalid(key, v, "is not a number of milliseconds", "set a non-negative integer"))
		return 0
	}
	return time.Duration(n) * time.Millisecond
}

// parseServerProtocol reads the listener prefix of bootstrap.servers
// ("SASL_SSL://broker:9096"). Kafka clients ignore it and take
// security.protocol alone; Rivulet uses it when security.protocol is not
// set anywhere, and refuses a prefix that contradicts it.
func (l *loader) parseServerProtocol(c *Config, raw string) {
	var found SecurityProtocol
	for _, s := range strings.Split(raw, ",") {
		s = strings.TrimSpace(s)
		i := strings.Index(s, "://")
		if i < 0 {
			continue
		}
		sp := SecurityProtocol(strings.ToUpper(s[:i]))
		switch sp {
		case Plaintext, SSL, SASLPlaintext, SASLSSL:
		default:
			l.fail(invalid("bootstrap.servers", raw, "has the prefix "+s[:i]+"://, which is not a security protocol",
				"remove the prefix and set security.protocol (PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL)"))
			return
		}
		if found != "" && found != sp {
			l.fail(invalid("bootstrap.servers", raw, "mixes the prefixes "+string(found)+":// and "+string(sp)+"://",
				"use one security protocol for all brokers and set it as security.protocol"))
			return
		}
		found = sp
	}
	if found == "" {
		return
	}
	anySet := ""
	for _, k := range l.sortedKeys() {
		if (k == "security.protocol" || strings.HasSuffix(k, ".security.protocol")) && l.has(k) {
			anySet = k
		}
	}
	switch bare := strings.TrimSpace(l.m["security.protocol"]); {
	case bare != "" && !strings.EqualFold(bare, string(found)):
		l.fail(invalid("bootstrap.servers", raw, "names the "+string(found)+" listener but security.protocol is "+bare,
			"make them agree: the prefix is only a hint, security.protocol decides"))
	case bare == "":
		// Clients whose security.protocol is not set use the prefix's.
		c.Kafka.ServerProtocol = found
		if anySet == "" && found != Plaintext {
			l.warn(fmt.Sprintf("bootstrap.servers names the %s listener but security.protocol is not set: Rivulet connects with %s (Kafka clients ignore the prefix and would use PLAINTEXT); set security.protocol=%s", found, found, found), "bootstrap.servers", "security.protocol")
		}
	}
}

// Equal reports whether c and o hold the same settings (token caches and
// key spellings aside); go-cmp uses it.
func (c KafkaClient) Equal(o KafkaClient) bool {
	c.auth, c.sources, o.auth, o.sources = nil, nil, nil, nil
	if len(c.SASL.OAuth.Extensions) == 0 && len(o.SASL.OAuth.Extensions) == 0 {
		c.SASL.OAuth.Extensions, o.SASL.OAuth.Extensions = nil, nil
	}
	return reflect.DeepEqual(c, o)
}

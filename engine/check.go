package engine

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/config"
)

// Check runs `rivulet check`: the database prerequisites, every distinct
// Kafka client, the stored position, and the schema registry with the Avro
// converter; one result per line, in that order.
func Check(ctx context.Context, cfg *config.Config) []binlog.CheckResult {
	results := binlog.Preflight(ctx, PreflightConfig(cfg))
	results = append(results, kafkaChecks(ctx, cfg)...)
	results = append(results, storedPositionCheck(ctx, cfg, results))
	if r, ok := registryCheck(ctx, cfg); ok { // AvroConverter (avro.go)
		results = append(results, r)
	}
	return results
}

// CheckStoredPosition names the check of the stored offsets against the
// server's binlogs.
const CheckStoredPosition = "stored position"

// storedPositionCheck reads the stored offsets (without locking: a running
// connector may hold them) and says whether the server can continue from
// them, as `rivulet run` checks before streaming (checkStart): a gap the
// server's binlogs no longer cover (purged) or a server that never had the
// position fails with the remedies; with a snapshot mode that takes a new
// snapshot or starts afresh then, it warns instead.
func storedPositionCheck(ctx context.Context, cfg *config.Config, before []binlog.CheckResult) binlog.CheckResult {
	r := binlog.CheckResult{Name: CheckStoredPosition}
	if cfg.Offsets.FileFilename == "" && cfg.Kafka.Embedded() {
		r.OK, r.Detail = true, "offsets live in the embedded broker inside `rivulet run`: not checked"
		return r
	}
	// Without the server, or the Kafka cluster that holds the offsets, the
	// lines above already fail: do not wait on them a second time.
	kafkaStore := cfg.Offsets.FileFilename == "" && cfg.Offsets.Topic != ""
	for _, b := range before {
		if !b.OK && (b.Name == binlog.CheckConnection || kafkaStore && strings.HasPrefix(b.Name, "kafka")) {
			r.OK, r.Warning, r.Detail = true, true, "not checked: "+b.Name+" failed"
			return r
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	store, where, err := NewStore(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		r.OK, r.Warning, r.Detail = true, true, "cannot open the offsets store: "+err.Error()
		return r
	}
	defer store.Close()
	pos, found, err := store.Load(ctx)
	switch {
	case err != nil:
		r.OK, r.Warning, r.Detail = true, true, "cannot read the stored offsets from "+where+": "+err.Error()
		return r
	case !found:
		r.OK, r.Detail = true, fmt.Sprintf("none in %s: the first start begins as snapshot.mode=%s says", where, cfg.SnapshotMode)
		return r
	}
	how, err := CheckStored(ctx, cfg, pos)
	if err == nil {
		r.OK, r.Detail = true, how
		return r
	}
	r.Detail = err.Error()
	var be *binlog.Error
	if errors.As(err, &be) {
		r.Detail, r.Fix = be.Message(), be.Hint
	}
	if !errors.Is(err, binlog.ErrPositionNotFound) && !errors.Is(err, binlog.ErrServerChanged) &&
		!errors.Is(err, binlog.ErrConfig) && !errors.Is(err, binlog.ErrCorruptEvent) {
		// Not a verdict on the position (the server could not be asked).
		r.OK, r.Warning, r.Detail = true, true, "not checked: "+err.Error()
	}
	if errors.Is(err, binlog.ErrPositionNotFound) {
		switch cfg.Plan().OnPurged {
		case "snapshot":
			r.OK, r.Warning = true, true
			r.Detail += fmt.Sprintf("; snapshot.mode=%s takes a new snapshot then", cfg.SnapshotMode)
		case "current":
			r.OK, r.Warning = true, true
			r.Detail += "; snapshot.on.data.error starts afresh from the current position then: the changes in between are NOT captured"
		}
	}
	return r
}

// kafkaTarget is one Kafka client Rivulet opens: its role and brokers.
type kafkaTarget struct {
	name    string
	role    config.KafkaRole
	brokers []string
}

// kafkaTargets lists every distinct Kafka client Rivulet opens (the admin
// client, then each role whose brokers or security differ: the producer
// with its producer.override.* keys, the schema history's and the signal
// consumer's); none when Kafka is not used or is the embedded broker.
func kafkaTargets(cfg *config.Config) []kafkaTarget {
	if (cfg.Sink == config.SinkStdout && (cfg.Offsets.Topic == "" || cfg.Offsets.FileFilename != "") && cfg.SchemaHistory.Store != config.HistoryKafka) ||
		cfg.Kafka.Embedded() {
		return nil
	}
	targets := []kafkaTarget{{"kafka", config.RoleAdmin, cfg.Kafka.BootstrapServers}}
	if cfg.Sink == config.SinkKafka {
		targets = append(targets, kafkaTarget{"kafka producer", config.RoleProducer, cfg.Kafka.BootstrapServers})
	}
	if cfg.SchemaHistory.Store == config.HistoryKafka && len(cfg.SchemaHistory.KafkaBootstrapServers) > 0 {
		targets = append(targets,
			kafkaTarget{"kafka schema history", config.RoleHistoryProducer, cfg.SchemaHistory.KafkaBootstrapServers},
			kafkaTarget{"kafka schema history", config.RoleHistoryConsumer, cfg.SchemaHistory.KafkaBootstrapServers})
	}
	if cfg.Signal.Kafka {
		b := cfg.Signal.KafkaBootstrapServers
		if len(b) == 0 {
			b = cfg.Kafka.BootstrapServers
		}
		targets = append(targets, kafkaTarget{"kafka signals", config.RoleSignalConsumer, b})
	}
	seen := map[string]bool{}
	out := targets[:0]
	for _, tg := range targets {
		id := strings.Join(tg.brokers, ",") + " " + cfg.Kafka.Client(tg.role).Describe()
		if !seen[id] {
			seen[id] = true
			out = append(out, tg)
		}
	}
	return out
}

// kafkaChecks connects every distinct Kafka client Rivulet opens and asks
// for cluster metadata: one line each.
func kafkaChecks(ctx context.Context, cfg *config.Config) []binlog.CheckResult {
	switch {
	case cfg.Kafka.Embedded():
		return []binlog.CheckResult{{Name: "kafka", OK: true, Detail: "bootstrap.servers=embedded: an in-process broker is started by run"}}
	case len(kafkaTargets(cfg)) == 0:
		return []binlog.CheckResult{{Name: "kafka", OK: true, Detail: "sink.type=stdout: Kafka is not used"}}
	}
	var out []binlog.CheckResult
	for _, tg := range kafkaTargets(cfg) {
		out = append(out, kafkaCheck(ctx, cfg, tg.name, tg.role, tg.brokers))
	}
	return out
}

// kafkaCheck connects one client role to brokers and asks for metadata.
func kafkaCheck(ctx context.Context, cfg *config.Config, name string, role config.KafkaRole, brokers []string) binlog.CheckResult {
	r := binlog.CheckResult{Name: name}
	client := cfg.Kafka.Client(role)
	servers := strings.Join(brokers, ",")
	if err := kafkaPing(ctx, cfg, role, brokers); err != nil {
		var ce *clientError
		if errors.As(err, &ce) {
			r.Detail, r.Fix = ce.err.Error(), ce.fix
			return r
		}
		r.Detail = fmt.Sprintf("cannot reach %s (%s): %v", servers, client.Describe(), err)
		r.Fix, _ = kafkaFix(client, err)
		return r
	}
	r.OK, r.Detail = true, "reachable at "+servers+" ("+client.Describe()+")"
	return r
}

// clientError is a client that could not be built: its error and fix.
type clientError struct {
	err error
	fix string
}

func (e *clientError) Error() string { return e.err.Error() }

// kafkaPing connects one client role to brokers and asks for metadata,
// within 10 s.
func kafkaPing(ctx context.Context, cfg *config.Config, role config.KafkaRole, brokers []string) error {
	opts, err := KafkaOpts(cfg, role, kgo.SeedBrokers(brokers...), kgo.DialTimeout(5*time.Second))
	if err != nil {
		return &clientError{err, "check the ssl.* keys"}
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return &clientError{err, "check bootstrap.servers"}
	}
	defer cl.Close()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return cl.Ping(pctx)
}

// kafkaLogin connects every distinct Kafka client once before run opens its
// stores, so that a TLS or SASL failure stops Rivulet at once with the
// setting to change, instead of surfacing later as a failed topic creation.
// Other failures (a broker not up yet) are left to the stages' own retries,
// logged once here with what to check should they not pass; the start waits
// at most one ping timeout (10 s) for them.
func kafkaLogin(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	for _, tg := range kafkaTargets(cfg) {
		err := kafkaPing(ctx, cfg, tg.role, tg.brokers)
		if err == nil {
			continue
		}
		client := cfg.Kafka.Client(tg.role)
		fix, permanent := kafkaFix(client, err)
		if permanent {
			return fmt.Errorf("%w: %s cannot log in to %s (%s): %w; %s", config.ErrInvalid, tg.name, strings.Join(tg.brokers, ","), client.Describe(), err, fix)
		}
		// The others would most likely wait out the same outage: leave
		// them to the stages rather than delay the start further.
		log.Warn(tg.name+" not reachable yet; retrying in the stages that use it", "brokers", strings.Join(tg.brokers, ","),
			"client", client.Describe(), "err", err, "fix", fix)
		return nil
	}
	return nil
}

// kafkaFix names the setting to change for a failed connection: a TLS or
// SASL failure says so, anything else is about reaching the brokers.
// permanent reports a failure that retrying cannot fix (trust, host name,
// login, mechanism, a listener that does not speak TLS).
func kafkaFix(c config.KafkaClient, err error) (fix string, permanent bool) {
	var (
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		certErr   x509.CertificateInvalidError
		header    tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &unknownCA):
		return "the broker's certificate is not signed by a CA in " + c.Source("ssl.truststore.location") + " (or the system roots); set " + c.Source("ssl.truststore.location") + " or " + c.Source("ssl.truststore.certificates") + " to the CA that signed it", true
	case errors.As(err, &hostErr):
		return "the broker's certificate does not name the host in bootstrap.servers; use the name it was issued for, or set " + c.Source("ssl.endpoint.identification.algorithm") + "= (empty) to skip the host name check, as Kafka does", true
	case errors.As(err, &certErr):
		return "the broker's certificate is not valid (" + certErr.Error() + "); renew it on the broker", true
	case errors.As(err, &header):
		return "the listener does not speak TLS; set " + c.Source("security.protocol") + " to PLAINTEXT or SASL_PLAINTEXT, or use the broker's TLS port", true
	case errors.Is(err, kerr.SaslAuthenticationFailed), errors.Is(err, kerr.IllegalSaslState):
		return "the broker refused the SASL login; check the user and password (or token, or IAM policy) in " + c.Source("sasl.jaas.config") + " and " + c.Source("sasl.mechanism"), true
	case errors.Is(err, kerr.UnsupportedSaslMechanism):
		return "the listener does not offer " + c.SASL.Mechanism + "; set " + c.Source("sasl.mechanism") + " to one it offers", true
	case errors.Is(err, io.EOF) && c.Protocol == config.Plaintext:
		return "the broker closed the connection: if the listener needs TLS or SASL, set security.protocol (SSL, SASL_SSL or SASL_PLAINTEXT) and its keys", false
	case c.Protocol.TLS() && (errors.Is(err, io.EOF) || errors.Is(err, context.DeadlineExceeded)) && strings.Contains(err.Error(), "unable to dial"):
		return "no TLS handshake with the broker: check that bootstrap.servers names the TLS listener's port (or set " + c.Source("security.protocol") +
			" to PLAINTEXT or SASL_PLAINTEXT for a plain listener), and that this host can reach it", false
	case errors.Is(err, io.EOF) && c.SASL.Mechanism != "":
		// Some brokers (and kfake) close the connection on a failed login;
		// a broker going down mid-handshake looks the same, so this is
		// not taken as final.
		return "the broker closed the connection, as some do after a failed SASL login: check the credentials in " + c.Source("sasl.jaas.config") +
			", that the listener offers " + c.SASL.Mechanism + " (" + c.Source("sasl.mechanism") + "), and that it is a SASL listener", false
	}
	return "check bootstrap.servers, " + c.Source("security.protocol") + ", that the brokers run, and that this host can reach them", false
}

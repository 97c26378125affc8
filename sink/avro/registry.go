package avro

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/rivulet-cdc/rivulet/sink"
)

// Defaults of RegistryConfig.
const (
	DefaultRegistryMinBackoff = 100 * time.Millisecond
	DefaultRegistryMaxBackoff = 10 * time.Second
	DefaultRegistryTimeout    = 30 * time.Second
)

// RegistryConfig configures the schema registry client.
type RegistryConfig struct {
	// URLs are the registry's base URLs (schema.registry.url, comma-separated
	// in Connect). Required.
	URLs []string
	// User and Password, when User is set, authenticate with HTTP basic auth
	// (basic.auth.credentials.source=USER_INFO, basic.auth.user.info=user:password).
	User, Password string
	// Bearer, when set, gives the token sent as Authorization: Bearer on
	// every request (bearer.auth.*); it is called per request and caches.
	Bearer func(context.Context) (string, error)
	// Headers are sent on every request (Confluent Cloud's
	// target-sr-cluster and Confluent-Identity-Pool-Id).
	Headers map[string]string
	// TLS, when set, is the client TLS configuration for https URLs
	// (schema.registry.ssl.*: a private CA, a client certificate).
	TLS *tls.Config
	// MinBackoff and MaxBackoff bound the wait between attempts while the
	// registry is unavailable (doubling from MinBackoff); defaults
	// DefaultRegistryMinBackoff and DefaultRegistryMaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// Timeout bounds one HTTP request; default DefaultRegistryTimeout.
	Timeout time.Duration
	// Logger receives a warning per failed attempt. nil discards.
	Logger *slog.Logger
}

// Registry registers schemas with a Confluent-compatible schema registry
// through franz-go's sr client, caching the id of every (subject, schema)
// registered, so that each schema costs one request per process.
//
// While the registry is unreachable or answers 5xx (or 408/429), Register
// retries with capped exponential backoff until it succeeds or its context
// ends: the caller blocks, nothing is dropped. A refusal (4xx: incompatible
// or invalid schema, unauthorised) is returned at once as a
// *RegistryError.
type Registry struct {
	cl  *sr.Client
	cfg RegistryConfig
	log *slog.Logger

	mu  sync.Mutex
	ids map[registryKey]int
}

type registryKey struct{ subject, schema string }

// RegistryError is a registry's refusal to register a schema.
type RegistryError struct {
	Subject string
	Status  int // HTTP status
	Code    int // the registry's error_code
	Message string
}

func (e *RegistryError) Error() string {
	msg := fmt.Sprintf("schema registry refused the schema of subject %s: HTTP %d, error %d: %s", e.Subject, e.Status, e.Code, e.Message)
	if e.Status == http.StatusConflict {
		msg += " (the new schema is not compatible with the subject's earlier versions under its compatibility level)"
	}
	return msg
}

// NewRegistry returns a registry client. It does not contact the registry.
func NewRegistry(cfg RegistryConfig) (*Registry, error) {
	if len(cfg.URLs) == 0 {
		return nil, fmt.Errorf("%w: no schema registry URL; set schema.registry.url", sink.ErrConfig)
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultRegistryMinBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultRegistryMaxBackoff
	}
	cfg.MaxBackoff = max(cfg.MaxBackoff, cfg.MinBackoff)
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultRegistryTimeout
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if cfg.TLS != nil {
		transport.TLSClientConfig = cfg.TLS
	}
	opts := []sr.ClientOpt{
		sr.URLs(cfg.URLs...),
		sr.HTTPClient(&http.Client{Timeout: cfg.Timeout, Transport: transport}),
		sr.UserAgent("rivulet"),
	}
	if cfg.User != "" {
		opts = append(opts, sr.BasicAuth(cfg.User, cfg.Password))
	}
	if cfg.Bearer != nil || len(cfg.Headers) > 0 {
		bearer, headers := cfg.Bearer, cfg.Headers
		opts = append(opts, sr.PreReq(func(req *http.Request) error {
			for k, v := range headers {
				req.Header.Set(k, v)
			}
			if bearer == nil {
				return nil
			}
			tok, err := bearer(req.Context())
			if err != nil {
				return fmt.Errorf("schema registry bearer token: %w", err)
			}
			req.Header.Set("Authorization", "Bearer "+tok)
			return nil
		}))
	}
	cl, err := sr.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: schema registry client: %w", sink.ErrConfig, err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Registry{cl: cl, cfg: cfg, log: log, ids: make(map[registryKey]int)}, nil
}

// Register registers an Avro schema under subject (or finds it registered)
// and returns its id.
func (r *Registry) Register(ctx context.Context, subject, schema string) (int, error) {
	k := registryKey{subject, schema}
	r.mu.Lock()
	id, ok := r.ids[k]
	r.mu.Unlock()
	if ok {
		return id, nil
	}
	backoff := r.cfg.MinBackoff
	for attempt := 1; ; attempt++ {
		id, err := r.cl.RegisterSchema(ctx, subject, sr.Schema{Schema: schema, Type: sr.TypeAvro}, -1, -1)
		if err == nil {
			r.mu.Lock()
			r.ids[k] = id
			r.mu.Unlock()
			if attempt > 1 {
				r.log.Info("schema registry available again", "subject", subject, "attempts", attempt)
			}
			return id, nil
		}
		if cerr := ctx.Err(); cerr != nil {
			return 0, fmt.Errorf("register schema of subject %s: %w", subject, errors.Join(cerr, err))
		}
		var re *sr.ResponseError
		if errors.As(err, &re) && !retryableStatus(re.StatusCode) {
			return 0, &RegistryError{Subject: subject, Status: re.StatusCode, Code: re.ErrorCode, Message: strings.TrimSpace(re.Message)}
		}
		r.log.Warn("schema registry unavailable; retrying", "subject", subject, "attempt", attempt,
			"retry_in", backoff, "error", err)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, fmt.Errorf("register schema of subject %s: %w", subject, errors.Join(ctx.Err(), err))
		case <-t.C:
		}
		backoff = min(2*backoff, r.cfg.MaxBackoff)
	}
}

// retryableStatus: server errors, timeouts and throttling are worth retrying.
func retryableStatus(status int) bool {
	return status >= 500 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status == 0
}

// SchemaByID returns the text of the schema registered under id, read with
// the same client (TLS, basic or bearer auth, headers) as Register: for
// `rivulet verify`, which decodes what the topics hold.
func (r *Registry) SchemaByID(ctx context.Context, id int) (string, error) {
	s, err := r.cl.SchemaByID(ctx, id)
	if err != nil {
		return "", fmt.Errorf("schema registry %s: schema id %d: %w", strings.Join(r.cfg.URLs, ","), id, err)
	}
	return s.Schema, nil
}

// Ping asks the registry for its subjects (GET /subjects), once, without
// retrying: for `rivulet check`.
func (r *Registry) Ping(ctx context.Context) error {
	if _, err := r.cl.Subjects(ctx); err != nil {
		return fmt.Errorf("schema registry %s: %w", strings.Join(r.cfg.URLs, ","), err)
	}
	return nil
}

package config

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	kaws "github.com/twmb/franz-go/pkg/sasl/aws"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Options returns the franz-go options of this client role: the TLS dialer,
// the SASL mechanism, client.id and request.timeout.ms. Seed brokers are
// the caller's. Put them after a stage's own options so that the user's
// client.id wins. Token and credential caches are shared by every client
// made from the same Config.
func (c KafkaClient) Options() ([]kgo.Opt, error) {
	var o []kgo.Opt
	if c.Protocol.TLS() {
		tc, err := c.TLS.Config()
		if err != nil {
			return nil, err
		}
		o = append(o, kgo.DialTLSConfig(tc))
	}
	if c.Protocol.SASL() {
		m, err := c.mechanism()
		if err != nil {
			return nil, err
		}
		o = append(o, kgo.SASL(m))
	}
	if c.ClientID != "" {
		o = append(o, kgo.ClientID(c.ClientID))
	}
	if c.RequestTimeout > 0 {
		o = append(o, kgo.RequestTimeoutOverhead(c.RequestTimeout), kgo.ProduceRequestTimeout(c.RequestTimeout))
	}
	return o, nil
}

// Describe says how the client connects, without credentials, such as
// "SASL_SSL, SCRAM-SHA-512 as user app" (for `rivulet check`).
func (c KafkaClient) Describe() string {
	s := string(c.Protocol)
	if c.Protocol.TLS() {
		switch {
		case c.TLS.TruststoreLocation != "":
			s += ", trusting " + c.TLS.TruststoreLocation
		case c.TLS.TruststoreCertificates != "":
			s += ", trusting ssl.truststore.certificates"
		default:
			s += ", trusting the system roots"
		}
		if c.TLS.KeystoreLocation != "" || c.TLS.KeystoreCertificateChain != "" {
			s += ", client certificate"
		}
		if c.TLS.NoHostnameCheck {
			s += ", host names not checked"
		}
	}
	if c.Protocol.SASL() {
		s += ", " + c.SASL.Mechanism
		switch c.SASL.Mechanism {
		case MechanismPlain, MechanismSCRAM256, MechanismSCRAM512:
			s += " as user " + c.SASL.User
		case MechanismOAuthBearer:
			s += " as client " + c.SASL.OAuth.ClientID + " from " + c.SASL.OAuth.TokenURL
		case MechanismMSKIAM:
			switch {
			case c.SASL.IAM.RoleARN != "":
				s += " assuming " + c.SASL.IAM.RoleARN
			case c.SASL.IAM.Profile != "":
				s += " with profile " + c.SASL.IAM.Profile
			default:
				s += " with the default AWS credentials"
			}
		}
	}
	return s
}

func (c KafkaClient) mechanism() (sasl.Mechanism, error) {
	s := c.SASL
	switch s.Mechanism {
	case MechanismPlain:
		return plain.Auth{User: s.User, Pass: s.Password.Reveal()}.AsMechanism(), nil
	case MechanismSCRAM256:
		return scram.Auth{User: s.User, Pass: s.Password.Reveal()}.AsSha256Mechanism(), nil
	case MechanismSCRAM512:
		return scram.Auth{User: s.User, Pass: s.Password.Reveal()}.AsSha512Mechanism(), nil
	case MechanismOAuthBearer:
		return oauth.Oauth(c.auth.token(s.OAuth)), nil
	case MechanismMSKIAM:
		return kaws.ManagedStreamingIAM(c.auth.awsAuth(s.IAM)), nil
	}
	return nil, fmt.Errorf("%w: sasl.mechanism %q is not implemented", ErrInvalid, s.Mechanism)
}

// clientAuth caches what a SASL login fetched (an OAuth token, AWS
// credentials) across the connections and clients of one Config.
type clientAuth struct {
	mu       sync.Mutex
	tok      string
	tokUntil time.Time // fetch a new token after this
	creds    awssdk.CredentialsProvider
	// now and httpClient are replaced by tests.
	now func() time.Time
}

// tokenRefreshFactor is Kafka's sasl.login.refresh.window.factor default:
// a token is replaced after 80% of its lifetime.
const tokenRefreshFactor = 0.8

func (a *clientAuth) token(o OAuthBearer) func(context.Context) (oauth.Auth, error) {
	return func(ctx context.Context) (oauth.Auth, error) {
		a.mu.Lock()
		defer a.mu.Unlock()
		now := time.Now()
		if a.now != nil {
			now = a.now()
		}
		if a.tok == "" || !now.Before(a.tokUntil) {
			tok, life, err := fetchToken(ctx, o)
			if err != nil {
				return oauth.Auth{}, err
			}
			a.tok, a.tokUntil = tok, now.Add(time.Duration(float64(life)*tokenRefreshFactor))
		}
		return oauth.Auth{Token: a.tok, Extensions: o.Extensions}, nil
	}
}

// fetchToken asks the token endpoint for a client-credentials token as
// Kafka's HttpAccessTokenRetriever does: a form POST with
// grant_type=client_credentials and scope, the client id and secret in a
// Basic authorization header; the answer's access_token, whose lifetime is
// expires_in or else the JWT's exp claim.
func fetchToken(ctx context.Context, o OAuthBearer) (string, time.Duration, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if o.Scope != "" {
		form.Set("scope", o.Scope)
	}
	ctx, cancel := context.WithTimeout(ctx, max(o.ConnectTimeout, 10*time.Second)+max(o.ReadTimeout, 10*time.Second))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("oauth token request to %s: %w", RedactURL(o.TokenURL), err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(o.ClientID+":"+o.ClientSecret.Reveal())))
	hc := &http.Client{Transport: &http.Transport{
		Proxy:       http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{Timeout: max(o.ConnectTimeout, 10*time.Second)}).DialContext,
	}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL
		}
		return "", 0, fmt.Errorf("oauth token request to %s: %w (check sasl.oauthbearer.token.endpoint.url)", RedactURL(o.TokenURL), err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", 0, fmt.Errorf("oauth token endpoint %s answered %s: %.200s (check clientId, clientSecret and scope in sasl.jaas.config)",
			RedactURL(o.TokenURL), resp.Status, strings.TrimSpace(string(body)))
	}
	var tr struct {
		AccessToken string          `json:"access_token"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		return "", 0, fmt.Errorf("oauth token endpoint %s answered without an access_token", RedactURL(o.TokenURL))
	}
	life := time.Hour
	var secs float64
	if err := json.Unmarshal(tr.ExpiresIn, &secs); err == nil && secs > 0 {
		life = time.Duration(secs * float64(time.Second))
	} else if exp, ok := jwtExpiry(tr.AccessToken); ok {
		life = time.Until(exp)
	}
	return tr.AccessToken, max(life, time.Second), nil
}

// jwtExpiry reads the exp claim of a JWT without checking it (the broker
// does).
func jwtExpiry(tok string) (time.Time, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp float64 `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Exp == 0 {
		return time.Time{}, false
	}
	return time.Unix(int64(claims.Exp), 0), true
}

// awsAuth returns MSK IAM credentials from the standard AWS chain (with
// awsProfileName), exchanged for awsRoleArn's when set; the SDK's cache
// refreshes them before they expire.
func (a *clientAuth) awsAuth(o MSKIAM) func(context.Context) (kaws.Auth, error) {
	return func(ctx context.Context) (kaws.Auth, error) {
		a.mu.Lock()
		p := a.creds
		if p == nil {
			var err error
			if p, err = awsCredentials(ctx, o); err != nil {
				a.mu.Unlock()
				return kaws.Auth{}, err
			}
			a.creds = p
		}
		a.mu.Unlock()
		c, err := p.Retrieve(ctx)
		if err != nil {
			return kaws.Auth{}, fmt.Errorf("aws credentials for AWS_MSK_IAM: %w (give the pod an IAM role (IRSA: AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE), or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or awsProfileName in sasl.jaas.config)", err)
		}
		return kaws.Auth{AccessKey: c.AccessKeyID, SecretKey: c.SecretAccessKey, SessionToken: c.SessionToken, UserAgent: "rivulet"}, nil
	}
}

// awsCredentials builds the credential chain of the AWS SDK: environment,
// shared config and credentials files (profile), web identity (EKS IRSA),
// container credentials (EKS Pod Identity, ECS), EC2 instance role; and
// AssumeRole on top when roleArn is set.
func awsCredentials(ctx context.Context, o MSKIAM) (awssdk.CredentialsProvider, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if o.Profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(o.Profile))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("aws configuration for AWS_MSK_IAM: %w", err)
	}
	if o.RoleARN == "" {
		return cfg.Credentials, nil
	}
	stsClient := sts.NewFromConfig(cfg, func(so *sts.Options) {
		if o.STSRegion != "" {
			so.Region = o.STSRegion
		}
		if so.Region == "" {
			so.Region = "us-east-1" // the global endpoint's signing region
		}
	})
	return awssdk.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, o.RoleARN, func(ao *stscreds.AssumeRoleOptions) {
		ao.RoleSessionName = o.RoleSessionName
		if o.RoleExternalID != "" {
			ao.ExternalID = awssdk.String(o.RoleExternalID)
		}
	})), nil
}

package config

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// saslStub makes a kfake cluster answer the SASL handshake for mechanism
// and hand every authentication payload to check; a payload check refuses
// closes the connection, as a broker does.
func saslStub(t *testing.T, mechanism string, check func([]byte) error, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c := testenv.KafkaCluster(t, opts...)
	c.ControlKey(int16(kmsg.SASLHandshake), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		r := req.(*kmsg.SASLHandshakeRequest)
		resp := r.ResponseKind().(*kmsg.SASLHandshakeResponse)
		resp.SupportedMechanisms = []string{mechanism}
		if r.Mechanism != mechanism {
			resp.ErrorCode = 33 // UNSUPPORTED_SASL_MECHANISM
		}
		return resp, nil, true
	})
	c.ControlKey(int16(kmsg.SASLAuthenticate), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		r := req.(*kmsg.SASLAuthenticateRequest)
		resp := r.ResponseKind().(*kmsg.SASLAuthenticateResponse)
		if err := check(r.SASLAuthBytes); err != nil {
			msg := err.Error()
			resp.ErrorCode, resp.ErrorMessage = 58, &msg // SASL_AUTHENTICATION_FAILED
			return resp, nil, true
		}
		if mechanism == "AWS_MSK_IAM" {
			resp.SASLAuthBytes = []byte(`{"version":"2020_10_22","request-id":"1"}`) // MSK answers a JSON document
		}
		return resp, nil, true
	})
	return c
}

// ping connects with the options of the config's producer role.
func ping(t *testing.T, c *Config, brokers []string) error {
	t.Helper()
	opts, err := c.Kafka.Client(RoleProducer).Options()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	return cl.Ping(ctx)
}

// TestOAuthBearer_TokenEndpoint logs in with OAUTHBEARER as Kafka's OIDC
// login handler does: client credentials against a local token endpoint,
// the token and the Confluent Cloud extensions in the client-first
// message, one token for every connection of every client role until it
// nears expiry.
func TestOAuthBearer_TokenEndpoint(t *testing.T) {
	const secret = "oauth-Cl1ent-S3cret"
	var requests atomic.Int32
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		_ = r.ParseForm()
		if r.Method != http.MethodPost || !ok || user != "rivulet-app" || pass != secret ||
			r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("scope") != "kafka" {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		}
		n := requests.Add(1)
		fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"Bearer","expires_in":3600}`, n)
	}))
	defer idp.Close()

	var mu sync.Mutex
	var seen []string
	cluster := saslStub(t, "OAUTHBEARER", func(b []byte) error {
		// RFC 7628: gs2 header, then \x01-separated key=value, \x01\x01.
		fields := strings.Split(strings.TrimSuffix(strings.TrimPrefix(string(b), "n,,\x01"), "\x01\x01"), "\x01")
		sort.Strings(fields)
		mu.Lock()
		seen = append(seen, strings.Join(fields, " "))
		mu.Unlock()
		if !strings.HasPrefix(fields[0], "auth=Bearer tok-") {
			return errors.New("no bearer token")
		}
		return nil
	})
	m := with("security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", "OAUTHBEARER",
		"sasl.oauthbearer.token.endpoint.url", idp.URL+"/oauth2/token",
		"sasl.login.callback.handler.class", "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler",
		"sasl.jaas.config", `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required clientId="rivulet-app" clientSecret="`+secret+`" scope="kafka" extension_logicalCluster="lkc-1";`)
	c, w := mustFromMap(t, m)
	for _, x := range w {
		if !strings.Contains(x.Message, "unencrypted") {
			t.Errorf("unexpected warning %q", x.Message)
		}
	}
	for range 3 {
		if err := ping(t, c, cluster.ListenAddrs()); err != nil {
			t.Fatalf("ping: %v", err)
		}
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("%d token requests for three clients, want 1 (the token is cached until 80%% of its lifetime)", n)
	}
	mu.Lock()
	if len(seen) == 0 || seen[0] != "auth=Bearer tok-1 logicalCluster=lkc-1" {
		t.Errorf("client-first messages %q, want the token and the extension", seen)
	}
	mu.Unlock()

	// An expired token is fetched again.
	auth := c.Kafka.Client(RoleProducer).auth
	auth.mu.Lock()
	auth.now = func() time.Time { return time.Now().Add(59 * time.Minute) }
	auth.mu.Unlock()
	if err := ping(t, c, cluster.ListenAddrs()); err != nil {
		t.Fatal(err)
	}
	if n := requests.Load(); n != 2 {
		t.Errorf("%d token requests after the token's refresh time, want 2", n)
	}

	// A wrong secret: the error names the endpoint and the fix, never the secret.
	m["sasl.jaas.config"] = strings.Replace(m["sasl.jaas.config"], secret, "wrong-S3cret", 1)
	c, _ = mustFromMap(t, m)
	err := ping(t, c, cluster.ListenAddrs())
	if err == nil || !strings.Contains(err.Error(), "401 Unauthorized") || !strings.Contains(err.Error(), "check clientId, clientSecret and scope") {
		t.Errorf("err = %v, want the endpoint's refusal and the fix", err)
	}
	if err != nil && (strings.Contains(err.Error(), "wrong-S3cret") || strings.Contains(err.Error(), secret)) {
		t.Errorf("error reveals the client secret: %v", err)
	}
}

// awsEnv isolates the AWS SDK from the machine: no shared files, no
// instance metadata (no traffic leaves loopback), a fixed region.
func awsEnv(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_SESSION_NAME", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_DEFAULT_REGION"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_REGION", "eu-west-1")
	return dir
}

// checkMSKSignature verifies an AWS_MSK_IAM payload as the MSK broker does:
// the SigV4 query signature over GET / with host signed, for the
// kafka-cluster:Connect action, recomputed here with the known secret.
func checkMSKSignature(b []byte, accessKey, secretKey, token, host string) error {
	var p map[string]string
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("payload is not JSON: %w", err)
	}
	if p["version"] != "2020_10_22" || p["action"] != "kafka-cluster:Connect" || p["host"] != host ||
		p["x-amz-algorithm"] != "AWS4-HMAC-SHA256" || p["x-amz-signedheaders"] != "host" {
		return fmt.Errorf("payload fields %v", p)
	}
	if p["x-amz-expires"] != "300" {
		return fmt.Errorf("expiry %q, want 300 seconds", p["x-amz-expires"])
	}
	if p["x-amz-security-token"] != token {
		return fmt.Errorf("security token %q, want %q", p["x-amz-security-token"], token)
	}
	date := p["x-amz-date"]
	ts, err := time.Parse("20060102T150405Z", date)
	if err != nil || time.Since(ts).Abs() > 5*time.Minute {
		return fmt.Errorf("x-amz-date %q is not now", date)
	}
	scope := date[:8] + "/eu-west-1/kafka-cluster/aws4_request"
	if p["x-amz-credential"] != accessKey+"/"+scope {
		return fmt.Errorf("credential %q, want %s/%s", p["x-amz-credential"], accessKey, scope)
	}
	q := url.Values{}
	for _, k := range []string{"Action", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Security-Token"} {
		if v := p[strings.ToLower(k)]; v != "" {
			q.Set(k, v)
		}
	}
	canonical := "GET\n/\n" + strings.ReplaceAll(q.Encode(), "+", "%20") + "\nhost:" + host + "\n\nhost\n" + hexSHA256("")
	toSign := "AWS4-HMAC-SHA256\n" + date + "\n" + scope + "\n" + hexSHA256(canonical)
	key := []byte("AWS4" + secretKey)
	for _, part := range []string{date[:8], "eu-west-1", "kafka-cluster", "aws4_request", toSign} {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(part))
		key = h.Sum(nil)
	}
	if want := hex.EncodeToString(key); p["x-amz-signature"] != want {
		return errors.New("signature does not match the known secret key")
	}
	return nil
}

func hexSHA256(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// stsStub answers AssumeRoleWithWebIdentity (checking the token file's
// content) and AssumeRole (checking the caller's SigV4 access key) with
// fixed temporary credentials.
func stsStub(t *testing.T, webToken, callerKey string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		calls.Add(1)
		var ak, sk, tok string
		switch r.Form.Get("Action") {
		case "AssumeRoleWithWebIdentity":
			if r.Form.Get("WebIdentityToken") != webToken || r.Form.Get("RoleArn") != "arn:aws:iam::123456789012:role/irsa" {
				http.Error(w, "bad web identity", http.StatusForbidden)
				return
			}
			ak, sk, tok = "ASIAWEBIDENTITY", "web-identity-S3cret", "web-identity-session"
		case "AssumeRole":
			if !strings.Contains(r.Header.Get("Authorization"), "Credential="+callerKey+"/") || r.Form.Get("RoleArn") != "arn:aws:iam::123456789012:role/msk" {
				http.Error(w, "bad caller", http.StatusForbidden)
				return
			}
			ak, sk, tok = "ASIAASSUMED", "assumed-S3cret", "assumed-session"
		default:
			http.Error(w, "unknown action", http.StatusBadRequest)
			return
		}
		exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<%[1]sResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><%[1]sResult>
<Credentials><AccessKeyId>%[2]s</AccessKeyId><SecretAccessKey>%[3]s</SecretAccessKey><SessionToken>%[4]s</SessionToken><Expiration>%[5]s</Expiration></Credentials>
<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/x/rivulet</Arn><AssumedRoleId>AROA:rivulet</AssumedRoleId></AssumedRoleUser>
</%[1]sResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></%[1]sResponse>`, r.Form.Get("Action"), ak, sk, tok, exp)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// TestMSKIAM_CredentialChain authenticates with AWS_MSK_IAM against a
// broker stub that verifies the SigV4 payload with the credentials each
// link of the chain should yield: environment variables, a shared
// credentials profile (awsProfileName), EKS IRSA web identity (a local STS
// stub), and awsRoleArn assumed on top of the environment's credentials.
func TestMSKIAM_CredentialChain(t *testing.T) {
	const iamJAAS = "software.amazon.msk.auth.iam.IAMLoginModule required"
	for _, tc := range []struct {
		name          string
		setup         func(t *testing.T, dir, sts string)
		jaasOptions   string
		ak, sk, token string
	}{
		{"environment", func(t *testing.T, _, _ string) {
			t.Setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "env-S3cret")
			t.Setenv("AWS_SESSION_TOKEN", "env-session")
		}, "", "AKIAENVIRONMENT", "env-S3cret", "env-session"},
		{"profile", func(t *testing.T, dir, _ string) {
			writeFile(t, filepath.Join(dir, "credentials"), "[default]\naws_access_key_id=AKIADEFAULT\naws_secret_access_key=default-S3cret\n\n[msk]\naws_access_key_id=AKIAPROFILE\naws_secret_access_key=profile-S3cret\n")
		}, ` awsProfileName="msk"`, "AKIAPROFILE", "profile-S3cret", ""},
		{"eks irsa web identity", func(t *testing.T, dir, sts string) {
			tokenFile := filepath.Join(dir, "token")
			writeFile(t, tokenFile, "projected-service-account-jwt")
			t.Setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/irsa")
			t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tokenFile)
			t.Setenv("AWS_ENDPOINT_URL_STS", sts)
		}, "", "ASIAWEBIDENTITY", "web-identity-S3cret", "web-identity-session"},
		{"awsRoleArn", func(t *testing.T, _, sts string) {
			t.Setenv("AWS_ACCESS_KEY_ID", "AKIABASE")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "base-S3cret")
			t.Setenv("AWS_ENDPOINT_URL_STS", sts)
		}, ` awsRoleArn="arn:aws:iam::123456789012:role/msk" awsRoleSessionName="rivulet-test" awsStsRegion="eu-west-1"`, "ASIAASSUMED", "assumed-S3cret", "assumed-session"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := awsEnv(t)
			sts, stsCalls := stsStub(t, "projected-service-account-jwt", "AKIABASE")
			tc.setup(t, dir, sts.URL)
			var authed atomic.Int32
			cluster := saslStub(t, "AWS_MSK_IAM", func(b []byte) error {
				if err := checkMSKSignature(b, tc.ak, tc.sk, tc.token, "127.0.0.1"); err != nil {
					return err
				}
				authed.Add(1)
				return nil
			})
			c, _ := mustFromMap(t, with("security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", "AWS_MSK_IAM",
				"sasl.client.callback.handler.class", "software.amazon.msk.auth.iam.IAMClientCallbackHandler",
				"sasl.jaas.config", iamJAAS+tc.jaasOptions+";"))
			if err := ping(t, c, cluster.ListenAddrs()); err != nil {
				t.Fatalf("ping: %v", err)
			}
			if authed.Load() == 0 {
				t.Fatal("the broker stub never saw a valid signature")
			}
			if err := ping(t, c, cluster.ListenAddrs()); err != nil {
				t.Fatalf("second ping: %v", err)
			}
			if strings.Contains(tc.ak, "ASIA") && stsCalls.Load() != 1 {
				t.Errorf("%d STS calls for two clients, want 1 (credentials are cached)", stsCalls.Load())
			}
		})
	}

	t.Run("wrong secret is refused", func(t *testing.T) {
		awsEnv(t)
		t.Setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "not-the-S3cret")
		cluster := saslStub(t, "AWS_MSK_IAM", func(b []byte) error {
			return checkMSKSignature(b, "AKIAENVIRONMENT", "env-S3cret", "", "127.0.0.1")
		})
		c, _ := mustFromMap(t, with("security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", "AWS_MSK_IAM",
			"sasl.jaas.config", iamJAAS+";"))
		err := ping(t, c, cluster.ListenAddrs())
		if err == nil {
			t.Fatal("a payload signed with the wrong secret was accepted")
		}
		if strings.Contains(err.Error(), "not-the-S3cret") {
			t.Errorf("error reveals the secret key: %v", err)
		}
	})

	t.Run("no credentials", func(t *testing.T) {
		awsEnv(t)
		cluster := saslStub(t, "AWS_MSK_IAM", func([]byte) error { return nil })
		c, _ := mustFromMap(t, with("security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", "AWS_MSK_IAM",
			"sasl.jaas.config", iamJAAS+";"))
		err := ping(t, c, cluster.ListenAddrs())
		if err == nil || !strings.Contains(err.Error(), "give the pod an IAM role") {
			t.Errorf("err = %v, want the credential chain's fix", err)
		}
	})
}

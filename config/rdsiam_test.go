package config

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/server"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// The credentials the STS stub hands out for the web identity: what an
// EKS pod with an IRSA service account gets.
const (
	stsAccessKey = "ASIATESTIRSA0000001"
	stsSecretKey = "irsa-secret-key-never-printed"
	stsSession   = "irsa-session/token+with=chars"
	stsRoleArn   = "arn:aws:iam::123456789012:role/rivulet-cdc"
	webIdentity  = "eyJ-kubernetes-projected-sa-token"
)

// rdsSTSStub answers AssumeRoleWithWebIdentity as AWS STS does, for the one
// role and token above.
func rdsSTSStub(t *testing.T) (*httptest.Server, *int) {
	t.Helper()
	var mu sync.Mutex
	calls := new(int)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		if r.Form.Get("Action") != "AssumeRoleWithWebIdentity" || r.Form.Get("RoleArn") != stsRoleArn || r.Form.Get("WebIdentityToken") != webIdentity {
			t.Errorf("STS request %v", r.Form)
			http.Error(w, "bad request", 400)
			return
		}
		mu.Lock()
		*calls++
		mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials>
    <AssumedRoleUser><Arn>%s/rivulet</Arn><AssumedRoleId>AROATEST:rivulet</AssumedRoleId></AssumedRoleUser>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`, stsAccessKey, stsSecretKey, stsSession, time.Now().Add(time.Hour).UTC().Format(time.RFC3339), stsRoleArn)
	}))
	t.Cleanup(s.Close)
	return s, calls
}

// irsaEnv sets the environment of an EKS pod with IRSA and nothing else
// the AWS chain could pick up.
func irsaEnv(t *testing.T, stsURL string) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(webIdentity), 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_REGION": "", "AWS_DEFAULT_REGION": "",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_ROLE_ARN":                stsRoleArn,
		"AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile,
		"AWS_ENDPOINT_URL_STS":        stsURL,
	} {
		t.Setenv(k, v)
	}
}

// verifyRDSToken checks token as RDS would, with our own SigV4 code (not
// the SDK's): a presigned GET of https://host/?Action=connect&DBUser=user
// for service rds-db in region, signed with the STS credentials, 900 s
// lifetime, dated now.
func verifyRDSToken(token, host, user, region string, now time.Time) error {
	if strings.HasPrefix(token, "https://") {
		return errors.New("token has a scheme")
	}
	u, err := url.Parse("https://" + token)
	if err != nil {
		return err
	}
	if u.Host != host || u.Path != "/" {
		return fmt.Errorf("host %q path %q, want %q /", u.Host, u.Path, host)
	}
	q := u.Query()
	amzDate := q.Get("X-Amz-Date")
	signed, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil {
		return fmt.Errorf("X-Amz-Date %q: %v", amzDate, err)
	}
	day := amzDate[:8]
	scope := day + "/" + region + "/rds-db/aws4_request"
	for k, want := range map[string]string{
		"Action": "connect", "DBUser": user, "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
		"X-Amz-Credential": stsAccessKey + "/" + scope, "X-Amz-Expires": "900",
		"X-Amz-SignedHeaders": "host", "X-Amz-Security-Token": stsSession,
	} {
		if got := q.Get(k); got != want {
			return fmt.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if d := now.Sub(signed); d < 0 || d > time.Minute {
		return fmt.Errorf("signed at %s, not at %s", signed, now.UTC())
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		if k != "X-Amz-Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	esc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = esc(k) + "=" + esc(q.Get(k))
	}
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	canonical := "GET\n/\n" + strings.Join(parts, "&") + "\nhost:" + host + "\n\nhost\n" + sum("")
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + sum(canonical)
	mac := func(key []byte, s string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(s))
		return h.Sum(nil)
	}
	k := mac([]byte("AWS4"+stsSecretKey), day)
	for _, s := range []string{region, "rds-db", "aws4_request"} {
		k = mac(k, s)
	}
	if want := hex.EncodeToString(mac(k, toSign)); q.Get("X-Amz-Signature") != want {
		return fmt.Errorf("signature %s, want %s", q.Get("X-Amz-Signature"), want)
	}
	return nil
}

// rdsStub is a MySQL server that authenticates as RDS does for an IAM
// user: it asks the client to switch to mysql_clear_password and send the
// token, which it accepts only over TLS.
type rdsStub struct {
	ln     net.Listener
	host   string // the host:port tokens must be signed for
	region string
	now    func() time.Time

	mu     sync.Mutex
	tokens []string
	errs   []error
	wg     sync.WaitGroup
}

type rdsAuth struct{ s *rdsStub }

func (a rdsAuth) GetCredential(string) (server.Credential, bool, error) {
	return server.Credential{Passwords: []string{"unused"}, AuthPluginName: mysql.AUTH_CLEAR_PASSWORD}, true, nil
}
func (a rdsAuth) OnAuthSuccess(*server.Conn) error  { return nil }
func (a rdsAuth) OnAuthFailure(*server.Conn, error) {}
func (a rdsAuth) Validate(plugin string) bool {
	return plugin == mysql.AUTH_NATIVE_PASSWORD || plugin == mysql.AUTH_CLEAR_PASSWORD
}
func (a rdsAuth) Authenticate(c *server.Conn, plugin string, data []byte) error {
	token := strings.TrimRight(string(data), "\x00")
	s := a.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = append(s.tokens, token)
	if _, ok := c.Conn.Conn.(*tls.Conn); !ok {
		err := errors.New("token received over a plaintext connection")
		s.errs = append(s.errs, err)
		return err
	}
	if err := verifyRDSToken(token, s.host, c.GetUser(), s.region, s.now()); err != nil {
		s.errs = append(s.errs, err)
		return server.ErrAccessDenied
	}
	return nil
}

func startRDSStub(t *testing.T, tlsCfg *tls.Config, region string, now func() time.Time) *rdsStub {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rdsStub{ln: ln, region: region, now: now}
	s.host = net.JoinHostPort("localhost", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	// As RDS: the greeting offers mysql_native_password, the IAM user's
	// plugin (AWSAuthenticationPlugin) switches to mysql_clear_password.
	srv := server.NewServerWithAuth("8.0.35", mysql.DEFAULT_COLLATION_ID, mysql.AUTH_NATIVE_PASSWORD, nil, tlsCfg, rdsAuth{s})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				c, err := srv.NewCustomizedConn(nc, rdsAuth{s}, &server.EmptyHandler{})
				if err != nil {
					_ = nc.Close()
					return
				}
				for !c.Closed() {
					if err := c.HandleCommand(); err != nil {
						break
					}
				}
				if !c.Closed() {
					c.Close()
				}
			}()
		}
	}()
	t.Cleanup(func() { _ = ln.Close(); s.wg.Wait() })
	return s
}

// TestMySQL_RDSIAM connects with database.iam.authentication.enabled as a
// pod with IRSA would: the credentials come from STS for the web identity
// token, every connection (query and replication) sends a fresh token
// signed for rds-db:connect over TLS, and a token is never sent in clear.
func TestMySQL_RDSIAM(t *testing.T) {
	sts, stsCalls := rdsSTSStub(t)
	irsaEnv(t, sts.URL)
	clock := time.Now()
	var clockMu sync.Mutex
	now := func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return clock }
	old := rdsNow
	rdsNow = now
	t.Cleanup(func() { rdsNow = old })

	ca := testenv.NewCA(t, "rds CA")
	cert := ca.Issue(t, "rds", testenv.CertOptions{Hosts: []string{"localhost"}})
	pair, err := tls.LoadX509KeyPair(cert.CertPath, cert.KeyPath)
	if err != nil {
		t.Fatal(err)
	}
	stub := startRDSStub(t, &tls.Config{Certificates: []tls.Certificate{pair}}, "eu-west-1", now)
	_, port, _ := net.SplitHostPort(stub.host)

	cfg, warnings, err := FromMap(with(
		"database.hostname", "localhost", "database.port", port, "database.user", "iam_cdc", "-database.password", "",
		"database.iam.authentication.enabled", "true", "database.iam.region", "eu-west-1",
		"database.ssl.mode", "verify_identity", "database.ssl.ca", ca.CertPath))
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) > 0 {
		t.Errorf("warnings: %v", warnings)
	}
	m, err := cfg.MySQL()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := m.Connect(ctx, nil)
	if err != nil {
		t.Fatalf("connect with an IAM token: %v (stub: %v)", err, stub.errs)
	}
	if d := m.Describe(c); !strings.Contains(d, "server certificate verified") || !strings.Contains(d, "IAM authentication token") {
		t.Errorf("Describe = %q, want TLS, verified and IAM", d)
	}
	_ = c.Close()
	// Ten minutes later (a reconnect after a network failure, say) the first
	// token would soon expire: a new one is signed.
	clockMu.Lock()
	clock = clock.Add(10 * time.Minute)
	clockMu.Unlock()
	user, password, tlsCfg, err := m.Replication(ctx)
	if err != nil || user != "iam_cdc" || tlsCfg == nil {
		t.Fatalf("Replication: user %q, tls %v, err %v", user, tlsCfg != nil, err)
	}
	if err := verifyRDSToken(password, stub.host, "iam_cdc", "eu-west-1", now()); err != nil {
		t.Errorf("replication token: %v", err)
	}
	c, err = m.Connect(ctx, nil)
	if err != nil {
		t.Fatalf("reconnect: %v (stub: %v)", err, stub.errs)
	}
	_ = c.Close()

	stub.mu.Lock()
	tokens, errs := stub.tokens, stub.errs
	stub.mu.Unlock()
	if len(errs) > 0 || len(tokens) != 2 || tokens[0] == tokens[1] {
		t.Errorf("stub saw %d tokens (distinct: %v), errors %v; want two fresh valid tokens", len(tokens), len(tokens) == 2 && tokens[0] != tokens[1], errs)
	}
	if *stsCalls == 0 {
		t.Errorf("STS was never asked: the credentials did not come from the web identity")
	}

	// preferred would fall back to plaintext; with IAM it must not.
	plain := startRDSStub(t, nil, "eu-west-1", now)
	_, pport, _ := net.SplitHostPort(plain.host)
	cfg2, _, err := FromMap(with(
		"database.hostname", "localhost", "database.port", pport, "database.user", "iam_cdc", "-database.password", "",
		"database.iam.authentication.enabled", "true", "database.iam.region", "eu-west-1", "database.ssl.mode", "preferred"))
	if err != nil {
		t.Fatal(err)
	}
	m2, err := cfg2.MySQL()
	if err != nil {
		t.Fatal(err)
	}
	_, err = m2.Connect(ctx, nil)
	if err == nil || !strings.Contains(err.Error(), "IAM authentication sends its token only over TLS") {
		t.Errorf("IAM with preferred against a server without TLS: %v; want a refusal naming TLS", err)
	}
	plain.mu.Lock()
	if len(plain.tokens) > 0 {
		t.Errorf("a token was sent in clear")
	}
	plain.mu.Unlock()
	for _, s := range []string{stsSecretKey, stsSession} {
		if err != nil && strings.Contains(err.Error(), s) {
			t.Errorf("error prints a credential: %v", err)
		}
	}
}

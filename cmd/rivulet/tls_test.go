package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// cdcUser is the account Rivulet connects as in the TLS tests, apart from
// the test helpers' own, so that the server's per-thread status shows
// Rivulet's connections only.
const cdcUser, cdcPassword = "cdc", "cdc-pw-u8v2n1"

// tlsE2E is an e2e environment on a MariaDB with TLS whose certificate
// (for localhost) was made for the test. The server does not require
// secure transport, so a plaintext connection would succeed and show.
func tlsE2E(t *testing.T) (*e2eEnv, *testenv.CA) {
	t.Helper()
	ca := testenv.NewCA(t, "e2e mysql CA")
	cert := ca.Issue(t, "mariadb", testenv.CertOptions{Hosts: []string{"localhost"}})
	srv := testenv.StartMariaDB(t, testenv.WithTLS(ca.CertPath, cert.CertPath, cert.KeyPath),
		testenv.WithArgs("--performance-schema=ON", "--userstat=ON"))
	srv.Exec(t, "",
		"CREATE USER '"+cdcUser+"'@'%' IDENTIFIED BY '"+cdcPassword+"'",
		"GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT, BINLOG MONITOR ON *.* TO '"+cdcUser+"'@'%'",
	)
	e := &e2eEnv{srv: srv, db: srv.Database(t), brokers: testenv.Kafka(t), dir: t.TempDir(), prefix: "tls"}
	srv.Exec(t, e.db, "GRANT INSERT, UPDATE, DELETE ON `"+e.db+"`.* TO '"+cdcUser+"'@'%'")
	return e, ca
}

func (e *e2eEnv) tlsConfig(t *testing.T, ca *testenv.CA, extra map[string]string) string {
	t.Helper()
	cfg := map[string]string{
		"database.hostname": "localhost", "database.user": cdcUser, "database.password": cdcPassword,
		"database.ssl.mode": "verify_identity", "database.ssl.ca": ca.CertPath,
	}
	for k, v := range extra {
		cfg[k] = v
	}
	return e.config(t, cfg)
}

// userConnections reads the server's count of cdcUser's connections and
// of those that were TLS (userstat: information_schema.USER_STATISTICS
// counts every login, however short, so a plaintext one cannot hide).
func userConnections(t *testing.T, srv *testenv.Server) (total, ssl int) {
	t.Helper()
	rows := srv.Query(t, "", "SELECT TOTAL_CONNECTIONS, TOTAL_SSL_CONNECTIONS FROM information_schema.USER_STATISTICS WHERE USER = '"+cdcUser+"'")
	if len(rows) == 0 {
		return 0, 0
	}
	var err error
	if total, err = strconv.Atoi(rows[0][0]); err != nil {
		t.Fatal(err)
	}
	if ssl, err = strconv.Atoi(rows[0][1]); err != nil {
		t.Fatal(err)
	}
	return total, ssl
}

// TestRun_TLSEveryConnectionEncrypted runs Rivulet with
// database.ssl.mode=verify_identity through a snapshot, streaming, an
// incremental snapshot asked for by a signal, health checks and then
// `rivulet verify`, and shows
// from the server's side that no connection it opened was plaintext: each
// of its live sessions has an Ssl_cipher (performance_schema), and over
// the whole run every login of its user was over TLS (userstat's
// TOTAL_CONNECTIONS = TOTAL_SSL_CONNECTIONS). `rivulet check` then reports the connection as encrypted and
// verified, with its TLS version.
func TestRun_TLSEveryConnectionEncrypted(t *testing.T) {
	e, ca := tlsE2E(t)
	seedTable(t, e, 500)
	e.srv.Exec(t, e.db, signalTableDDL)
	cfg := e.tlsConfig(t, ca, map[string]string{
		"snapshot.mode": "initial", "snapshot.fetch.size": "100",
		"signal.data.collection": e.db + ".debezium_signal", "incremental.snapshot.chunk.size": "100",
		"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
	})

	in := e.start(t, cfg)
	consume(t, e.brokers, 500, e.prefix+"."+e.db+".items")
	e.srv.Exec(t, e.db, "INSERT INTO items VALUES (100001, 1, 'streamed')")
	sendSignals(t, e, "execute-snapshot", executeData(e.db+".items"))
	waitLog(t, in, "incremental snapshot complete", 1)

	// Rivulet's live sessions, as the server sees them: the binlog dump,
	// the schema loader, the health check. Each must carry a cipher.
	const q = `SELECT t.PROCESSLIST_ID, IFNULL(t.PROCESSLIST_COMMAND, ''), IFNULL(s.VARIABLE_VALUE, '')
		FROM performance_schema.threads t
		LEFT JOIN performance_schema.status_by_thread s ON s.THREAD_ID = t.THREAD_ID AND s.VARIABLE_NAME = 'Ssl_cipher'
		WHERE t.PROCESSLIST_USER = '` + cdcUser + `'`
	var rows [][]string
	deadline := time.Now().Add(30 * time.Second)
	for {
		rows = e.srv.Query(t, "", q)
		dump, query := false, false
		for _, r := range rows {
			dump = dump || strings.HasPrefix(r[1], "Binlog Dump")
			query = query || !strings.HasPrefix(r[1], "Binlog Dump")
		}
		if dump && query {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no binlog dump and query sessions of %s after 30s: %v", cdcUser, rows)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, r := range rows {
		t.Logf("session %s (%s): Ssl_cipher %q", r[0], r[1], r[2])
		if r[2] == "" {
			t.Errorf("session %s (%s) of %s is not encrypted", r[0], r[1], cdcUser)
		}
	}
	in.stop()
	// rivulet verify reads the table with the same setting.
	if out, code := runBinary(t, "verify", "--config", cfg, "--tables", e.db+".items", "--work-dir", t.TempDir()); code != 0 {
		t.Errorf("verify exit %d:\n%s", code, out)
	}

	total, ssl := userConnections(t, e.srv)
	t.Logf("%s logged in %d times, %d of them over TLS", cdcUser, total, ssl)
	if total < 5 {
		t.Errorf("only %d connections of %s during the run: the test saw too little", total, cdcUser)
	}
	if total != ssl {
		t.Errorf("%d connections of %s but %d over TLS: a connection was plaintext", total, cdcUser, ssl)
	}
	if strings.Contains(in.log.String(), cdcPassword) {
		t.Errorf("the log prints the database password")
	}

	out, code := runBinary(t, "check", "--config", cfg)
	if code != 0 {
		t.Fatalf("check exit %d:\n%s", code, out)
	}
	t.Logf("rivulet check:\n%s", out)
	for _, name := range []string{"connection", "replication connection"} {
		if !regexp.MustCompile(`(?m)^PASS\s+` + name + `\s.*TLS 1\.[23] \([A-Z0-9_]+\), server certificate verified \(database\.ssl\.mode=verify_identity\)`).MatchString(out) {
			t.Errorf("check does not report the %s as TLS and verified:\n%s", name, out)
		}
	}
	if strings.Contains(out, cdcPassword) {
		t.Errorf("check prints the database password:\n%s", out)
	}
}

// TestCheck_TLSFailures: `rivulet check` and `rivulet run` name the
// setting to change when TLS fails: a wrong CA, a wrong host name, a
// server whose TLS is required but not asked for.
func TestCheck_TLSFailures(t *testing.T) {
	e, ca := tlsE2E(t)
	other := testenv.NewCA(t, "unrelated CA")
	for _, tc := range []struct {
		name  string
		extra map[string]string
		want  []string
	}{
		{"wrong CA", map[string]string{"database.ssl.ca": other.CertPath},
			[]string{"not signed by a CA in the configured truststore", "database.ssl.truststore"}},
		{"wrong host name", map[string]string{"database.hostname": "127.0.0.1"},
			[]string{"not valid for 127.0.0.1", "database.hostname"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := e.tlsConfig(t, ca, tc.extra)
			for _, cmd := range []string{"check", "run"} {
				out, code := runBinary(t, cmd, "--config", cfg)
				if code != 1 {
					t.Fatalf("%s exit %d, want 1:\n%s", cmd, code, out)
				}
				for _, w := range tc.want {
					if !strings.Contains(out, w) {
						t.Errorf("%s output does not say %q:\n%s", cmd, w, out)
					}
				}
				if strings.Contains(out, cdcPassword) {
					t.Errorf("%s prints the database password:\n%s", cmd, out)
				}
			}
		})
	}
}

// TestRun_RequireSecureTransportX509 is the RDS-like setup: the server
// refuses plaintext (require_secure_transport=ON) and the user is REQUIRE
// X509. With the Java stores a Debezium user already has (a JKS
// truststore, a PKCS12 keystore) check passes and run streams; with
// database.ssl.mode=disabled both stop with the setting to change.
func TestRun_RequireSecureTransportX509(t *testing.T) {
	ca := testenv.NewCA(t, "rds-like CA")
	cert := ca.Issue(t, "mariadb", testenv.CertOptions{Hosts: []string{"localhost"}})
	client := ca.Issue(t, "cdc-client", testenv.CertOptions{Client: true})
	srv := testenv.StartMariaDB(t, testenv.WithTLS(ca.CertPath, cert.CertPath, cert.KeyPath), testenv.WithRequireSecureTransport())
	srv.Exec(t, "",
		"CREATE USER '"+cdcUser+"'@'%' IDENTIFIED BY '"+cdcPassword+"' REQUIRE X509",
		"GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT, BINLOG MONITOR ON *.* TO '"+cdcUser+"'@'%'",
	)
	const storePass = "store-pw-k3j4h5"
	jks := ca.Dir + "/truststore.jks"
	testenv.Keytool(t, "-importcert", "-noprompt", "-alias", "ca", "-file", ca.CertPath,
		"-keystore", jks, "-storetype", "JKS", "-storepass", storePass)
	p12 := ca.Dir + "/keystore.p12"
	testenv.OpenSSL(t, "pkcs12", "-export", "-in", client.CertPath, "-inkey", client.KeyPath,
		"-certfile", ca.CertPath, "-name", "cdc", "-out", p12, "-passout", "pass:"+storePass)

	e := &e2eEnv{srv: srv, db: srv.Database(t), brokers: testenv.Kafka(t), dir: t.TempDir(), prefix: "rds"}
	srv.Exec(t, e.db, `CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))`)
	base := map[string]string{
		"database.hostname": "localhost", "database.user": cdcUser, "database.password": cdcPassword,
		"database.ssl.mode":       "verify_identity",
		"database.ssl.truststore": jks, "database.ssl.truststore.password": storePass,
		"database.ssl.keystore": p12, "database.ssl.keystore.password": storePass,
		"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
	}
	cfg := e.config(t, base)
	out, code := runBinary(t, "check", "--config", cfg)
	if code != 0 || !regexp.MustCompile(`(?m)^PASS\s+connection.*server certificate verified`).MatchString(out) {
		t.Fatalf("check exit %d, want 0 and a verified TLS connection:\n%s", code, out)
	}
	for _, s := range []string{cdcPassword, storePass} {
		if strings.Contains(out, s) {
			t.Errorf("check prints a secret:\n%s", out)
		}
	}
	in := e.start(t, cfg)
	srv.Exec(t, e.db, `INSERT INTO t VALUES (1, 'over tls')`)
	recs := consume(t, e.brokers, 1, e.prefix+"."+e.db+".t")
	if after := payload(recs[0].Value)["after"].(map[string]any); after["v"] != "over tls" {
		t.Errorf("record %s", recs[0].RawVal)
	}
	in.stop()

	base["database.ssl.mode"] = "disabled"
	delete(base, "database.ssl.truststore")
	delete(base, "database.ssl.truststore.password")
	delete(base, "database.ssl.keystore")
	delete(base, "database.ssl.keystore.password")
	bad := e.config(t, base)
	for _, cmd := range []string{"check", "run"} {
		out, code := runBinary(t, cmd, "--config", bad)
		if code != 1 || !strings.Contains(out, "require_secure_transport") || !strings.Contains(out, "database.ssl.mode=required") {
			t.Errorf("%s with database.ssl.mode=disabled: exit %d, want 1 and the setting to change:\n%s", cmd, code, out)
		}
	}
}

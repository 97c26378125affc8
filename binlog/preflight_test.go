package binlog

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/google/go-cmp/cmp"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

func TestPreflightParseGrants(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  preflightGrants
	}{
		{
			name:  "mariadb all privileges",
			lines: []string{"GRANT ALL PRIVILEGES ON *.* TO `rivulet`@`%` IDENTIFIED BY PASSWORD '*ABC' WITH GRANT OPTION"},
			want:  preflightGrants{global: map[string]bool{"ALL": true}},
		},
		{
			name: "mariadb 10.5+ names",
			lines: []string{
				"GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `cdc`@`%` IDENTIFIED BY PASSWORD '*X'",
			},
			want: preflightGrants{global: map[string]bool{
				"SELECT": true, "RELOAD": true, "SHOW DATABASES": true, "REPLICATION SLAVE": true, "BINLOG MONITOR": true,
			}},
		},
		{
			name: "mysql with dynamic privileges and db-level grants",
			lines: []string{
				"GRANT RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `cdc`@`%`",
				"GRANT BACKUP_ADMIN,BINLOG_ADMIN ON *.* TO `cdc`@`%`",
				"GRANT SELECT, INSERT ON `app`.* TO `cdc`@`%`",
				"GRANT SELECT (`a`, `b`), UPDATE (`c`) ON `app`.`t` TO `cdc`@`%`",
			},
			want: preflightGrants{
				global: map[string]bool{
					"RELOAD": true, "SHOW DATABASES": true, "REPLICATION SLAVE": true, "REPLICATION CLIENT": true,
					"BACKUP_ADMIN": true, "BINLOG_ADMIN": true,
				},
				selectOn: []string{"app.*", "app.t"},
			},
		},
		{
			name: "roles, proxy and usage",
			lines: []string{
				"GRANT USAGE ON *.* TO `u`@`%`",
				"GRANT `cdc_role`@`%`,`other` TO `u`@`%`",
				"GRANT PROXY ON ''@'%' TO 'u'@'%' WITH GRANT OPTION",
				"GRANT ALL ON `shop`.* TO 'u'@'%'",
			},
			want: preflightGrants{
				global:   map[string]bool{"USAGE": true},
				selectOn: []string{"shop.*"},
				roles:    []string{"`cdc_role`@`%`", "`other`"},
			},
		},
		{
			name:  "quoted user containing ON and TO",
			lines: []string{"GRANT SELECT ON *.* TO `a ON b`@` TO `"},
			want:  preflightGrants{global: map[string]bool{"SELECT": true}},
		},
		{
			name:  "not a grant",
			lines: []string{"", "REVOKE SELECT ON *.* FROM x", "GRANT"},
			want:  preflightGrants{global: map[string]bool{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := preflightParseGrants(tt.lines)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(preflightGrants{})); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPreflightParseVersion(t *testing.T) {
	tests := []struct {
		in           string
		major, minor int
		ok           bool
	}{
		{"8.0.36", 8, 0, true},
		{"8.4.2-log", 8, 4, true},
		{"10.11.6-MariaDB-0+deb12u1-log", 10, 11, true},
		{"5.5.5-10.6.18-MariaDB", 10, 6, true},
		{"11.4.2-MariaDB", 11, 4, true},
		{"5.7.44-log", 5, 7, true},
		{"8.0.35-27", 8, 0, true}, // Percona
		{"9.1.0", 9, 1, true},
		{"garbage", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tt := range tests {
		major, minor, ok := preflightParseVersion(tt.in)
		if major != tt.major || minor != tt.minor || ok != tt.ok {
			t.Errorf("preflightParseVersion(%q) = %d, %d, %v; want %d, %d, %v", tt.in, major, minor, ok, tt.major, tt.minor, tt.ok)
		}
	}
}

func TestPreflight_Version(t *testing.T) {
	tests := []struct {
		version      string
		ok, warning  bool
		wantInDetail string
	}{
		{"8.0.36", true, false, "MySQL 8.0"},
		{"5.7.44-log", true, true, "end of life"},
		{"5.6.51", false, false, "too old"},
		{"10.11.6-MariaDB-log", true, false, "MariaDB 10.11"},
		{"10.4.34-MariaDB", true, true, "10.5+"},
		{"10.1.48-MariaDB", false, false, "too old"},
		{"weird", true, true, "unrecognised"},
	}
	for _, tt := range tests {
		p := &preflight{serverVer: tt.version}
		r := p.version()
		if r.OK != tt.ok || r.Warning != tt.warning || !strings.Contains(r.Detail, tt.wantInDetail) {
			t.Errorf("version %q: %+v; want OK %v, Warning %v, detail containing %q", tt.version, r, tt.ok, tt.warning, tt.wantInDetail)
		}
		if !r.OK && r.Fix == "" {
			t.Errorf("version %q: failing result without Fix", tt.version)
		}
	}
}

func TestPreflight_RetentionSetting(t *testing.T) {
	tests := []struct {
		vars    map[string]string
		want    time.Duration
		setting string
	}{
		{map[string]string{"binlog_expire_logs_seconds": "2592000", "expire_logs_days": "0"}, 30 * 24 * time.Hour, "binlog_expire_logs_seconds=2592000"},
		{map[string]string{"binlog_expire_logs_seconds": "0", "expire_logs_days": "7"}, 7 * 24 * time.Hour, "expire_logs_days=7"},
		{map[string]string{"expire_logs_days": "0.500000"}, 12 * time.Hour, "expire_logs_days=0.500000"},
		{map[string]string{"binlog_expire_logs_seconds": "0", "expire_logs_days": "0.000000"}, 0, "binlog_expire_logs_seconds=0, expire_logs_days=0.000000"},
	}
	for _, tt := range tests {
		p := &preflight{vars: tt.vars}
		got, setting, known := p.retentionSetting()
		if got != tt.want || setting != tt.setting || !known {
			t.Errorf("retentionSetting(%v) = %v, %q, %v; want %v, %q, true", tt.vars, got, setting, known, tt.want, tt.setting)
		}
	}
	if _, _, known := (&preflight{vars: map[string]string{}}).retentionSetting(); known {
		t.Error("retentionSetting without variables reported known")
	}
}

// preflightByName indexes results by check name and checks the order.
func preflightByName(t *testing.T, results []CheckResult) map[string]CheckResult {
	t.Helper()
	var names []string
	m := make(map[string]CheckResult, len(results))
	for _, r := range results {
		names = append(names, r.Name)
		m[r.Name] = r
		if !r.OK && r.Fix == "" {
			t.Errorf("failing check %q has no Fix: %+v", r.Name, r)
		}
	}
	want := append([]string{CheckConnection}, preflightChecks...)
	if diff := cmp.Diff(want, names); diff != "" {
		t.Fatalf("check names mismatch (-want +got):\n%s", diff)
	}
	return m
}

func logResults(t *testing.T, results []CheckResult) {
	t.Helper()
	for _, r := range results {
		t.Logf("%-24s ok=%-5v warn=%-5v %s | fix: %s", r.Name, r.OK, r.Warning, r.Detail, r.Fix)
	}
}

func TestPreflight_AllPass(t *testing.T) {
	srv := testenv.MariaDB(t)
	results := Preflight(t.Context(), PreflightConfig{
		Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password, ServerID: srv.ServerID + 5000,
	})
	logResults(t, results)
	for name, r := range preflightByName(t, results) {
		if !r.OK || r.Warning {
			t.Errorf("check %q: %+v; want OK without warning", name, r)
		}
	}
}

func TestPreflight_WrongPassword(t *testing.T) {
	srv := testenv.MariaDB(t)
	results := Preflight(t.Context(), PreflightConfig{
		Host: srv.Host, Port: srv.Port, User: srv.User, Password: "not-the-password", ServerID: 5400,
	})
	logResults(t, results)
	m := preflightByName(t, results)
	conn := m[CheckConnection]
	if conn.OK || !strings.Contains(conn.Detail, "access denied for user") ||
		!strings.Contains(conn.Detail, "database.user/database.password") {
		t.Errorf("connection: %+v; want access denied naming database.user/database.password", conn)
	}
	for _, name := range preflightChecks {
		if r := m[name]; r.OK || r.Detail != "not run: no connection" {
			t.Errorf("check %q: %+v; want not run", name, r)
		}
	}
}

func TestPreflight_Unreachable(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	results := Preflight(ctx, PreflightConfig{Host: "127.0.0.1", Port: 1, User: "u", ServerID: 5400})
	m := preflightByName(t, results)
	if r := m[CheckConnection]; r.OK || !strings.Contains(r.Detail, "cannot connect") {
		t.Errorf("connection: %+v; want cannot connect", r)
	}
}

// setGlobal sets a global variable on the shared server and returns a
// function restoring the old value (also run at cleanup): the server is shared
// by every test of this binary. value is an SQL literal ("'ROW'", "3600").
func setGlobal(t *testing.T, srv *testenv.Server, name, value string) (restore func()) {
	t.Helper()
	old := srv.Query(t, "", "SELECT @@GLOBAL."+name)[0][0]
	if _, err := strconv.ParseFloat(old, 64); err != nil {
		old = "'" + old + "'"
	}
	srv.Exec(t, "", "SET GLOBAL "+name+" = "+value)
	var done atomic.Bool
	restore = func() {
		if done.CompareAndSwap(false, true) {
			srv.Exec(t, "", "SET GLOBAL "+name+" = "+old)
		}
	}
	t.Cleanup(restore)
	return restore
}

func TestPreflight_BadVariables(t *testing.T) {
	srv := testenv.MariaDB(t)
	cfg := PreflightConfig{Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password, ServerID: 5400}

	restoreFormat := setGlobal(t, srv, "binlog_format", "'STATEMENT'")
	restoreImage := setGlobal(t, srv, "binlog_row_image", "'MINIMAL'")
	restoreExpire := setGlobal(t, srv, "binlog_expire_logs_seconds", "3600")
	results := Preflight(t.Context(), cfg)
	restoreFormat()
	restoreImage()
	restoreExpire()
	logResults(t, results)

	m := preflightByName(t, results)
	if r := m[CheckBinlogFormat]; r.OK || r.Detail != "binlog_format=STATEMENT" ||
		r.Fix != "SET GLOBAL binlog_format=ROW and in my.cnf binlog_format=ROW (sessions already open keep their format until they reconnect)" {
		t.Errorf("binlog_format: %+v", r)
	}
	if r := m[CheckBinlogRowImage]; r.OK || r.Detail != "binlog_row_image=MINIMAL" ||
		r.Fix != "SET GLOBAL binlog_row_image=FULL and in my.cnf binlog_row_image=FULL" {
		t.Errorf("binlog_row_image: %+v", r)
	}
	if r := m[CheckBinlogRetention]; !r.OK || !r.Warning || !strings.Contains(r.Detail, "kept only 1h0m0s") ||
		!strings.Contains(r.Fix, "binlog_expire_logs_seconds=604800") {
		t.Errorf("binlog retention: %+v; want OK with a warning about 1h", r)
	}
	for _, name := range []string{CheckConnection, CheckServerVersion, CheckLogBin, CheckPrivileges, CheckServerID} {
		if r := m[name]; !r.OK {
			t.Errorf("check %q: %+v; want OK", name, r)
		}
	}

	// Restored: everything passes again.
	for _, r := range Preflight(t.Context(), cfg) {
		if !r.OK || r.Warning {
			t.Errorf("after restore, check %q: %+v", r.Name, r)
		}
	}
}

func TestPreflight_Privileges(t *testing.T) {
	srv := testenv.MariaDB(t)
	db := srv.Database(t)
	suffix := strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
	limited, granted := "pf_limited_"+suffix, "pf_granted_"+suffix
	srv.Exec(t, "",
		"CREATE USER '"+limited+"'@'%' IDENTIFIED BY 'pw'",
		"GRANT SELECT, REPLICATION SLAVE ON *.* TO '"+limited+"'@'%'",
		"CREATE USER '"+granted+"'@'%' IDENTIFIED BY 'pw'",
		// REPLICATION CLIENT shows as BINLOG MONITOR on MariaDB 10.5+; SELECT only on one database.
		"GRANT RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '"+granted+"'@'%'",
		"GRANT SELECT ON `"+db+"`.* TO '"+granted+"'@'%'",
	)
	t.Cleanup(func() { srv.Exec(t, "", "DROP USER '"+limited+"'@'%'", "DROP USER '"+granted+"'@'%'") })

	results := Preflight(t.Context(), PreflightConfig{Host: srv.Host, Port: srv.Port, User: limited, Password: "pw", ServerID: 5400})
	logResults(t, results)
	r := preflightByName(t, results)[CheckPrivileges]
	want := CheckResult{
		Name:   CheckPrivileges,
		Detail: "missing RELOAD, SHOW DATABASES, REPLICATION CLIENT for '" + limited + "'@'%'",
		Fix:    "GRANT RELOAD, SHOW DATABASES, REPLICATION CLIENT ON *.* TO '" + limited + "'@'%'",
	}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("privileges mismatch (-want +got):\n%s", diff)
	}

	results = Preflight(t.Context(), PreflightConfig{Host: srv.Host, Port: srv.Port, User: granted, Password: "pw", ServerID: 5400})
	logResults(t, results)
	r = preflightByName(t, results)[CheckPrivileges]
	if !r.OK || !r.Warning || !strings.Contains(r.Detail, "SELECT only on "+db+".*") {
		t.Errorf("privileges: %+v; want OK with a warning about SELECT on %s.*", r, db)
	}
}

func TestPreflight_ServerIDClash(t *testing.T) {
	srv := testenv.MariaDB(t)
	cfg := PreflightConfig{Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password}

	cfg.ServerID = srv.ServerID
	r := preflightByName(t, Preflight(t.Context(), cfg))[CheckServerID]
	if r.OK || !strings.Contains(r.Detail, "server's own server_id") || !strings.Contains(r.Fix, "e.g. 5400") {
		t.Errorf("server id equal to the server's: %+v", r)
	}

	cfg.ServerID = 0
	if r := preflightByName(t, Preflight(t.Context(), cfg))[CheckServerID]; r.OK {
		t.Errorf("server id 0: %+v; want failure", r)
	}

	// A replica registered with id 5400 makes 5400 clash.
	status := srv.Query(t, "", "SHOW MASTER STATUS")
	pos, err := strconv.ParseUint(status[0][1], 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	syncer := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID: 5400, Flavor: mysql.MariaDBFlavor, Host: srv.Host, Port: uint16(srv.Port),
		User: srv.User, Password: srv.Password, Logger: slog.New(slog.DiscardHandler),
	})
	defer syncer.Close()
	if _, err := syncer.StartSync(mysql.Position{Name: status[0][0], Pos: uint32(pos)}); err != nil {
		t.Fatalf("start replica: %v", err)
	}
	cfg.ServerID = 5400
	results := Preflight(t.Context(), cfg)
	logResults(t, results)
	r = preflightByName(t, results)[CheckServerID]
	if r.OK || !strings.Contains(r.Detail, "already used by a connected replica") || !strings.Contains(r.Fix, "e.g. 5401") {
		t.Errorf("server id used by a replica: %+v", r)
	}
}

func TestPreflight_LogBinOff(t *testing.T) {
	srv := testenv.StartMariaDB(t, testenv.WithArgs("--skip-log-bin"))
	results := Preflight(t.Context(), PreflightConfig{
		Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password, ServerID: 5400,
	})
	logResults(t, results)
	m := preflightByName(t, results)
	if r := m[CheckLogBin]; r.OK || r.Detail != "log_bin=OFF" || !strings.Contains(r.Fix, "log_bin=mysql-bin") {
		t.Errorf("log_bin: %+v", r)
	}
	if r := m[CheckBinlogRetention]; r.OK || !strings.Contains(r.Detail, "binary logging is off") {
		t.Errorf("binlog retention: %+v", r)
	}
}

func FuzzPreflightParseGrants(f *testing.F) {
	for _, s := range []string{
		"GRANT ALL PRIVILEGES ON *.* TO `rivulet`@`%` WITH GRANT OPTION",
		"GRANT SELECT (`a`, `b`), UPDATE (`c`) ON `app`.`t` TO `cdc`@`%`",
		"GRANT `r`@`%`,`o` TO `u`@`%`",
		"GRANT PROXY ON ''@'%' TO 'u'@'%'",
		"GRANT SELECT ON *.* TO `a ON b`@` TO `",
		"GRANT (((", "GRANT ' ON ", "GRANT ) ON *.*",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		g := preflightParseGrants([]string{line})
		if g.global == nil {
			t.Fatal("nil global map")
		}
	})
}

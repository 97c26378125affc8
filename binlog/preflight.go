package binlog

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/rivulet-cdc/rivulet/schema"
)

// PreflightConfig names the server and account Preflight checks, with the
// server id the connector will register with (database.server.id).
type PreflightConfig struct {
	Host     string // database.hostname
	Port     int    // database.port; 0 means 3306
	User     string // database.user
	Password string // database.password; never printed
	ServerID uint32 // database.server.id
	// Connector, when set, opens the connections (TLS per
	// database.ssl.mode, IAM tokens); User and Password then only name the
	// account in messages. Default: plaintext with User and Password.
	Connector Connector
}

// connector returns c.Connector or the plaintext default.
func (c PreflightConfig) connector(addr string) Connector {
	if c.Connector != nil {
		return c.Connector
	}
	return plainConnector{schema.PlainConnector{Addr: addr, User: c.User, Password: c.Password}}
}

// CheckResult is the outcome of one preflight check. A failing result
// (OK false) has a Fix naming the SQL statement or setting that repairs it.
// Warning marks a passing check whose Detail deserves attention (short binlog
// retention, replicas that could not be listed); such results may carry a
// Fix too.
type CheckResult struct {
	Name    string
	OK      bool
	Warning bool
	Detail  string
	Fix     string
}

// Names of the preflight checks, in the order Preflight reports them.
const (
	CheckConnection             = "connection"
	CheckReplicationConnection  = "replication connection"
	CheckServerVersion          = "server version"
	CheckLogBin                 = "log_bin"
	CheckBinlogFormat           = "binlog_format"
	CheckBinlogRowImage         = "binlog_row_image"
	CheckBinlogRowValueOptions  = "binlog_row_value_options"
	CheckPrivileges             = "privileges"
	CheckGTIDMode               = "gtid mode"
	CheckBinlogRetention        = "binlog retention"
	CheckServerID               = "server id"
	preflightNotRunNoConnection = "not run: no connection"
)

// preflightChecks lists every check after CheckConnection.
var preflightChecks = []string{
	CheckReplicationConnection, CheckServerVersion, CheckLogBin, CheckBinlogFormat, CheckBinlogRowImage, CheckBinlogRowValueOptions,
	CheckPrivileges, CheckGTIDMode, CheckBinlogRetention, CheckServerID,
}

// preflightTimeout bounds the connection and each query when ctx has no
// earlier deadline.
const preflightTimeout = 10 * time.Second

// Preflight checks that the server and account can be captured from, the way
// Debezium's MySQL connector validates its prerequisites at start: the
// account connects; the server is MySQL or MariaDB of a supported version;
// the binary log is on, in ROW format, with FULL row images and no partial
// JSON updates; the account holds SELECT, RELOAD, SHOW DATABASES, REPLICATION
// SLAVE and REPLICATION CLIENT; binary logs exist and their retention is
// reported; and database.server.id clashes with neither the server nor a
// connected replica. GTID mode is reported for information and always passes.
//
// It returns one result per check, in the order of the Check constants. When
// the connection fails, every other check is reported as not run (OK false,
// Detail "not run: no connection"). Preflight does not check Kafka.
func Preflight(ctx context.Context, c PreflightConfig) []CheckResult {
	port := c.Port
	if port == 0 {
		port = 3306
	}
	addr := net.JoinHostPort(c.Host, strconv.Itoa(port))
	results := make([]CheckResult, 0, 1+len(preflightChecks))

	cn := c.connector(addr)
	conn, err := preflightDial(ctx, cn)
	if err != nil {
		results = append(results, preflightConnectionFailure(addr, c.User, err))
		for _, name := range preflightChecks {
			results = append(results, CheckResult{Name: name, Detail: preflightNotRunNoConnection,
				Fix: "fix the " + CheckConnection + " check first"})
		}
		return results
	}
	defer conn.close()

	p := &preflight{ctx: ctx, conn: conn, cfg: c, security: describe(cn, conn.c)}
	p.load()
	results = append(results,
		p.connection(addr),
		p.replicationConnection(cn, addr),
		p.version(),
		p.logBin(),
		p.binlogFormat(),
		p.binlogRowImage(),
		p.binlogRowValueOptions(),
		p.privileges(),
		p.gtidMode(),
		p.retention(),
		p.serverID(),
	)
	return results
}

// preflight holds what the checks share: the connection and the server facts
// read once up front.
type preflight struct {
	ctx      context.Context
	conn     *preflightConn
	cfg      PreflightConfig
	security string // how the connection is protected, for the connection check

	serverVer   string // SELECT VERSION()
	currentUser string // SELECT CURRENT_USER(), "user@host"
	serverIDVal uint64 // @@server_id
	identityErr error

	vars    map[string]string // lower-case name -> value, from SHOW GLOBAL VARIABLES
	varsErr error
}

func (p *preflight) mariaDB() bool { return strings.Contains(strings.ToLower(p.serverVer), "mariadb") }

// preflightVariables are the server variables the checks read.
var preflightVariables = []string{
	"log_bin", "binlog_format", "binlog_row_image", "binlog_row_value_options",
	"gtid_mode", "gtid_strict_mode", "gtid_binlog_pos", "gtid_current_pos",
	"expire_logs_days", "binlog_expire_logs_seconds",
}

func (p *preflight) load() {
	rows, err := p.conn.query(p.ctx, "SELECT VERSION(), CURRENT_USER(), @@server_id")
	switch {
	case err != nil:
		p.identityErr = err
	case len(rows) != 1 || len(rows[0]) != 3:
		p.identityErr = errors.New("unexpected result of SELECT VERSION(), CURRENT_USER(), @@server_id")
	default:
		p.serverVer, p.currentUser = rows[0][0], rows[0][1]
		p.serverIDVal, p.identityErr = strconv.ParseUint(rows[0][2], 10, 32)
	}

	var in strings.Builder
	for i, v := range preflightVariables {
		if i > 0 {
			in.WriteString(", ")
		}
		in.WriteString("'" + v + "'")
	}
	rows, err = p.conn.query(p.ctx, "SHOW GLOBAL VARIABLES WHERE Variable_name IN ("+in.String()+")")
	if err != nil {
		p.varsErr = err
		return
	}
	p.vars = make(map[string]string, len(rows))
	for _, r := range rows {
		if len(r) == 2 {
			p.vars[strings.ToLower(r[0])] = r[1]
		}
	}
}

// variable returns a server variable; ok is false when the server does not
// have it. A failed SHOW GLOBAL VARIABLES is returned as err.
func (p *preflight) variable(name string) (value string, ok bool, err error) {
	if p.varsErr != nil {
		return "", false, p.varsErr
	}
	value, ok = p.vars[name]
	return value, ok, nil
}

// account formats CURRENT_USER() ("user@host") as 'user'@'host' for SQL.
func (p *preflight) account() string {
	u := p.currentUser
	if u == "" {
		return "'" + p.cfg.User + "'@'%'"
	}
	i := strings.LastIndexByte(u, '@')
	if i < 0 {
		return "'" + u + "'"
	}
	return "'" + u[:i] + "'@'" + u[i+1:] + "'"
}

func (p *preflight) connection(addr string) CheckResult {
	d := fmt.Sprintf("connected to %s as %s", addr, p.cfg.User)
	if p.currentUser != "" {
		d += " (account " + p.account() + ")"
	}
	if p.security != "" {
		d += "; " + p.security
	}
	return CheckResult{Name: CheckConnection, OK: true, Detail: d}
}

// replicationConnection opens a connection the way the binlog reader's
// go-mysql BinlogSyncer does (Connector.Replication: user, password or a
// fresh IAM token, TLS configuration) and says how it is protected, so
// that check reports each kind of connection Rivulet opens.
func (p *preflight) replicationConnection(cn Connector, addr string) CheckResult {
	r := CheckResult{Name: CheckReplicationConnection}
	ctx, cancel := context.WithTimeout(p.ctx, preflightTimeout)
	defer cancel()
	user, password, tlsConfig, err := cn.Replication(ctx)
	if err == nil {
		d := net.Dialer{Timeout: preflightTimeout}
		var c *client.Conn
		c, err = client.ConnectWithDialer(ctx, "tcp", addr, user, password, "", d.DialContext, func(c *client.Conn) error {
			if tlsConfig != nil {
				c.SetTLSConfig(tlsConfig)
			}
			return nil
		})
		if err == nil {
			r.OK, r.Detail = true, "the binlog reader's settings: "+describe(cn, c)
			_ = c.Close()
			return r
		}
	}
	r.Detail = fmt.Sprintf("cannot open the replication connection to %s: %v", addr, err)
	r.Fix = "the replication connection uses the same database.* and database.ssl.* settings as the connection check; fix what the error names"
	if schema.Explained(err) {
		var h interface{ ConnHint() string }
		errors.As(err, &h)
		r.Fix = h.ConnHint()
	}
	return r
}

func preflightConnectionFailure(addr, user string, err error) CheckResult {
	r := CheckResult{Name: CheckConnection}
	var h interface{ ConnHint() string }
	if errors.As(err, &h) && h.ConnHint() != "" {
		// The connector explained it (TLS, secure transport, IAM).
		r.Detail = err.Error()
		r.Fix = h.ConnHint()
		return r
	}
	switch preflightErrorCode(err) {
	case mysql.ER_ACCESS_DENIED_ERROR:
		r.Detail = fmt.Sprintf("access denied for user %q connecting to %s: check database.user/database.password (%v)", user, addr, err)
		r.Fix = fmt.Sprintf("set database.user and database.password to an account that can connect from this host; "+
			"to create one: CREATE USER '%s'@'%%' IDENTIFIED BY '<password>'", user)
	case mysql.ER_DBACCESS_DENIED_ERROR, mysql.ER_HOST_NOT_PRIVILEGED, mysql.ER_HOST_IS_BLOCKED:
		r.Detail = fmt.Sprintf("the server at %s refused user %q: %v", addr, user, err)
		r.Fix = "allow the account to connect from this host (CREATE USER '" + user + "'@'<this host>' or '%'); " +
			"for a blocked host run FLUSH HOSTS on the server"
	default:
		r.Detail = fmt.Sprintf("cannot connect to %s: %v", addr, err)
		r.Fix = "check database.hostname and database.port, that the server is running and reachable from this host " +
			"(firewall, bind-address, skip-networking)"
	}
	return r
}

func (p *preflight) version() CheckResult {
	r := CheckResult{Name: CheckServerVersion}
	if p.identityErr != nil {
		r.Detail = fmt.Sprintf("cannot read the server version: %v", p.identityErr)
		r.Fix = "check that the account may run SELECT VERSION()"
		return r
	}
	major, minor, ok := preflightParseVersion(p.serverVer)
	if !ok {
		r.OK, r.Warning = true, true
		r.Detail = fmt.Sprintf("unrecognised server version %q; assuming MySQL-compatible", p.serverVer)
		return r
	}
	if p.mariaDB() {
		r.Detail = fmt.Sprintf("MariaDB %d.%d (%s)", major, minor, p.serverVer)
		switch {
		case major > 10 || major == 10 && minor >= 5:
			r.OK = true
		case major == 10 && minor >= 2:
			r.OK, r.Warning = true, true
			r.Detail += ": supported, but binlog_row_metadata=FULL needs MariaDB 10.5+, so table maps cannot be cross-checked"
		default:
			r.Detail += ": too old (MariaDB 10.2 or later is required)"
			r.Fix = "upgrade the server to a supported MariaDB release (10.6 or later recommended)"
		}
		return r
	}
	r.Detail = fmt.Sprintf("MySQL %d.%d (%s)", major, minor, p.serverVer)
	switch {
	case major >= 8:
		r.OK = true
	case major == 5 && minor >= 7:
		r.OK, r.Warning = true, true
		r.Detail += ": end of life; binlog_row_metadata=FULL needs MySQL 8.0, so table maps cannot be cross-checked"
	default:
		r.Detail += ": too old (MySQL 5.7 or later is required)"
		r.Fix = "upgrade the server to MySQL 8.0 or later"
	}
	return r
}

// preflightParseVersion reads major and minor from "8.0.36", "10.11.6-MariaDB-log"
// or "5.5.5-10.11.6-MariaDB" (the replication-compatibility prefix).
func preflightParseVersion(v string) (major, minor int, ok bool) {
	v = strings.TrimPrefix(v, "5.5.5-")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(parts[0])
	minorStr := parts[1]
	if i := strings.IndexFunc(minorStr, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minorStr = minorStr[:i]
	}
	minor, err2 := strconv.Atoi(minorStr)
	return major, minor, err1 == nil && err2 == nil
}

// variableCheck is the shape of the simple "variable must be X" checks.
func (p *preflight) variableCheck(name, variable string, good func(v string) bool, fix string) CheckResult {
	r := CheckResult{Name: name}
	v, ok, err := p.variable(variable)
	switch {
	case err != nil:
		r.Detail = fmt.Sprintf("cannot read server variables: %v", err)
		r.Fix = "check that the account may run SHOW GLOBAL VARIABLES"
	case !ok:
		r.Detail = fmt.Sprintf("the server has no %s variable", variable)
		r.Fix = fix
	case good(v):
		r.OK = true
		r.Detail = variable + "=" + v
	default:
		r.Detail = variable + "=" + v
		r.Fix = fix
	}
	return r
}

func (p *preflight) logBin() CheckResult {
	return p.variableCheck(CheckLogBin, "log_bin",
		func(v string) bool { return strings.EqualFold(v, "ON") || v == "1" },
		"enable the binary log in my.cnf under [mysqld]: log_bin=mysql-bin and server_id=<unique non-zero id>, "+
			"then restart the server (log_bin cannot be changed at runtime)")
}

func (p *preflight) binlogFormat() CheckResult {
	return p.variableCheck(CheckBinlogFormat, "binlog_format",
		func(v string) bool { return strings.EqualFold(v, "ROW") },
		"SET GLOBAL binlog_format=ROW and in my.cnf binlog_format=ROW "+
			"(sessions already open keep their format until they reconnect)")
}

func (p *preflight) binlogRowImage() CheckResult {
	return p.variableCheck(CheckBinlogRowImage, "binlog_row_image",
		func(v string) bool { return strings.EqualFold(v, "FULL") },
		"SET GLOBAL binlog_row_image=FULL and in my.cnf binlog_row_image=FULL")
}

func (p *preflight) binlogRowValueOptions() CheckResult {
	r := CheckResult{Name: CheckBinlogRowValueOptions}
	v, ok, err := p.variable("binlog_row_value_options")
	switch {
	case err != nil:
		r.Detail = fmt.Sprintf("cannot read server variables: %v", err)
		r.Fix = "check that the account may run SHOW GLOBAL VARIABLES"
	case !ok:
		r.OK = true
		r.Detail = "not applicable: the server has no binlog_row_value_options (MariaDB, MySQL before 8.0.3)"
	case strings.Contains(strings.ToUpper(v), "PARTIAL_JSON"):
		r.Detail = "binlog_row_value_options=" + v + ": JSON updates are logged as partial diffs, which cannot be turned into full after images"
		r.Fix = "SET GLOBAL binlog_row_value_options='' and remove binlog_row_value_options=PARTIAL_JSON from my.cnf"
	default:
		r.OK = true
		r.Detail = "binlog_row_value_options='" + v + "'"
	}
	return r
}

// preflightRequiredPrivileges are Debezium's documented grants, each with the
// privilege names that satisfy it. MariaDB 10.5 renamed REPLICATION CLIENT to
// BINLOG MONITOR (SHOW GRANTS prints the new name) and accepts REPLICATION
// REPLICA for REPLICATION SLAVE; SUPER still allows SHOW BINARY LOGS on MySQL.
// REPLICA MONITOR (MariaDB 10.5.9+) only covers SHOW REPLICA STATUS, not the
// binlog status statements, so it does not count.
var preflightRequiredPrivileges = []struct {
	name string
	any  []string
}{
	{"SELECT", []string{"SELECT"}},
	{"RELOAD", []string{"RELOAD"}},
	{"SHOW DATABASES", []string{"SHOW DATABASES"}},
	{"REPLICATION SLAVE", []string{"REPLICATION SLAVE", "REPLICATION REPLICA"}},
	{"REPLICATION CLIENT", []string{"REPLICATION CLIENT", "BINLOG MONITOR", "SUPER"}},
}

func (p *preflight) privileges() CheckResult {
	r := CheckResult{Name: CheckPrivileges}
	rows, err := p.conn.query(p.ctx, "SHOW GRANTS FOR CURRENT_USER()")
	if err != nil {
		r.Detail = fmt.Sprintf("cannot read the account's grants: %v", err)
		r.Fix = "GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO " + p.account()
		return r
	}
	var lines []string
	for _, row := range rows {
		if len(row) > 0 {
			lines = append(lines, row[0])
		}
	}
	g := preflightParseGrants(lines)
	var missing, partial []string
	for _, req := range preflightRequiredPrivileges {
		if g.global["ALL"] || slices.ContainsFunc(req.any, func(n string) bool { return g.global[n] }) {
			continue
		}
		if req.name == "SELECT" && len(g.selectOn) > 0 {
			partial = append(partial, "SELECT only on "+strings.Join(g.selectOn, ", "))
			continue
		}
		missing = append(missing, req.name)
	}
	if len(missing) == 0 {
		r.OK = true
		r.Detail = "SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT granted"
		if len(partial) > 0 {
			r.Warning = true
			r.Detail += " (" + strings.Join(partial, "; ") + ": tables elsewhere cannot be snapshotted)"
		}
		return r
	}
	r.Detail = "missing " + strings.Join(missing, ", ") + " for " + p.account()
	if len(g.roles) > 0 {
		r.Detail += "; privileges granted through roles (" + strings.Join(g.roles, ", ") +
			") are not counted, grant them to the account directly"
	}
	r.Fix = "GRANT " + strings.Join(missing, ", ") + " ON *.* TO " + p.account()
	return r
}

// preflightGrants is what SHOW GRANTS says about the account.
type preflightGrants struct {
	global   map[string]bool // privileges ON *.*; "ALL" for ALL [PRIVILEGES]
	selectOn []string        // objects with a SELECT grant below *.*
	roles    []string        // roles granted ("GRANT `r` TO ...")
}

// preflightParseGrants reads SHOW GRANTS lines such as
//
//	GRANT SELECT, RELOAD, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `u`@`%` IDENTIFIED BY PASSWORD '...'
//	GRANT ALL PRIVILEGES ON `app`.* TO 'u'@'%' WITH GRANT OPTION
//	GRANT SELECT (`a`, `b`), INSERT ON `app`.`t` TO `u`@`%`
//	GRANT BACKUP_ADMIN,BINLOG_ADMIN ON *.* TO `u`@`%`
//	GRANT `role1`@`%`,`role2` TO `u`@`%`
func preflightParseGrants(lines []string) preflightGrants {
	g := preflightGrants{global: map[string]bool{}}
	for _, line := range lines {
		line = strings.TrimSpace(line)
		if len(line) < 6 || !strings.EqualFold(line[:6], "GRANT ") {
			continue
		}
		body := line[6:]
		on := preflightTopLevelIndex(body, " ON ")
		to := preflightTopLevelIndex(body, " TO ")
		if on < 0 || (to >= 0 && to < on) {
			if to > 0 {
				for _, role := range preflightSplitTopLevel(body[:to]) {
					g.roles = append(g.roles, strings.TrimSpace(role))
				}
			}
			continue
		}
		object := body[on+4:]
		if i := preflightTopLevelIndex(object, " TO "); i >= 0 {
			object = object[:i]
		}
		object = strings.ReplaceAll(strings.TrimSpace(object), "`", "")
		global := object == "*.*"
		for _, priv := range preflightSplitTopLevel(body[:on]) {
			if i := strings.IndexByte(priv, '('); i >= 0 {
				priv = priv[:i] // column list
			}
			priv = strings.ToUpper(strings.Join(strings.Fields(priv), " "))
			if priv == "ALL PRIVILEGES" {
				priv = "ALL"
			}
			switch {
			case global:
				g.global[priv] = true
			case priv == "SELECT" || priv == "ALL":
				g.selectOn = append(g.selectOn, object)
			}
		}
	}
	return g
}

// preflightTopLevelIndex finds sep (case-insensitive) in s outside quotes,
// backticks and parentheses, or returns -1.
func preflightTopLevelIndex(s, sep string) int {
	depth := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0 && i+len(sep) <= len(s) && strings.EqualFold(s[i:i+len(sep)], sep):
			return i
		}
	}
	return -1
}

// preflightSplitTopLevel splits s at commas outside quotes and parentheses.
func preflightSplitTopLevel(s string) []string {
	var parts []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

func (p *preflight) gtidMode() CheckResult {
	r := CheckResult{Name: CheckGTIDMode, OK: true}
	if p.varsErr != nil {
		r.Detail = fmt.Sprintf("unknown (cannot read server variables: %v); positions will be binlog file and position", p.varsErr)
		return r
	}
	if p.mariaDB() {
		pos := p.vars["gtid_binlog_pos"]
		if pos == "" {
			pos = "empty"
		}
		r.Detail = fmt.Sprintf("MariaDB GTIDs are always on (gtid_binlog_pos %s, gtid_strict_mode=%s): "+
			"offsets record the MariaDB GTID position together with binlog file and position", pos, p.vars["gtid_strict_mode"])
		return r
	}
	mode, ok := p.vars["gtid_mode"]
	if ok && strings.EqualFold(mode, "ON") {
		r.Detail = "gtid_mode=ON: offsets record the executed GTID set (gtids) together with binlog file and position, " +
			"so the connector can resume on another server of the topology"
		return r
	}
	if !ok {
		mode = "absent"
	}
	r.Detail = "gtid_mode=" + mode + ": positions are binlog file and position only " +
		"(enable GTIDs with gtid_mode=ON and enforce_gtid_consistency=ON to survive a failover)"
	return r
}

// preflightMinRetention is the retention below which the check warns.
const preflightMinRetention = 24 * time.Hour

func (p *preflight) retention() CheckResult {
	r := CheckResult{Name: CheckBinlogRetention}
	rows, err := p.conn.query(p.ctx, "SHOW BINARY LOGS")
	switch {
	case preflightErrorCode(err) == mysql.ER_NO_BINARY_LOGGING:
		r.Detail = "no binary logs: binary logging is off"
		r.Fix = "enable the binary log (see " + CheckLogBin + ")"
		return r
	case err != nil:
		r.Detail = fmt.Sprintf("cannot list binary logs: %v", err)
		r.Fix = "GRANT REPLICATION CLIENT ON *.* TO " + p.account()
		return r
	case len(rows) == 0:
		r.Detail = "the server has no binary logs"
		r.Fix = "enable the binary log (see " + CheckLogBin + ") and check that logs are not purged immediately " +
			"(binlog_expire_logs_seconds, expire_logs_days)"
		return r
	}
	r.OK = true
	logs := fmt.Sprintf("%d binary log(s), oldest %s", len(rows), rows[0][0])

	retention, setting, known := p.retentionSetting()
	switch {
	case !known:
		r.Detail = logs + "; retention unknown (cannot read binlog_expire_logs_seconds/expire_logs_days)"
	case retention == 0:
		r.Detail = logs + "; binary logs are never purged automatically (" + setting + ")"
	case retention < preflightMinRetention:
		r.Warning = true
		r.Detail = fmt.Sprintf("warning: %s; binary logs are kept only %s (%s): if the connector is stopped longer "+
			"than that, its position is purged and a new snapshot is needed", logs, retention, setting)
		r.Fix = p.retentionFix()
	default:
		r.Detail = fmt.Sprintf("%s; binary logs are kept %s (%s)", logs, preflightDays(retention), setting)
	}
	return r
}

// retentionSetting returns how long binlogs are kept (0: forever) and the
// setting that decides it. binlog_expire_logs_seconds (MySQL 8, MariaDB 10.6)
// wins when non-zero, then expire_logs_days (a fraction on MariaDB 10.6+).
func (p *preflight) retentionSetting() (time.Duration, string, bool) {
	if p.varsErr != nil {
		return 0, "", false
	}
	secs, hasSecs := p.vars["binlog_expire_logs_seconds"]
	days, hasDays := p.vars["expire_logs_days"]
	if !hasSecs && !hasDays {
		return 0, "", false
	}
	if s, err := strconv.ParseInt(secs, 10, 64); hasSecs && err == nil && s > 0 {
		return time.Duration(s) * time.Second, "binlog_expire_logs_seconds=" + secs, true
	}
	if d, err := strconv.ParseFloat(days, 64); hasDays && err == nil && d > 0 {
		return time.Duration(d * float64(24*time.Hour)), "expire_logs_days=" + days, true
	}
	var set []string
	if hasSecs {
		set = append(set, "binlog_expire_logs_seconds="+secs)
	}
	if hasDays {
		set = append(set, "expire_logs_days="+days)
	}
	return 0, strings.Join(set, ", "), true
}

func (p *preflight) retentionFix() string {
	if _, ok := p.vars["binlog_expire_logs_seconds"]; ok {
		return "SET GLOBAL binlog_expire_logs_seconds=604800 and in my.cnf binlog_expire_logs_seconds=604800 (7 days)"
	}
	return "SET GLOBAL expire_logs_days=7 and in my.cnf expire_logs_days=7"
}

func preflightDays(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		n := int(d / (24 * time.Hour))
		if n == 1 {
			return "1 day"
		}
		return strconv.Itoa(n) + " days"
	}
	return d.String()
}

func (p *preflight) serverID() CheckResult {
	r := CheckResult{Name: CheckServerID}
	id := p.cfg.ServerID
	if id == 0 {
		r.Detail = "database.server.id is 0; a replica needs a non-zero id"
		r.Fix = fmt.Sprintf("set database.server.id to a number unique among this server's replicas and connectors, e.g. %d",
			preflightSuggestServerID(nil, p.serverIDVal))
		return r
	}
	if p.identityErr == nil && uint64(id) == p.serverIDVal {
		r.Detail = fmt.Sprintf("database.server.id %d is the server's own server_id", id)
		r.Fix = fmt.Sprintf("set database.server.id to a number unique among this server's replicas and connectors, e.g. %d",
			preflightSuggestServerID(nil, p.serverIDVal))
		return r
	}
	replicas, err := p.replicas()
	if err != nil {
		r.OK, r.Warning = true, true
		r.Detail = fmt.Sprintf("database.server.id %d differs from the server's server_id %d, but connected replicas "+
			"could not be listed (%v): a replica with the same id would be disconnected by this connector, and vice versa", id, p.serverIDVal, err)
		if p.mariaDB() {
			r.Fix = "to let this check list replicas: GRANT REPLICATION MASTER ADMIN ON *.* TO " + p.account()
		}
		return r
	}
	var used []uint64
	for _, rep := range replicas {
		used = append(used, rep.id)
		if rep.id == uint64(id) {
			r.Detail = fmt.Sprintf("database.server.id %d is already used by a connected replica (%s); "+
				"the server disconnects one of two replicas with the same id", id, rep.where)
			r.Fix = fmt.Sprintf("set database.server.id to a number no other replica or connector of this server uses, e.g. %d "+
				"(if the replica is another instance of this connector, stop it first)",
				preflightSuggestServerID(used, p.serverIDVal))
		}
	}
	if r.Fix != "" {
		return r
	}
	r.OK = true
	r.Detail = fmt.Sprintf("database.server.id %d is unique (server_id %d, %d other replica(s) connected)", id, p.serverIDVal, len(replicas))
	return r
}

type preflightReplica struct {
	id    uint64
	where string
}

// replicas lists the connected replicas: SHOW REPLICAS (MySQL 8.0.22+, where
// SHOW SLAVE HOSTS is deprecated and gone in 8.4) or SHOW SLAVE HOSTS (MySQL
// before 8.0.22, every MariaDB). The first column is Server_id in both.
func (p *preflight) replicas() ([]preflightReplica, error) {
	var (
		rows [][]string
		err  error
	)
	if !p.mariaDB() {
		rows, err = p.conn.query(p.ctx, "SHOW REPLICAS")
		if code := preflightErrorCode(err); code == mysql.ER_PARSE_ERROR || code == mysql.ER_SYNTAX_ERROR {
			rows, err = p.conn.query(p.ctx, "SHOW SLAVE HOSTS")
		}
	} else {
		rows, err = p.conn.query(p.ctx, "SHOW SLAVE HOSTS")
	}
	if err != nil {
		return nil, err
	}
	out := make([]preflightReplica, 0, len(rows))
	for _, row := range rows {
		if len(row) < 2 {
			continue
		}
		id, err := strconv.ParseUint(row[0], 10, 32)
		if err != nil {
			continue
		}
		where := "host " + row[1]
		if row[1] == "" {
			where = "no report_host"
		}
		out = append(out, preflightReplica{id: id, where: where})
	}
	return out, nil
}

// preflightSuggestServerID returns an id from Debezium's default range
// (5400-6400) that is neither used nor the server's own.
func preflightSuggestServerID(used []uint64, own uint64) uint64 {
	for id := uint64(5400); ; id++ {
		if id != own && !slices.Contains(used, id) {
			return id
		}
	}
}

// preflightConn is a client connection whose queries honour a context.
type preflightConn struct {
	c *client.Conn
}

func (c *preflightConn) close() { _ = c.c.Close() }

// query runs q and returns its rows as text (NULL as ""). A query that ctx
// interrupts leaves the connection broken; later queries fail fast.
func (c *preflightConn) query(ctx context.Context, q string) ([][]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	qctx, cancel := context.WithTimeout(ctx, preflightTimeout)
	defer cancel()
	dl, _ := qctx.Deadline()
	if err := c.c.SetDeadline(dl); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(qctx, func() { _ = c.c.SetDeadline(time.Unix(1, 0)) })
	res, err := c.c.Execute(q)
	if !stop() && err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, fmt.Errorf("%s: %w", q, qctx.Err())
	}
	if err != nil {
		return nil, err
	}
	defer res.Close()
	if res.Resultset == nil {
		return nil, nil
	}
	rows := make([][]string, len(res.Values))
	for i := range res.Values {
		row := make([]string, len(res.Values[i]))
		for j := range row {
			v, err := cloned(res.GetString(i, j))
			if err != nil {
				return nil, fmt.Errorf("%s: row %d column %d: %w", q, i, j, err)
			}
			row[j] = strings.Clone(v)
		}
		rows[i] = row
	}
	return rows, nil
}

// preflightDial connects, bounding the handshake by ctx and preflightTimeout.
func preflightDial(ctx context.Context, cn Connector) (*preflightConn, error) {
	c, err := schema.Dial(ctx, cn, preflightTimeout)
	if err != nil {
		return nil, err
	}
	return &preflightConn{c: c}, nil
}

// preflightErrorCode returns the server error code in err, or 0.
func preflightErrorCode(err error) uint16 {
	var me *mysql.MyError
	if errors.As(err, &me) {
		return me.Code
	}
	return 0
}

// Package mysqlstub is a test MySQL primary: it speaks the client protocol
// and the replication protocol (go-mysql's server package for the
// handshake, caching_sha2_password, and commands), answers the SHOW and
// SELECT @@ statements Rivulet and go-mysql's binlog syncer send (with the
// 8.4 names SHOW BINARY LOG STATUS and SHOW REPLICAS, the old ones refused
// from 8.4 on as the server does), and serves real binlog files with
// COM_BINLOG_DUMP and COM_BINLOG_DUMP_GTID, heartbeats at the period the
// client asks for, and error 1236 for purged or unknown GTIDs. It lets
// `rivulet run` and `check` go through their MySQL branch without a MySQL
// server.
//
// Files of several servers make one history (see Start). Between runs a
// test changes the primary as an operator would: Add (the binlog grew),
// Purge (PURGE BINARY LOGS TO), Disconnect (a restart or network cut),
// Hold (nothing written since the position asked for); Dumps and Queries
// say what the client asked.
//
// What it cannot stand for: it runs no SQL. It has no tables but
// Options.Tables (the schema loader's SHOW statements see those), cannot
// snapshot (SELECT of rows fails): use snapshot.mode=no_data or never. Its
// binlog does not grow while a dump runs: the files are fixed when the dump
// starts. It serves the files' bytes unchanged, so events carry the
// server_id of the server that wrote them, not Options.ServerID. Privileges
// are not checked beyond the password. By default SHOW BINARY LOG STATUS
// reports the first file's start (or Options.StartPos) as the current
// position, so that a fresh start streams the recorded history instead of
// starting at its end.
package mysqlstub

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/go-mysql-org/go-mysql/server"
)

// Options configure a Primary.
type Options struct {
	// Version is what SELECT VERSION() says ("8.0.40", "8.4.3", "9.6.0").
	// From 8.4 on the pre-8.4 statement names (SHOW MASTER STATUS, SHOW
	// SLAVE HOSTS) fail with a syntax error as on the real server.
	Version string
	// ServerID and UUID are @@server_id and @@server_uuid.
	ServerID uint32
	UUID     string
	// Files are binlog files, served in this order under their base names
	// (or Rename's).
	Files []string
	// Rename maps a file's base name to the name this primary gives it
	// (a second primary with the same GTID history names files its own way).
	Rename map[string]string
	// User and Password accepted. Defaults "rivulet" / "secret".
	User, Password string
	// Tables are the tables the server has now, "db.table" -> CREATE TABLE
	// statement: SHOW DATABASES, SHOW FULL TABLES and SHOW CREATE TABLE
	// report them (the schema loader's fresh start), nothing else does.
	Tables map[string]string
	// ReportEnd makes SHOW BINARY LOG STATUS report the end of the last
	// file (a primary at rest); the default reports the first file's start.
	ReportEnd bool
	// StartPos, when set, is the position in the first file SHOW BINARY LOG
	// STATUS reports instead of its start (an event boundary): a fresh start
	// streams from there, after the statements before it.
	StartPos int
}

// file is one served binlog file.
type file struct {
	name      string
	data      []byte
	prevGTIDs string
	gtids     string // GTIDs of the transactions in the file
}

// Primary is a running stub.
type Primary struct {
	opts Options
	ln   net.Listener
	srv  *server.Server

	mu      sync.Mutex
	files   []file
	purged  string
	queries []string
	dumps   []string
	conns   map[net.Conn]chan struct{}
	ids     map[uint32]net.Conn // connection id -> connection, for KILL
	wg      sync.WaitGroup
	closed  bool
	beats   int // heartbeats sent, on every connection
	hold    bool
}

// Start listens on a free local port and serves opts.Files.
func Start(opts Options) (*Primary, error) {
	if opts.User == "" {
		opts.User, opts.Password = "rivulet", "secret"
	}
	if opts.Version == "" {
		opts.Version = "8.0.40"
	}
	if opts.ServerID == 0 {
		opts.ServerID = 1
	}
	p := &Primary{opts: opts, conns: map[net.Conn]chan struct{}{}, ids: map[uint32]net.Conn{}}
	for _, path := range opts.Files {
		f, err := loadFile(path)
		if err != nil {
			return nil, err
		}
		if n, ok := opts.Rename[f.name]; ok {
			f.name = n
		}
		p.files = append(p.files, f)
	}
	// Files of several servers make one history: what their
	// PREVIOUS_GTIDS name together counts as purged before the first file,
	// and each file's previous set is that plus the GTIDs of the files
	// before it, as on one primary. The files' bytes are served unchanged:
	// only this primary's answers (gtid_purged, gtid_executed, the file a
	// GTID dump starts in) use the computed sets.
	base := mysql.NewMysqlGTIDSet()
	for _, f := range p.files {
		if f.prevGTIDs != "" {
			if err := base.Update(f.prevGTIDs); err != nil {
				return nil, fmt.Errorf("previous GTIDs of %s: %w", f.name, err)
			}
		}
	}
	p.purged = base.String()
	for i := range p.files {
		p.files[i].prevGTIDs = base.String()
		if p.files[i].gtids != "" {
			_ = base.Update(p.files[i].gtids)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p.ln = ln
	key, err := rsaKey()
	if err != nil {
		ln.Close()
		return nil, err
	}
	// MySQL 8's default authentication: caching_sha2_password, the full
	// exchange (RSA public key) on a connection without TLS.
	p.srv = server.NewServer(opts.Version+"-stub", mysql.DEFAULT_COLLATION_ID, mysql.AUTH_CACHING_SHA2_PASSWORD, key, nil)
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

var (
	keyOnce sync.Once
	key     *rsa.PrivateKey
	keyErr  error
)

// rsaKey is one key per process (generating one takes a while).
func rsaKey() (*rsa.PrivateKey, error) {
	keyOnce.Do(func() { key, keyErr = rsa.GenerateKey(rand.Reader, 2048) })
	return key, keyErr
}

// Addr returns the host and port to connect to.
func (p *Primary) Addr() (string, int) {
	a := p.ln.Addr().(*net.TCPAddr)
	return a.IP.String(), a.Port
}

// Queries returns the statements received so far.
func (p *Primary) Queries() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.queries...)
}

// Heartbeats returns the number of heartbeats sent so far on every
// connection: a dump sends them only after the last file's last event, so
// a count that grows tells a test the stream reached the end of the files.
func (p *Primary) Heartbeats() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.beats
}

// Add appends a binlog file, as if the primary rotated to it and wrote it:
// later dumps serve it (a dump already running does not).
func (p *Primary) Add(path string) error {
	f, err := loadFile(path)
	if err != nil {
		return err
	}
	if n, ok := p.opts.Rename[f.name]; ok {
		f.name = n
	}
	_, executed, _ := p.state()
	p.mu.Lock()
	defer p.mu.Unlock()
	f.prevGTIDs = executed
	p.files = append(p.files, f)
	return nil
}

// Hold makes later dumps send no event of the files, only heartbeats: a
// primary with nothing written since the position asked for. A connector
// started fresh on a holding primary stores the files' start as its
// position and reads nothing.
func (p *Primary) Hold(on bool) {
	p.mu.Lock()
	p.hold = on
	p.mu.Unlock()
}

// Dumps returns the dump requests received so far: "gtid <set>" for
// COM_BINLOG_DUMP_GTID, "pos <file>:<pos>" for COM_BINLOG_DUMP.
func (p *Primary) Dumps() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.dumps...)
}

func (p *Primary) logDump(d string) {
	p.mu.Lock()
	p.dumps = append(p.dumps, d)
	p.mu.Unlock()
}

// Purge removes the files before name, as PURGE BINARY LOGS TO does:
// gtid_purged becomes the GTIDs before it.
func (p *Primary) Purge(name string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, f := range p.files {
		if f.name == name {
			p.files = p.files[i:]
			p.purged = f.prevGTIDs
			return nil
		}
	}
	return fmt.Errorf("no binlog %s", name)
}

// kill closes the connection with that id (KILL); false if there is none.
func (p *Primary) kill(id uint32) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	nc, ok := p.ids[id]
	if ok {
		nc.Close()
	}
	return ok
}

// Disconnect ends every open connection, as a server restart or a network
// cut does; the primary keeps listening.
func (p *Primary) Disconnect() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for nc := range p.conns {
		nc.Close()
	}
}

// Close stops listening and ends every connection; it waits for them.
func (p *Primary) Close() error {
	p.mu.Lock()
	p.closed = true
	// The net.Conn, not the server.Conn: closing it is safe while the
	// connection's goroutine reads or writes, and ends them.
	for nc, done := range p.conns {
		close(done)
		nc.Close()
	}
	p.conns = map[net.Conn]chan struct{}{}
	p.mu.Unlock()
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

func (p *Primary) accept() {
	defer p.wg.Done()
	for {
		nc, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.serve(nc)
	}
}

func (p *Primary) serve(nc net.Conn) {
	defer p.wg.Done()
	h := &handler{p: p, done: make(chan struct{}), heartbeat: time.Second}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		nc.Close()
		return
	}
	p.conns[nc] = h.done
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		if d, ok := p.conns[nc]; ok {
			close(d)
			delete(p.conns, nc)
		}
		p.mu.Unlock()
		nc.Close()
		h.wait()
	}()
	c, err := p.srv.NewConn(nc, p.opts.User, p.opts.Password, h)
	if err != nil {
		return
	}
	id := c.ConnectionID()
	p.mu.Lock()
	p.ids[id] = nc
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.ids, id)
		p.mu.Unlock()
	}()
	for {
		if err := c.HandleCommand(); err != nil || c.Closed() {
			return
		}
	}
}

// loadFile reads a binlog file and the GTIDs it holds.
func loadFile(path string) (file, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return file{}, err
	}
	f := file{name: filepath.Base(path), data: data}
	if len(data) < 4 || !bytes.Equal(data[:4], []byte{0xfe, 'b', 'i', 'n'}) {
		return f, fmt.Errorf("%s is not a binlog file", path)
	}
	set := mysql.NewMysqlGTIDSet()
	err = walk(data, func(off int, raw []byte, ev *replication.BinlogEvent) error {
		switch e := ev.Event.(type) {
		case *replication.PreviousGTIDsEvent:
			f.prevGTIDs = e.GTIDSets
		case *replication.GTIDEvent:
			if e.GNO > 0 {
				if err := set.Update(fmt.Sprintf("%s:%d", sid(e.SID), e.GNO)); err != nil {
					return err
				}
			}
		case *replication.GtidTaggedLogEvent:
			if err := set.Update(gtidOf(&e.GTIDEvent, e.Tag.String())); err != nil {
				return err
			}
		}
		return nil
	})
	f.gtids = set.String()
	return f, err
}

func gtidOf(e *replication.GTIDEvent, tag string) string {
	if tag != "" {
		return fmt.Sprintf("%s:%s:%d", sid(e.SID), tag, e.GNO)
	}
	return fmt.Sprintf("%s:%d", sid(e.SID), e.GNO)
}

func sid(b []byte) string {
	var s strings.Builder
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			s.WriteByte('-')
		}
		fmt.Fprintf(&s, "%02x", c)
	}
	return s.String()
}

// walk calls fn for every event of a binlog file's bytes.
func walk(data []byte, fn func(off int, raw []byte, ev *replication.BinlogEvent) error) error {
	p := replication.NewBinlogParser()
	p.SetVerifyChecksum(false)
	p.SetRawMode(false)
	off := 4
	for off+replication.EventHeaderSize <= len(data) {
		size := int(binary.LittleEndian.Uint32(data[off+9:]))
		if size < replication.EventHeaderSize || off+size > len(data) {
			break // a partial last event: the file was copied while written
		}
		raw := data[off : off+size]
		ev, err := p.Parse(raw)
		if err != nil {
			return fmt.Errorf("event at %d: %w", off, err)
		}
		if err := fn(off, raw, ev); err != nil {
			return err
		}
		off += size
	}
	return nil
}

// state returns the binlog state the statements report.
func (p *Primary) state() (files []file, executed, purged string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	set := mysql.NewMysqlGTIDSet()
	for i, f := range p.files {
		if i == 0 && f.prevGTIDs != "" {
			_ = set.Update(f.prevGTIDs)
		}
		if f.gtids != "" {
			_ = set.Update(f.gtids)
		}
	}
	return append([]file(nil), p.files...), set.String(), p.purged
}

// databases lists the system databases and those of Options.Tables.
func (p *Primary) databases() []string {
	dbs := []string{"information_schema", "mysql", "performance_schema", "sys"}
	seen := map[string]bool{}
	for id := range p.opts.Tables {
		d, _, _ := strings.Cut(id, ".")
		if !seen[d] {
			seen[d] = true
			dbs = append(dbs, d)
		}
	}
	return dbs
}

func unquote(s string) string {
	return strings.ReplaceAll(strings.Trim(strings.TrimSpace(s), "`"), "``", "`")
}

// errParse is what a server answers to a statement it does not know.
func errParse(q string) error {
	return mysql.NewError(mysql.ER_PARSE_ERROR, fmt.Sprintf("You have an error in your SQL syntax; the stub does not know %.80q", q))
}

// handler serves one connection.
type handler struct {
	server.EmptyReplicationHandler
	p         *Primary
	done      chan struct{}
	heartbeat time.Duration
	feeders   sync.WaitGroup
}

func (h *handler) wait() { h.feeders.Wait() }

func (h *handler) UseDB(string) error { return nil }

func (h *handler) HandleOtherCommand(cmd byte, data []byte) error {
	return mysql.NewError(mysql.ER_UNKNOWN_COM_ERROR, fmt.Sprintf("command %d is not supported by the stub", cmd))
}

func (h *handler) HandleRegisterSlave([]byte) error { return nil }

var (
	reHeartbeat = regexp.MustCompile(`(?i)@master_heartbeat_period\s*=\s*(\d+)`)
	reVariables = regexp.MustCompile(`(?i)^SHOW (GLOBAL |SESSION )?VARIABLES`)
)

func (h *handler) HandleQuery(q string) (*mysql.Result, error) {
	p := h.p
	p.mu.Lock()
	p.queries = append(p.queries, q)
	p.mu.Unlock()
	files, executed, purged := p.state()
	up := strings.ToUpper(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(q), ";")))
	new84 := !strings.HasPrefix(p.opts.Version, "8.0") && !strings.HasPrefix(p.opts.Version, "5.")
	one := func(name string, v any) (*mysql.Result, error) { return result([]string{name}, [][]any{{v}}) }
	switch {
	case strings.HasPrefix(up, "KILL "):
		// go-mysql's binlog syncer ends its dump connection this way on Close.
		id, err := strconv.ParseUint(strings.TrimSpace(up[len("KILL "):]), 10, 32)
		if err != nil || !p.kill(uint32(id)) {
			return nil, mysql.NewError(mysql.ER_NO_SUCH_THREAD, fmt.Sprintf("Unknown thread id: %s", strings.TrimSpace(q[len("KILL "):])))
		}
		return &mysql.Result{}, nil
	case strings.HasPrefix(up, "SET "):
		if m := reHeartbeat.FindStringSubmatch(q); m != nil {
			if ns, err := strconv.ParseInt(m[1], 10, 64); err == nil && ns > 0 {
				h.heartbeat = time.Duration(ns)
			}
		}
		return &mysql.Result{}, nil
	case up == "SELECT VERSION()":
		return one("VERSION()", p.opts.Version)
	case up == "SELECT VERSION(), CURRENT_USER(), @@SERVER_ID":
		return result([]string{"VERSION()", "CURRENT_USER()", "@@server_id"}, [][]any{{p.opts.Version, p.opts.User + "@%", p.opts.ServerID}})
	case up == "SELECT @@GLOBAL.GTID_MODE" || up == "SELECT @@GTID_MODE":
		return one("@@GLOBAL.gtid_mode", "ON")
	case up == "SELECT @@GLOBAL.SERVER_ID" || up == "SELECT @@SERVER_ID":
		return one("@@GLOBAL.server_id", p.opts.ServerID)
	case up == "SELECT @@GLOBAL.SERVER_UUID" || up == "SELECT @@SERVER_UUID":
		return one("@@GLOBAL.server_uuid", p.opts.UUID)
	case up == "SELECT @@GLOBAL.GTID_EXECUTED" || up == "SELECT @@GTID_EXECUTED":
		return one("@@GLOBAL.gtid_executed", executed)
	case up == "SELECT @@GLOBAL.GTID_PURGED" || up == "SELECT @@GTID_PURGED":
		return one("@@GLOBAL.gtid_purged", purged)
	case up == "SELECT @@CHARACTER_SET_SERVER":
		return one("@@character_set_server", "utf8mb4")
	case up == "SELECT @@COLLATION_SERVER":
		return one("@@collation_server", "utf8mb4_general_ci")
	case up == "SELECT @@VERSION_COMMENT LIMIT 1":
		return one("@@version_comment", "rivulet mysqlstub")
	case up == "SHOW MASTER STATUS" && new84:
		return nil, errParse(q)
	case up == "SHOW MASTER STATUS" || up == "SHOW BINARY LOG STATUS":
		names := []string{"File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB", "Executed_Gtid_Set"}
		if len(files) == 0 {
			return result(names, nil)
		}
		if p.opts.ReportEnd {
			last := files[len(files)-1]
			return result(names, [][]any{{last.name, len(last.data), "", "", executed}})
		}
		return result(names, [][]any{{files[0].name, max(4, p.opts.StartPos), "", "", files[0].prevGTIDs}})
	case up == "SHOW BINARY LOGS" || up == "SHOW MASTER LOGS":
		var rows [][]any
		for _, f := range files {
			rows = append(rows, []any{f.name, len(f.data), "No"})
		}
		return result([]string{"Log_name", "File_size", "Encrypted"}, rows)
	case up == "SHOW SLAVE HOSTS" && new84:
		return nil, errParse(q)
	case up == "SHOW SLAVE HOSTS" || up == "SHOW REPLICAS":
		return result([]string{"Server_id", "Host", "Port", "Source_id", "Replica_UUID"}, nil)
	case up == "SHOW GRANTS FOR CURRENT_USER()" || up == "SHOW GRANTS":
		return one("Grants for "+p.opts.User+"@%", "GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `"+p.opts.User+"`@`%`")
	case reVariables.MatchString(up):
		return h.variables(q)
	case up == "SHOW DATABASES":
		var rows [][]any
		for _, db := range p.databases() {
			rows = append(rows, []any{db})
		}
		return result([]string{"Database"}, rows)
	case strings.HasPrefix(up, "SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM INFORMATION_SCHEMA.SCHEMATA"):
		var rows [][]any
		for _, db := range p.databases() {
			rows = append(rows, []any{db, "utf8mb4", "utf8mb4_general_ci"})
		}
		return result([]string{"SCHEMA_NAME", "DEFAULT_CHARACTER_SET_NAME", "DEFAULT_COLLATION_NAME"}, rows)
	case strings.HasPrefix(up, "SHOW FULL TABLES FROM "):
		db := unquote(q[len("SHOW FULL TABLES FROM "):])
		var rows [][]any
		for id := range p.opts.Tables {
			if d, t, _ := strings.Cut(id, "."); d == db {
				rows = append(rows, []any{t, "BASE TABLE"})
			}
		}
		return result([]string{"Tables_in_" + db, "Table_type"}, rows)
	case strings.HasPrefix(up, "SHOW CREATE TABLE "):
		id := q[len("SHOW CREATE TABLE "):]
		d, t, _ := strings.Cut(id, "`.`")
		key := unquote(d) + "." + unquote(t)
		if ddl, ok := p.opts.Tables[key]; ok {
			return result([]string{"Table", "Create Table"}, [][]any{{unquote(t), ddl}})
		}
		return nil, mysql.NewError(mysql.ER_NO_SUCH_TABLE, fmt.Sprintf("Table '%s' doesn't exist", key))
	}
	return nil, errParse(q)
}

// variables answers SHOW VARIABLES with the settings of a primary Rivulet
// accepts (ROW, FULL image and metadata, CRC32 checksums, GTIDs on).
func (h *handler) variables(q string) (*mysql.Result, error) {
	vars := [][2]string{
		{"binlog_checksum", "CRC32"}, {"binlog_format", "ROW"}, {"binlog_row_image", "FULL"},
		{"binlog_row_metadata", "FULL"}, {"binlog_row_value_options", ""}, {"log_bin", "ON"},
		{"gtid_mode", "ON"}, {"enforce_gtid_consistency", "ON"}, {"binlog_expire_logs_seconds", "2592000"},
		{"server_id", strconv.FormatUint(uint64(h.p.opts.ServerID), 10)}, {"server_uuid", h.p.opts.UUID},
		{"rpl_semi_sync_master_enabled", "OFF"}, {"binlog_transaction_compression", "OFF"},
		{"character_set_server", "utf8mb4"}, {"version", h.p.opts.Version},
	}
	low := strings.ToLower(q)
	var rows [][]any
	for _, v := range vars {
		if strings.Contains(low, "'"+v[0]+"'") {
			rows = append(rows, []any{v[0], v[1]})
		}
	}
	return result([]string{"Variable_name", "Value"}, rows)
}

func result(names []string, rows [][]any) (*mysql.Result, error) {
	for _, r := range rows {
		for i, v := range r {
			switch x := v.(type) {
			case int:
				r[i] = int64(x)
			case uint32:
				r[i] = uint64(x)
			}
		}
	}
	rs, err := mysql.BuildSimpleTextResultset(names, rows)
	if err != nil {
		return nil, err
	}
	return mysql.NewResult(rs), nil
}

// HandleBinlogDump serves COM_BINLOG_DUMP from a file and position.
func (h *handler) HandleBinlogDump(pos mysql.Position) (*replication.BinlogStreamer, error) {
	h.p.logDump(fmt.Sprintf("pos %s:%d", pos.Name, pos.Pos))
	files, _, _ := h.p.state()
	for i, f := range files {
		if f.name == pos.Name {
			if int(pos.Pos) > len(f.data) || pos.Pos < 4 && pos.Pos != 0 {
				return nil, err1236(fmt.Sprintf("Client requested source to start replication from position > file size; the first event '%s' at %d", pos.Name, pos.Pos))
			}
			return h.stream(files[i:], int(max(pos.Pos, 4)), nil), nil
		}
	}
	return nil, err1236("Could not find first log file name in binary log index file")
}

// HandleBinlogDumpGTID serves COM_BINLOG_DUMP_GTID: from the oldest file
// whose PREVIOUS_GTIDS the client's set contains, skipping the
// transactions in the set. A set missing purged GTIDs, or holding GTIDs
// this primary never executed, is refused with error 1236 as MySQL does.
func (h *handler) HandleBinlogDumpGTID(set *mysql.MysqlGTIDSet) (*replication.BinlogStreamer, error) {
	h.p.logDump("gtid " + set.String())
	files, executed, purged := h.p.state()
	ex, _ := mysql.ParseMysqlGTIDSet(executed)
	if !ex.Contain(set) {
		return nil, err1236(fmt.Sprintf("Slave has more GTIDs than the master has, using the master's SERVER_UUID. This may indicate that the end of the binary log was truncated or that the last binary log file was lost, e.g., after a power or disk failure when sync_binlog != 1. The master may or may not have rolled back transactions that were already replicated to the slave. Suggest to replicate any transactions that master has rolled back from slave to master, and/or commit empty transactions on master to account for transactions that have been committed on master but are not included in GTID_EXECUTED. (client set %s, executed %s)", set, executed))
	}
	if purged != "" {
		pg, _ := mysql.ParseMysqlGTIDSet(purged)
		if !set.Contain(pg) {
			return nil, err1236(fmt.Sprintf("Cannot replicate because the master purged required binary logs. Replicate the missing transactions from elsewhere, or provision a new slave from backup. Consider increasing the master's binary log expiration period. The GTID set sent by the slave is '%s', and the missing transactions are the ones purged: '%s'", set, purged))
		}
	}
	start := 0
	for i, f := range files {
		prev, _ := mysql.ParseMysqlGTIDSet(f.prevGTIDs)
		if f.prevGTIDs == "" || set.Contain(prev) {
			start = i
		}
	}
	return h.stream(files[start:], 4, set), nil
}

func err1236(msg string) error {
	return mysql.NewError(mysql.ER_MASTER_FATAL_ERROR_READING_BINLOG, msg)
}

// stream feeds the files from off (in the first) to a streamer, then
// heartbeats until the connection ends. skip, when set, holds the GTIDs
// whose transactions are not sent.
func (h *handler) stream(files []file, off int, skip *mysql.MysqlGTIDSet) *replication.BinlogStreamer {
	s := replication.NewBinlogStreamerWithChanSize(64)
	h.feeders.Add(1)
	go func() {
		defer h.feeders.Done()
		send := func(raw []byte) bool {
			ev := &replication.BinlogEvent{RawData: raw}
			select {
			case <-h.done:
				s.AddErrorToStreamer(io.EOF)
				return false
			default:
			}
			if err := addEvent(s, ev, h.done); err != nil {
				return false
			}
			return true
		}
		id := h.p.opts.ServerID
		var last file
		rotated := false
		h.p.mu.Lock()
		hold := h.p.hold
		h.p.mu.Unlock()
		if hold && len(files) > 0 {
			if !send(rotateEvent(id, files[0].name, uint64(off), true, false)) {
				return
			}
			last, files = file{name: files[0].name, data: make([]byte, off)}, nil
		}
		for i, f := range files {
			last = f
			from := 4
			if i == 0 {
				from = off
			}
			// A dump starts with an artificial ROTATE naming the file, sent
			// before any FORMAT_DESCRIPTION and so without a checksum (the
			// client said it is checksum-aware: @master_binlog_checksum).
			// A file the previous one did not rotate to (it ended with a
			// STOP event) is announced the same way, after a format, so with
			// its CRC32.
			if i == 0 {
				if !send(rotateEvent(id, f.name, uint64(from), true, false)) {
					return
				}
			}
			if i > 0 && !rotated {
				if !send(rotateEvent(id, f.name, 4, true, true)) {
					return
				}
			}
			rotated = false
			skipping := false
			err := walk(f.data, func(o int, raw []byte, ev *replication.BinlogEvent) error {
				if o < from && ev.Header.EventType != replication.FORMAT_DESCRIPTION_EVENT {
					return nil
				}
				switch e := ev.Event.(type) {
				case *replication.GTIDEvent:
					skipping = skip != nil && e.GNO > 0 && containsGTID(skip, gtidOf(e, ""))
				case *replication.GtidTaggedLogEvent:
					skipping = skip != nil && containsGTID(skip, gtidOf(&e.GTIDEvent, e.Tag.String()))
				case *replication.RotateEvent:
					rotated = true
					if n, ok := h.p.opts.Rename[string(e.NextLogName)]; ok {
						raw = rotateEvent(id, n, e.Position, false, true)
					}
				}
				if skipping {
					return nil
				}
				if o < from { // the FORMAT_DESCRIPTION event of a dump from a later position
					raw = bytes.Clone(raw)
					binary.LittleEndian.PutUint32(raw[13:], 0)
				}
				if !send(raw) {
					return errStop
				}
				return nil
			})
			if err != nil {
				return
			}
		}
		for {
			select {
			case <-h.done:
				s.AddErrorToStreamer(io.EOF)
				return
			case <-time.After(h.heartbeat):
			}
			if !send(heartbeatEvent(id, last.name, uint64(len(last.data)))) {
				return
			}
			h.p.mu.Lock()
			h.p.beats++
			h.p.mu.Unlock()
		}
	}()
	return s
}

var errStop = errors.New("stop")

func addEvent(s *replication.BinlogStreamer, ev *replication.BinlogEvent, done chan struct{}) error {
	ch := make(chan error, 1)
	go func() { ch <- s.AddEventToStreamer(ev) }()
	select {
	case err := <-ch:
		return err
	case <-done:
		// One error ends the pending add, one the connection's GetEvent.
		s.AddErrorToStreamer(io.EOF)
		s.AddErrorToStreamer(io.EOF)
		<-ch
		return io.EOF
	}
}

func containsGTID(set *mysql.MysqlGTIDSet, gtid string) bool {
	g, err := mysql.ParseMysqlGTIDSet(gtid)
	return err == nil && set.Contain(g)
}

// rotateEvent builds a ROTATE event (with CRC32): artificial ones start a
// dump, as the server sends them.
func rotateEvent(serverID uint32, name string, pos uint64, artificial, crc bool) []byte {
	body := binary.LittleEndian.AppendUint64(nil, pos)
	body = append(body, name...)
	var flags uint16
	if artificial {
		flags = replication.LOG_EVENT_ARTIFICIAL_F
	}
	return mkEvent(replication.ROTATE_EVENT, serverID, 0, flags, body, crc)
}

// heartbeatEvent builds a HEARTBEAT_LOG_EVENT naming the current file.
func heartbeatEvent(serverID uint32, name string, pos uint64) []byte {
	return mkEvent(replication.HEARTBEAT_EVENT, serverID, uint32(pos), 0, []byte(name), true)
}

func mkEvent(t replication.EventType, serverID, logPos uint32, flags uint16, body []byte, crc bool) []byte {
	size := replication.EventHeaderSize + len(body)
	if crc {
		size += 4
	}
	b := make([]byte, 0, size)
	b = binary.LittleEndian.AppendUint32(b, 0) // timestamp 0: artificial
	b = append(b, byte(t))
	b = binary.LittleEndian.AppendUint32(b, serverID)
	b = binary.LittleEndian.AppendUint32(b, uint32(size))
	b = binary.LittleEndian.AppendUint32(b, logPos)
	b = binary.LittleEndian.AppendUint16(b, flags)
	b = append(b, body...)
	if !crc {
		return b
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

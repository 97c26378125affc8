package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
)

// Credentials of the account every Server creates for tests. It holds every
// privilege (ALL ON *.* WITH GRANT OPTION, which includes REPLICATION SLAVE,
// REPLICATION CLIENT, RELOAD and SHOW DATABASES).
const (
	TestUser     = "rivulet"
	TestPassword = "rivulet-test-pw"
)

const (
	installHint  = "mariadbd not found: apt-get install -y mariadb-server"
	readyTimeout = 30 * time.Second
	stopTimeout  = 20 * time.Second
	dialTimeout  = 5 * time.Second
	logTailBytes = 4000
	// startAttempts bounds retries when the free port we picked was taken
	// by someone else before mariadbd bound it.
	startAttempts = 3
)

// Server is a mariadbd process listening on Host:Port with its own temporary
// data directory. Fields are read-only for tests.
type Server struct {
	Host     string // always "127.0.0.1"
	Port     int
	User     string // TestUser, with all privileges
	Password string // TestPassword
	ServerID uint32 // @@server_id
	Version  string // SELECT VERSION(), e.g. "10.11.19-MariaDB-0+deb12u1-log"
	Flavor   string // "mariadb"
	Dir      string // temporary directory holding data/, the socket and logs

	shared bool
	args   []string
	tls    bool // the test helpers connect over TLS (WithTLS)

	mu   sync.Mutex
	proc *process // nil while stopped
}

type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and been reaped
	err  error         // cmd.Wait's result, valid after done
}

// Option configures a server started by StartMariaDB.
type Option func(*serverConfig)

type serverConfig struct {
	serverID uint32
	args     []string
	tls      bool
}

// WithServerID sets --server-id (default 1).
func WithServerID(id uint32) Option {
	return func(c *serverConfig) { c.serverID = id }
}

// WithArgs appends mariadbd command-line options, e.g.
// "--max-binlog-size=4096" or "--binlog-row-image=MINIMAL". They come after
// the defaults, so they override them.
func WithArgs(args ...string) Option {
	return func(c *serverConfig) { c.args = append(c.args, args...) }
}

// WithTLS turns TLS on with the PEM files ca (ssl-ca: the CA that client
// certificates must chain to), cert and key (the server's): see NewCA and
// CA.Issue. The test helpers (Conn, Exec, Query) connect over TLS without
// verifying the server. MariaDB re-reads the files at FLUSH SSL.
func WithTLS(ca, cert, key string) Option {
	return func(c *serverConfig) {
		c.tls = true
		c.args = append(c.args, "--ssl", "--ssl-ca="+ca, "--ssl-cert="+cert, "--ssl-key="+key)
	}
}

// WithRequireSecureTransport refuses every unencrypted TCP connection
// (require_secure_transport=ON, MariaDB 10.5.2+), as RDS and Aurora can.
// Use it with WithTLS.
func WithRequireSecureTransport() Option {
	return func(c *serverConfig) { c.args = append(c.args, "--require-secure-transport=ON") }
}

var (
	sharedSrv   sharedFixture[*Server]
	liveServers liveSet[*Server] // servers to stop in Main
)

// MariaDB returns the server shared by all tests of this test binary,
// starting it on first use. A failed start is remembered: every later call
// fails the same way without retrying. It skips the test under -short. Tests
// must not stop or restart the shared server; use StartMariaDB for that.
func MariaDB(t testing.TB) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping MariaDB integration test in -short mode")
	}
	if _, err := findMariadbd(); err != nil {
		t.Fatal(installHint)
	}
	srv, err := sharedSrv.get(func() (*Server, error) {
		s, err := startServer(serverConfig{serverID: 1})
		if err == nil {
			s.shared = true
		}
		return s, err
	})
	if err != nil {
		t.Fatalf("start shared mariadbd: %v", err)
	}
	return srv
}

// StartMariaDB starts a server owned by the calling test: it is stopped and
// its data removed at t.Cleanup. Use it for tests that stop, kill or restart
// the database. It skips the test under -short.
func StartMariaDB(t testing.TB, opts ...Option) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping MariaDB integration test in -short mode")
	}
	if _, err := findMariadbd(); err != nil {
		t.Fatal(installHint)
	}
	cfg := serverConfig{serverID: 1}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := startServer(cfg)
	if err != nil {
		t.Fatalf("start mariadbd: %v", err)
	}
	t.Cleanup(func() {
		if err := s.close(); err != nil {
			t.Errorf("stop mariadbd on port %d: %v", s.Port, err)
		}
	})
	return s
}

// Addr returns "127.0.0.1:port".
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// ErrorLog returns the path of the server's error log.
func (s *Server) ErrorLog() string { return filepath.Join(s.Dir, "error.log") }

// Running reports whether the mariadbd process is up (it may not accept
// connections yet or any more).
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return false
	}
	select {
	case <-s.proc.done:
		return false
	default:
		return true
	}
}

// Stop shuts the server down gracefully (SIGTERM, SIGKILL after a timeout).
// Its data stays; Start brings it back on the same port.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.mustOwn(t)
	if err := s.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("stop mariadbd on port %d: %v", s.Port, err)
	}
}

// Kill ends the server with SIGKILL, as a crash would. Start brings it back
// (InnoDB runs crash recovery).
func (s *Server) Kill(t testing.TB) {
	t.Helper()
	s.mustOwn(t)
	if err := s.stop(syscall.SIGKILL); err != nil {
		t.Fatalf("kill mariadbd on port %d: %v", s.Port, err)
	}
}

// Start starts a stopped or killed server again on the same port and data
// directory and waits until it accepts connections.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	s.mustOwn(t)
	if err := s.start(); err != nil {
		t.Fatalf("start mariadbd on port %d: %v", s.Port, err)
	}
}

// Restart is Stop then Start.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop(t)
	s.Start(t)
}

func (s *Server) mustOwn(t testing.TB) {
	t.Helper()
	if s.shared {
		t.Fatal("testenv: the shared MariaDB server cannot be stopped or restarted; use testenv.StartMariaDB")
	}
}

// Conn opens a connection as the test user to db (may be ""), closed at
// t.Cleanup. Use it when statements must share a session across calls.
func (s *Server) Conn(t testing.TB, db string) *client.Conn {
	t.Helper()
	c, err := s.connect(s.User, s.Password, db)
	if err != nil {
		t.Fatalf("connect to mariadbd %s as %s (db %q): %v", s.Addr(), s.User, db, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Exec runs stmts in order on one new connection to db (may be ""), so a
// "BEGIN" ... "COMMIT" sequence in one call is one transaction. It fails the
// test on the first error, naming the statement.
func (s *Server) Exec(t testing.TB, db string, stmts ...string) {
	t.Helper()
	c, err := s.connect(s.User, s.Password, db)
	if err != nil {
		t.Fatalf("connect to mariadbd %s (db %q): %v", s.Addr(), db, err)
	}
	defer c.Close()
	for _, q := range stmts {
		r, err := c.Execute(q)
		if err != nil {
			t.Fatalf("exec on mariadbd %s (db %q): %s: %v", s.Addr(), db, q, err)
		}
		r.Close()
	}
}

// Query runs q on db (may be "") and returns its rows as text; SQL NULL is
// returned as "NULL". It fails the test on error.
func (s *Server) Query(t testing.TB, db, q string) [][]string {
	t.Helper()
	c, err := s.connect(s.User, s.Password, db)
	if err != nil {
		t.Fatalf("connect to mariadbd %s (db %q): %v", s.Addr(), db, err)
	}
	defer c.Close()
	r, err := c.Execute(q)
	if err != nil {
		t.Fatalf("query on mariadbd %s (db %q): %s: %v", s.Addr(), db, q, err)
	}
	defer r.Close()
	if r.Resultset == nil {
		return nil
	}
	rows := make([][]string, 0, len(r.Values))
	for i, vals := range r.Values {
		row := make([]string, len(vals))
		for j := range vals {
			if vals[j].Value() == nil {
				row[j] = "NULL"
				continue
			}
			v, err := r.GetString(i, j)
			if err != nil {
				t.Fatalf("query on mariadbd %s: %s: row %d column %d: %v", s.Addr(), q, i, j, err)
			}
			// GetString may alias the result buffer, which Close recycles.
			row[j] = strings.Clone(v)
		}
		rows = append(rows, row)
	}
	return rows
}

func (s *Server) connect(user, password, db string) (*client.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	var opts []client.Option
	if s.tls {
		opts = append(opts, func(c *client.Conn) error { c.UseSSL(true); return nil })
	}
	return client.ConnectWithContext(ctx, s.Addr(), user, password, db, dialTimeout, opts...)
}

// startServer initialises a data directory and starts mariadbd on a free port.
func startServer(cfg serverConfig) (*Server, error) {
	dir, err := os.MkdirTemp("", "rivulet-mariadb-")
	if err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	s := &Server{
		Host:     "127.0.0.1",
		User:     TestUser,
		Password: TestPassword,
		ServerID: cfg.serverID,
		Flavor:   "mariadb",
		Dir:      dir,
		tls:      cfg.tls,
	}
	fail := func(err error) (*Server, error) {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := installDB(dir); err != nil {
		return fail(err)
	}
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return fail(err)
		}
		s.Port = port
		s.args = serverArgs(dir, port, cfg)
		err = s.start()
		if err == nil {
			break
		}
		if attempt < startAttempts && errors.Is(err, errPortInUse) {
			continue
		}
		return fail(err)
	}
	if err := s.setup(); err != nil {
		_ = s.stop(syscall.SIGKILL)
		return fail(err)
	}
	liveServers.add(s)
	return s, nil
}

// serverArgs are the flags of every test server: the binlog as Rivulet needs
// it (ROW, FULL image, FULL metadata) plus a small footprint for a 2-core
// machine running several test binaries at once. Durability knobs are relaxed
// (flush at commit 2, sync_binlog 0): a killed mariadbd loses nothing since the
// OS still holds the writes; only a machine crash would.
func serverArgs(dir string, port int, cfg serverConfig) []string {
	args := []string{
		"--no-defaults",
		"--datadir=" + filepath.Join(dir, "data"),
		"--socket=" + filepath.Join(dir, "mysqld.sock"),
		"--pid-file=" + filepath.Join(dir, "mysqld.pid"),
		"--log-error=" + filepath.Join(dir, "error.log"),
		"--tmpdir=" + dir,
		"--port=" + strconv.Itoa(port),
		"--bind-address=127.0.0.1",
		"--log-bin=mysql-bin",
		"--binlog-format=ROW",
		"--binlog-row-image=FULL",
		"--binlog-row-metadata=FULL",
		"--server-id=" + strconv.FormatUint(uint64(cfg.serverID), 10),
		"--log-slave-updates",
		"--skip-name-resolve",
		"--character-set-server=utf8mb4",
		"--collation-server=utf8mb4_general_ci",
		"--innodb-buffer-pool-size=64M",
		"--innodb-log-file-size=16M",
		"--innodb-log-buffer-size=4M",
		"--innodb-flush-log-at-trx-commit=2",
		"--innodb-doublewrite=0",
		"--loose-innodb-use-native-aio=0",
		"--sync-binlog=0",
		"--performance-schema=OFF",
		"--key-buffer-size=1M",
		"--aria-pagecache-buffer-size=8M",
		"--max-connections=200",
		"--table-open-cache=400",
		"--thread-cache-size=4",
		"--skip-ssl",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	return append(args, cfg.args...)
}

var errPortInUse = errors.New("port already in use")

// start launches mariadbd with s.args and waits until it accepts connections.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		select {
		case <-s.proc.done:
		default:
			return errors.New("already running")
		}
	}
	bin, err := findMariadbd()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(filepath.Join(s.Dir, "mariadbd.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open mariadbd output: %w", err)
	}
	defer out.Close() // the child has its own descriptor
	logStart, _ := fileSize(s.ErrorLog())

	cmd := exec.Command(bin, s.args...)
	cmd.Dir = s.Dir
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", bin, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	s.proc = p

	if err := s.waitReady(p); err != nil {
		// Don't leave a half-started process behind.
		_ = p.cmd.Process.Kill()
		<-p.done
		tail := s.logTail(logStart)
		if strings.Contains(tail, "Address already in use") || strings.Contains(tail, "Do you already have another server running on port") {
			err = fmt.Errorf("%w: %w", errPortInUse, err)
		}
		return fmt.Errorf("mariadbd on port %d: %w; error log (%s) ends:\n%s", s.Port, err, s.Dir, tail)
	}
	return nil
}

// waitReady polls until root can connect over TCP, the process exits or
// readyTimeout passes. Root has no password (--auth-root-authentication-method=normal).
func (s *Server) waitReady(p *process) error {
	deadline := time.Now().Add(readyTimeout)
	var lastErr error
	for {
		select {
		case <-p.done:
			return fmt.Errorf("exited during start-up: %v", p.err)
		default:
		}
		c, err := s.connect("root", "", "")
		if err == nil {
			_ = c.Close()
			return nil
		}
		lastErr = err
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s: %w", readyTimeout, lastErr)
		}
		select {
		case <-p.done:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// setup creates the test user and reads the server's identity.
func (s *Server) setup() error {
	c, err := s.connect("root", "", "")
	if err != nil {
		return fmt.Errorf("connect as root: %w", err)
	}
	defer c.Close()
	var stmts []string
	for _, host := range []string{"%", "127.0.0.1", "localhost"} {
		u := fmt.Sprintf("'%s'@'%s'", TestUser, host)
		stmts = append(stmts,
			fmt.Sprintf("CREATE USER IF NOT EXISTS %s IDENTIFIED BY '%s'", u, TestPassword),
			fmt.Sprintf("GRANT ALL PRIVILEGES ON *.* TO %s WITH GRANT OPTION", u),
		)
	}
	for _, q := range stmts {
		r, err := c.Execute(q)
		if err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
		r.Close()
	}
	r, err := c.Execute("SELECT VERSION(), @@server_id")
	if err != nil {
		return fmt.Errorf("read version: %w", err)
	}
	defer r.Close()
	v, err := r.GetString(0, 0)
	if err != nil {
		return fmt.Errorf("read version: %w", err)
	}
	s.Version = strings.Clone(v)
	id, err := r.GetUint(0, 1)
	if err != nil {
		return fmt.Errorf("read server_id: %w", err)
	}
	s.ServerID = uint32(id)
	return nil
}

// stop sends sig (SIGTERM: graceful, escalated to SIGKILL after stopTimeout)
// and waits for the process to exit. Stopping a stopped server is a no-op.
func (s *Server) stop(sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.proc
	if p == nil {
		return nil
	}
	s.proc = nil
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal %v: %w", sig, err)
	}
	if sig == syscall.SIGKILL {
		<-p.done
		return nil
	}
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-p.done:
		return nil
	case <-timer.C:
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("no exit %s after %v, killed", stopTimeout, sig)
	}
}

// close stops the server and removes its directory.
func (s *Server) close() error {
	liveServers.remove(s)
	err := s.stop(syscall.SIGTERM)
	if rmErr := os.RemoveAll(s.Dir); rmErr != nil {
		err = errors.Join(err, fmt.Errorf("remove %s: %w", s.Dir, rmErr))
	}
	return err
}

// stopAll stops every server still running; Main calls it after the tests.
func stopAll() error {
	var errs []error
	for _, s := range liveServers.all() {
		if err := s.close(); err != nil {
			errs = append(errs, fmt.Errorf("mariadbd on port %d: %w", s.Port, err))
		}
	}
	return errors.Join(errs...)
}

// logTail returns the end of what the server logged since offset from.
func (s *Server) logTail(from int64) string {
	var b bytes.Buffer
	for _, name := range []string{s.ErrorLog(), filepath.Join(s.Dir, "mariadbd.out")} {
		data, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		if name == s.ErrorLog() && from <= int64(len(data)) {
			data = data[from:]
		}
		if len(data) > logTailBytes {
			data = data[len(data)-logTailBytes:]
		}
		b.Write(data)
	}
	return b.String()
}

func fileSize(name string) (int64, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// installDB creates the system tables in dir/data with a password-less root
// that logs in with a password (not unix_socket), as root or as the current user.
func installDB(dir string) error {
	bin, err := findBinary("mariadb-install-db", "mysql_install_db")
	if err != nil {
		return errors.New(installHint)
	}
	args := []string{
		"--no-defaults",
		"--auth-root-authentication-method=normal",
		"--datadir=" + filepath.Join(dir, "data"),
		"--skip-test-db",
		// The bootstrap's temporary tables in the server's own directory:
		// in the shared /tmp, parallel installs failed on each other's
		// "#sql-temptable-*" files ("Error on delete of '/tmp/#sql-temptable…'").
		"--tmpdir=" + dir,
	}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		if len(out) > logTailBytes {
			out = out[len(out)-logTailBytes:]
		}
		return fmt.Errorf("%s: %w; output ends:\n%s", bin, err, out)
	}
	return nil
}

func findMariadbd() (string, error) { return findBinary("mariadbd", "mysqld") }

// findBinary looks names up in PATH, then in /usr/sbin and /usr/bin, which a
// non-root PATH often lacks.
func findBinary(names ...string) (string, error) {
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	for _, n := range names {
		for _, d := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"} {
			p := filepath.Join(d, n)
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("none of %v found", names)
}

// freePort asks the kernel for an unused loopback port. Another process may
// take it before mariadbd binds it; startServer retries then.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// FreePort returns an unused loopback port for a test's listener (metrics,
// a proxy); like freePort, another process may take it first.
func FreePort(t testing.TB) int {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// Launch starts a server owned by the caller, outside of a test (benchmarks,
// the demo): the caller must Close it.
func Launch(opts ...Option) (*Server, error) {
	if _, err := findMariadbd(); err != nil {
		return nil, errors.New(installHint)
	}
	cfg := serverConfig{serverID: 1}
	for _, o := range opts {
		o(&cfg)
	}
	return startServer(cfg)
}

// Close stops a server started by Launch and removes its data.
func (s *Server) Close() error { return s.close() }

// Connect opens a go-mysql connection as the test user to db ("" for none).
func (s *Server) Connect(db string) (*client.Conn, error) { return s.connect(s.User, s.Password, db) }

// Pid returns the process id of the running mariadbd, 0 while stopped
// (the bench reads its CPU time).
func (s *Server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil || s.proc.cmd.Process == nil {
		return 0
	}
	return s.proc.cmd.Process.Pid
}

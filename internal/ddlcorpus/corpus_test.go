package ddlcorpus

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"math/bits"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/google/go-cmp/cmp"

	"github.com/rivulet-cdc/rivulet/binlog"
	"github.com/rivulet-cdc/rivulet/internal/testenv"
	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// verbose (RIVULET_DDL_CORPUS_VERBOSE=1) logs every file as it is replayed.
var verbose = os.Getenv("RIVULET_DDL_CORPUS_VERBOSE") != ""

// MySQLTestDir is where Debian's mariadb-test package installs the suite.
const MySQLTestDir = "/usr/share/mysql/mysql-test"

// sample is what make test replays: the file whose SPATIAL ... DESC index
// stopped Rivulet (issue 17), and files heavy in ALTER TABLE, keys,
// ENUM/SET, partitions and system versioning.
var sample = []string{
	"main/alter_table_errors.test",
	"main/key.test",
	"main/type_enum.test",
	"main/partition_alter.test",
	"suite/versioning/t/alter.test",
}

// stats are the corpus figures.
type stats struct {
	mu                            sync.Mutex
	files, skipped, timedOut      int
	seen, parsed, notParsed       int
	neutral                       int
	fallback                      map[string]int
	stops                         []string
	readerStops                   []string
	tables, tablesRight           int
	mismatches                    []string
	rowTables, rowsOK, rowsUnseen int
	rowFailures                   []string
	checkpoints                   int
	serverCrashes                 []string
	serverResets                  []string
	noConnect                     []string // files mariadb-test could not log in for, even after a reset
	fallbackStmts                 []string
	harnessErrs                   []string
	timedOutFiles                 []string
	// where the time goes: mariadb-test runs (checkpoints included),
	// waiting for the marker row, comparing tables, cleaning up
	tReplay, tWait, tCheck, tCleanup time.Duration
}

func (s *stats) add(f func(*stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// counting wraps the tracker as the binlog reader's DDL applier: it counts
// every statement by how it was handled, and records a statement the
// tracker refuses (one that would stop Rivulet) instead of stopping, so the
// corpus goes on.
type counting struct {
	tr   *schema.Tracker
	st   *stats
	file func() string
	// neutralN and fallbackN are bumped by the tracker's callbacks.
	neutralN, fallbackN *int
}

func (c *counting) ApplyDDL(ctx context.Context, d schema.DDL) (*schema.Change, error) {
	needs := schema.NeedsParse(d.SQL)
	c.st.mu.Lock()
	n0, f0 := *c.neutralN, *c.fallbackN
	c.st.mu.Unlock()
	ch, err := c.tr.ApplyDDL(ctx, d)
	c.st.add(func(s *stats) {
		s.seen++
		switch {
		case err != nil:
			s.stops = append(s.stops, fmt.Sprintf("%s: %.300s: %v", c.file(), d.SQL, err))
		case !needs:
			s.notParsed++
		case *c.neutralN > n0:
			s.neutral++
		case *c.fallbackN > f0:
		default:
			s.parsed++
		}
	})
	return ch, nil
}

// stream is one running reader and what it decoded.
type stream struct {
	cancel context.CancelFunc
	done   chan error
	wg     sync.WaitGroup
	mu     sync.Mutex
	last   map[string]int // db.table -> columns of its last row event
	mark   chan int
}

func TestDDLCorpus_MariaDB(t *testing.T) {
	files := corpusFiles(t)
	if _, err := exec.LookPath("mariadb-test"); err != nil {
		t.Fatalf("mariadb-test (mysqltest) is not installed: apt-get install mariadb-test (scripts/lib.sh apt_install mariadb-test): %v", err)
	}
	// max_allowed_packet 256M: files insert rows of @@max_allowed_packet
	// bytes (main/explain), and the server streams no binlog event longer
	// than 1G to any replica, Rivulet or MariaDB's own.
	srv := testenv.StartMariaDB(t, testenv.WithArgs("--max-allowed-packet=256M", "--local-infile=1",
		"--secure-file-priv=", "--sql-mode=", "--max-connections=500", "--lock-wait-timeout=20",
		"--innodb-lock-wait-timeout=20"))
	srv.Exec(t, "",
		"CREATE DATABASE IF NOT EXISTS test", "CREATE DATABASE rivulet_mark",
		"CREATE TABLE rivulet_mark.m (n INT PRIMARY KEY)",
		"CREATE USER corpus@'%' IDENTIFIED BY 'corpus'", "CREATE USER corpus@'localhost' IDENTIFIED BY 'corpus'",
		"GRANT ALL ON *.* TO corpus@'%' WITH GRANT OPTION", "GRANT ALL ON *.* TO corpus@'localhost' WITH GRANT OPTION",
		// Nothing a file does may stop the server, purge or reset the
		// binlog, or switch it away from ROW.
		"REVOKE SUPER, SHUTDOWN, RELOAD, BINLOG ADMIN, BINLOG REPLAY, REPLICATION MASTER ADMIN, READ_ONLY ADMIN ON *.* FROM corpus@'%'",
		"REVOKE SUPER, SHUTDOWN, RELOAD, BINLOG ADMIN, BINLOG REPLAY, REPLICATION MASTER ADMIN, READ_ONLY ADMIN ON *.* FROM corpus@'localhost'",
	)
	// mariadb-install-db leaves root without a password on 127.0.0.1 and
	// ::1 (testenv logs in so to see the server is up): files that connect
	// as root over TCP (suite/rpl's rpl_ipv6.inc) ran RESET MASTER. Root
	// there loses what the corpus account lacks.
	for _, host := range srv.Query(t, "", "SELECT Host FROM mysql.global_priv WHERE User = 'root'") {
		// (a host name is not loaded under --skip-name-resolve: nothing to change)
		if err := execAll(srv, "", fmt.Sprintf("REVOKE SUPER, SHUTDOWN, RELOAD, BINLOG ADMIN, BINLOG REPLAY, REPLICATION MASTER ADMIN, READ_ONLY ADMIN ON *.* FROM root@'%s'", host[0])); err != nil && !strings.Contains(err.Error(), "1133") {
			t.Fatal(err)
		}
	}
	// A copy of the data directory as set up here: a file that breaks the
	// accounts the harness or mariadb-test log in with (main/grant4
	// renames mysql.user, others delete from it) would spoil every file
	// after it; the server then starts again from this copy (reset).
	grants, err := accountGrants(srv)
	if err != nil {
		t.Fatal(err)
	}
	pristine := filepath.Join(t.TempDir(), "pristine")
	srv.Stop(t)
	if o, err := exec.Command("cp", "-a", filepath.Join(srv.Dir, "data"), pristine).CombinedOutput(); err != nil {
		t.Fatalf("copy the data directory: %v: %s", err, o)
	}
	srv.Start(t)
	loader := schema.NewLoader(schema.LoaderConfig{Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password})
	t.Cleanup(func() { _ = loader.Close() })
	// The marker database is captured like any other (its rows tell the
	// test the reader caught up) and left out of the comparison.
	filter, err := schema.NewFilter(schema.FilterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	st := &stats{fallback: map[string]int{}}
	var neutralN, fallbackN int
	cur := ""
	var curMu sync.Mutex
	file := func() string { curMu.Lock(); defer curMu.Unlock(); return cur }
	newTracker := func() (*schema.Tracker, error) {
		tr := schema.NewTracker(schema.TrackerConfig{Filter: filter, MariaDB: true,
			OnNeutral: func(schema.DDL, *schema.DDLError) { st.add(func(*stats) { neutralN++ }) },
			OnFallback: func(d schema.DDL, kind string, _ schema.TableID, de *schema.DDLError) {
				st.add(func(s *stats) {
					fallbackN++
					s.fallback[kind]++
					if de != nil {
						s.fallbackStmts = append(s.fallbackStmts, fmt.Sprintf("%s: %s: %.300s: %v", file(), kind, d.SQL, de.Err))
					}
				})
			}})
		loader.InvalidateAll()
		if _, err := tr.LoadFrom(t.Context(), loader); err != nil {
			return nil, fmt.Errorf("load the tracker: %w", err)
		}
		pc := binlog.PreflightConfig{Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password, ServerID: 7001}
		tr.SetReload(loader, func(ctx context.Context, d schema.DDL, tables []schema.TableID) ([]schema.Later, error) {
			return binlog.LookAhead(ctx, pc, d.File, d.NextPos, tables)
		})
		return tr, nil
	}
	h := &harness{t: t, srv: srv, loader: loader, st: st, newTracker: newTracker,
		neutralN: &neutralN, fallbackN: &fallbackN, file: file}
	if err := h.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.stop)
	// mariadb-test calls back through this endpoint before every statement
	// that drops tables (instrument), so that the tables a file builds are
	// compared before the file's own cleanup drops them.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h.checkpoint(t.Context(), "")
		w.WriteHeader(http.StatusNoContent)
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	url := "http://" + ln.Addr().String() + "/check"
	vardir := t.TempDir()
	began := time.Now()
	var budget time.Duration
	if b := os.Getenv("RIVULET_DDL_CORPUS_BUDGET"); b != "" {
		if budget, err = time.ParseDuration(b); err != nil {
			t.Fatalf("RIVULET_DDL_CORPUS_BUDGET=%q: %v (want a duration such as 30m)", b, err)
		}
	}
	// reset starts the server again from the copy of its first data
	// directory: the binlog starts anew, and so do the reader and the
	// tracker (loaded from the server), as after a crash.
	reset := func(f string, why error) {
		st.add(func(s *stats) { s.serverResets = append(s.serverResets, fmt.Sprintf("%s: %v", f, why)) })
		h.stop()
		srv.Stop(t)
		data := filepath.Join(srv.Dir, "data")
		if err := os.RemoveAll(data); err != nil {
			t.Fatal(err)
		}
		if o, err := exec.Command("cp", "-a", pristine, data).CombinedOutput(); err != nil {
			t.Fatalf("restore the data directory: %v: %s", err, o)
		}
		srv.Start(t)
		if err := cleanup(srv); err != nil {
			t.Fatal(err)
		}
		if err := h.start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, f := range files {
		if budget > 0 && time.Since(began) > budget {
			t.Logf("RIVULET_DDL_CORPUS_BUDGET %s spent: stopped after %d of %d files", budget, i, len(files))
			break
		}
		curMu.Lock()
		cur = f
		curMu.Unlock()
		fileStart := time.Now()
		code, noConn := replay(t, srv, f, vardir, url)
		if noConn && srv.Running() {
			// mariadb-test could not log in: an earlier file broke the
			// server in a way the account check missed. Start over from
			// the copy and replay the file once more; a file that still
			// cannot log in fails the corpus.
			reset(f, errors.New("mariadb-test could not open its connection"))
			if code, noConn = replay(t, srv, f, vardir, url); noConn {
				st.add(func(s *stats) { s.noConnect = append(s.noConnect, f) })
			}
		}
		st.add(func(s *stats) { s.tReplay += time.Since(fileStart) })
		if verbose {
			t.Logf("%s: exit %d in %s", f, code, time.Since(fileStart).Round(time.Millisecond))
		}
		st.add(func(s *stats) {
			s.files++
			switch code {
			case 62:
				s.skipped++
			case -1:
				s.timedOut++
				s.timedOutFiles = append(s.timedOutFiles, f)
			}
		})
		if !srv.Running() {
			// A file crashed the server (mysql-test holds crash tests):
			// not Rivulet's stop. Bring it back and stream on from the
			// new binlog's end with a tracker loaded from the server.
			o, _ := os.ReadFile(srv.ErrorLog())
			st.add(func(s *stats) {
				s.serverCrashes = append(s.serverCrashes, fmt.Sprintf("%s: %.300s", f, o[max(0, len(o)-300):]))
			})
			h.stop()
			srv.Start(t)
			if err := cleanup(srv); err != nil {
				t.Fatal(err)
			}
			if err := h.start(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := accountsIntact(srv, grants); err != nil {
			// Compare what can still be compared, then start over.
			if execAll(srv, "", "SELECT 1") == nil {
				h.checkpoint(t.Context(), "end")
			}
			reset(f, err)
			continue
		}
		h.checkpoint(t.Context(), "end")
		t0 := time.Now()
		if err := cleanup(srv); err != nil {
			t.Fatal(err)
		}
		st.add(func(s *stats) { s.tCleanup += time.Since(t0) })
		if (i+1)%50 == 0 {
			t.Logf("%d/%d files, %s", i+1, len(files), time.Since(began).Round(time.Second))
		}
	}
	running := true
	select {
	case err := <-h.sm.done:
		h.sm.done <- err
		running = false
		st.add(func(s *stats) { s.readerStops = append(s.readerStops, fmt.Sprintf("at the end: %v", err)) })
	default:
	}
	fmt.Printf("DDL corpus: reader (Rivulet) still running at the end: %v\n", running)
	report(t, st, time.Since(began))
}

// harness owns the running reader and the checkpoints: one at a time.
type harness struct {
	t                   *testing.T
	srv                 *testenv.Server
	loader              *schema.Loader
	st                  *stats
	newTracker          func() (*schema.Tracker, error)
	neutralN, fallbackN *int
	file                func() string

	mu   sync.Mutex
	tr   *schema.Tracker
	sm   *stream
	mark int
}

// start starts a tracker loaded from the live server and a reader from
// the binlog's end.
func (h *harness) start() error {
	tr, err := h.newTracker()
	if err != nil {
		return err
	}
	srv := h.srv
	cfg := binlog.Config{Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password, ServerID: 7000,
		Tables: tr, DDL: &counting{tr: tr, st: h.st, file: h.file, neutralN: h.neutralN, fallbackN: h.fallbackN},
		Include: func(db, _ string) bool { return !schema.IsSystemDatabase(db) },
		// Few events read ahead: files write rows of many megabytes
		// (suite/rpl), and the default 1024 held GBs.
		EventBuffer: 64}
	r, err := binlog.NewReader(cfg)
	if err != nil {
		return err
	}
	from, err := r.Start(h.t.Context(), offsets.Position{})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(h.t.Context())
	s := &stream{cancel: cancel, done: make(chan error, 1), last: map[string]int{}, mark: make(chan int, 16)}
	out := make(chan binlog.Batch, 64)
	s.wg.Add(2)
	go func() { defer s.wg.Done(); s.done <- r.Run(ctx, from, out) }()
	go func() {
		defer s.wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case b := <-out:
				s.mu.Lock()
				for _, ev := range b.Events {
					if ev.Table == nil {
						continue
					}
					if ev.Table.DB == "rivulet_mark" {
						if len(ev.After) > 0 {
							select {
							case s.mark <- int(ev.After[0].I):
							default: // nobody waits for it
							}
						}
						continue
					}
					s.last[ev.Table.DB+"."+ev.Table.Name] = len(ev.Table.Columns)
				}
				// A row before a table's DDL says nothing about the
				// table now: only rows after its last DDL are checked.
				for _, c := range b.Schema {
					for _, tc := range c.Tables {
						delete(s.last, tc.ID.DB+"."+tc.ID.Name)
						delete(s.last, tc.PreviousID.DB+"."+tc.PreviousID.Name)
					}
				}
				s.mu.Unlock()
			}
		}
	}()
	h.tr, h.sm = tr, s
	return nil
}

func (h *harness) stop() {
	h.sm.cancel()
	h.sm.wg.Wait()
}

// checkpoint writes a marker row, waits until the reader streamed it, and
// compares every table on the server with the tracked model. A reader
// that stopped or did not catch up is recorded and restarted.
func (h *harness) checkpoint(ctx context.Context, _ string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.mark++
	if err := execAll(h.srv, "", fmt.Sprintf("INSERT INTO rivulet_mark.m VALUES (%d)", h.mark)); err != nil {
		h.st.add(func(s *stats) { s.harnessErrs = append(s.harnessErrs, err.Error()) })
		return
	}
	t0 := time.Now()
	err := h.sm.waitMark(h.mark, 5*time.Minute)
	t1 := time.Now()
	defer func() { h.st.add(func(s *stats) { s.tWait += t1.Sub(t0); s.tCheck += time.Since(t1) }) }()
	if err != nil {
		f := h.file()
		h.st.add(func(s *stats) { s.readerStops = append(s.readerStops, fmt.Sprintf("%s: %v", f, err)) })
		h.stop()
		if err := h.start(); err != nil {
			h.st.add(func(s *stats) { s.harnessErrs = append(s.harnessErrs, "restart: "+err.Error()) })
		}
		return
	}
	if err := check(ctx, h.srv, h.loader, h.tr, h.sm, h.st, h.file()); err != nil {
		h.st.add(func(s *stats) { s.harnessErrs = append(s.harnessErrs, err.Error()) })
	}
}

// waitMark waits until the marker row n has streamed; an error when the
// reader stopped (it would have stopped Rivulet) or did not catch up.
func (s *stream) waitMark(n int, d time.Duration) error {
	timeout := time.After(d)
	for {
		select {
		case m := <-s.mark:
			if m >= n {
				return nil
			}
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("the reader stopped: %w", err)
		case <-timeout:
			return errors.New("the reader did not catch up")
		}
	}
}

// replay runs one mysql-test file with mariadb-test as the corpus user in
// database test; it returns the exit code (62: the file skipped itself,
// -1: killed after the time limit) and whether mariadb-test could not open
// its first connection.
func replay(t *testing.T, srv *testenv.Server, file, vardir, url string) (code int, noConn bool) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(MySQLTestDir, file))
	if err != nil {
		t.Fatal(err)
	}
	test := filepath.Join(vardir, "corpus.test")
	if err := os.WriteFile(test, []byte(instrument(string(src), url)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), fileTimeout(t))
	defer cancel()
	suiteDir := filepath.Join(MySQLTestDir, filepath.Dir(filepath.Dir(file)))
	if strings.HasPrefix(file, "main/") {
		suiteDir = filepath.Join(MySQLTestDir, "main")
	}
	tmp := filepath.Join(vardir, "tmp")
	_ = os.MkdirAll(tmp, 0o755)
	cmd := exec.CommandContext(ctx, "mariadb-test", "--host=127.0.0.1", fmt.Sprintf("--port=%d", srv.Port),
		"--user=corpus", "--password=corpus", "--database=test", "--continue-on-error", "--silent",
		"--max-connect-retries=2", "--connect-timeout=5", "--tmpdir="+tmp, "--logdir="+vardir,
		"--basedir="+MySQLTestDir+"/", "--suite-dir="+suiteDir+"/", "--test-file="+test)
	cmd.Dir = MySQLTestDir
	cmd.Env = append(os.Environ(), "MYSQLTEST_VARDIR="+vardir, "MYSQL_TEST_DIR="+MySQLTestDir, "MYSQL_TMP_DIR="+tmp,
		"MYSQLD_DATADIR="+filepath.Join(srv.Dir, "data"), "MASTER_MYPORT="+fmt.Sprint(srv.Port))
	var outBuf strings.Builder
	cmd.Stdout, cmd.Stderr = &outBuf, &outBuf
	defer func() {
		if verbose {
			o := outBuf.String()
			t.Logf("%s output (tail): %s", file, o[max(0, len(o)-1500):])
		}
	}()
	cmd.WaitDelay = 10 * time.Second
	err = cmd.Run()
	if ctx.Err() != nil {
		return -1, false
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		// The first connection is the corpus account's; the files' own
		// (root, users they create) may fail by design.
		return ee.ExitCode(), strings.Contains(outBuf.String(), "Could not open connection 'default'")
	}
	return 0, false
}

// check compares every table on the server with the tracked model and
// checks that the last row of every table with rows was decoded with the
// server's number of columns.
func check(ctx context.Context, srv *testenv.Server, l *schema.Loader, tr *schema.Tracker, sm *stream, st *stats, file string) error {
	l.InvalidateAll()
	ids, err := l.Tables(ctx)
	if err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	c, err := srv.Connect("")
	if err != nil {
		return err
	}
	defer c.Close()
	st.add(func(s *stats) { s.checkpoints++ })
	// MariaDB's long unique keys (hidden DB_ROW_HASH_n columns) are the
	// unique keys information_schema shows as HASH outside MEMORY.
	hashes := map[string]int{}
	if r, err := c.Execute("SELECT s.TABLE_SCHEMA, s.TABLE_NAME, COUNT(DISTINCT s.INDEX_NAME) FROM information_schema.STATISTICS s " +
		"JOIN information_schema.TABLES t USING (TABLE_SCHEMA, TABLE_NAME) WHERE s.INDEX_TYPE = 'HASH' AND s.NON_UNIQUE = 0 " +
		"AND t.ENGINE <> 'MEMORY' GROUP BY 1, 2"); err == nil {
		for i := range r.RowNumber() {
			db, _ := r.GetString(i, 0)
			name, _ := r.GetString(i, 1)
			n, _ := r.GetInt(i, 2)
			hashes[db+"."+name] = int(n)
		}
		r.Close()
	}
	for _, id := range ids {
		if id.DB == "rivulet_mark" {
			continue
		}
		want, err := l.Table(ctx, id.DB, id.Name)
		if err != nil {
			continue // dropped meanwhile, or a table the loader cannot read (engine gone)
		}
		if n := hashes[id.DB+"."+id.Name]; n > 0 {
			w := *want
			w.HashColumns = n
			want = &w
		}
		got, terr := tr.Table(ctx, id.DB, id.Name)
		diff := ""
		switch {
		case terr != nil:
			diff = terr.Error()
		case got == nil:
			diff = "not tracked"
		default:
			diff = cmp.Diff(want, withoutImplicitPeriod(got, want), columnEq)
		}
		key := id.DB + "." + id.Name
		st.add(func(s *stats) {
			s.tables++
			if diff == "" {
				s.tablesRight++
			} else {
				s.mismatches = append(s.mismatches, fmt.Sprintf("%s: %s: %.2000s", file, id, diff))
			}
		})
		r, err := c.Execute("SELECT 1 FROM " + quote(id.DB) + "." + quote(id.Name) + " LIMIT 1")
		if err != nil {
			continue
		}
		has := r.RowNumber() > 0
		r.Close()
		if !has {
			continue
		}
		sm.mu.Lock()
		n, seen := sm.last[key]
		sm.mu.Unlock()
		st.add(func(s *stats) {
			s.rowTables++
			switch {
			case !seen:
				s.rowsUnseen++ // no row event since the table's last DDL
			case n == len(want.Columns) || got != nil && n == len(got.Columns):
				s.rowsOK++
			default:
				s.rowFailures = append(s.rowFailures, fmt.Sprintf("%s: %s: last row has %d columns, the server %d", file, id, n, len(want.Columns)))
			}
		})
	}
	return nil
}

// withoutImplicitPeriod drops MariaDB's implicit row_start/row_end from the
// tracked table when information_schema hides them (they are in every row
// image, checked with mariadb-binlog -vv, but not in COLUMNS).
func withoutImplicitPeriod(got, want *schema.Table) *schema.Table {
	n := len(got.Columns)
	if n < 2 || n != len(want.Columns)+2 || got.Columns[n-2].Name != "row_start" || got.Columns[n-1].Name != "row_end" {
		return got
	}
	c := *got
	c.Columns = got.Columns[:n-2]
	return &c
}

// columnEq compares columns as information_schema can show them: BOOL is
// TINYINT, and ENUM/SET values and defaults print bytes that are not valid
// UTF-8 and characters beyond the BMP as '?' (the model keeps the bytes
// the rows carry).
var columnEq = cmp.Comparer(func(a, b schema.Column) bool {
	for _, c := range []*schema.Column{&a, &b} {
		// Declared is the DDL text's view (Debezium's), not the server's.
		c.Declared = schema.Declared{}
		if c.Type == schema.TypeTinyInt && (c.TypeName == "BOOLEAN" || c.TypeName == "BOOL") {
			c.TypeName = "TINYINT"
		}
		if c.Default != nil {
			d := sameDefault(c, *c.Default)
			c.Default = &d
		}
		if c.Type == schema.TypeEnum || c.Type == schema.TypeSet {
			vs := make([]string, len(c.Values))
			for i, v := range c.Values {
				if c.Charset == "binary" {
					v = wideLiteral(v)
				}
				vs[i] = asShown(v)
			}
			c.Values = vs
			if c.Default != nil {
				d := asShown(*c.Default)
				c.Default = &d
			}
		}
	}
	if a.Default != nil && b.Default != nil && *a.Default != *b.Default &&
		(defaultsAlike(&a, *a.Default, *b.Default) || defaultsAlike(&a, *b.Default, *a.Default)) {
		b.Default = a.Default
	}
	return cmp.Equal(a, b)
})

// defaultsAlike compares what a normalised spelling cannot: the server's
// stored default (server) with Debezium's spelling of the literal
// (tracked), which Rivulet keeps. A b'…' or x'…' literal on a text or
// binary column is kept as its digits (b'101' is "101") where the server
// stores the bytes ("\x05"); a TIMESTAMP literal is in the time zone of the
// session that wrote it, which information_schema shows in the checkpoint's
// (UTC): a whole number of quarter hours within ±14h apart is the same
// instant (the checkpoint cannot see the file's @@time_zone).
func defaultsAlike(c *schema.Column, server, tracked string) bool {
	switch c.Type {
	case schema.TypeChar, schema.TypeVarchar, schema.TypeText, schema.TypeBinary, schema.TypeVarbinary, schema.TypeBlob:
		for _, base := range []int{2, 16} {
			b, ok := literalBytes(tracked, base)
			if !ok {
				continue
			}
			v := string(b)
			switch c.Type {
			case schema.TypeChar:
				v = strings.TrimRight(v, " ")
			case schema.TypeBinary:
				v = strings.TrimRight(v, "\x00")
				server = strings.TrimRight(server, "\x00")
			}
			if v == server {
				return true
			}
		}
	case schema.TypeTimestamp:
		x, err1 := time.Parse("2006-01-02 15:04:05", server[:min(len(server), 19)])
		y, err2 := time.Parse("2006-01-02 15:04:05", tracked[:min(len(tracked), 19)])
		if err1 != nil || err2 != nil || server[min(len(server), 19):] != tracked[min(len(tracked), 19):] {
			return false
		}
		d := x.Sub(y)
		return d%(15*time.Minute) == 0 && d <= 14*time.Hour && d >= -14*time.Hour
	}
	return false
}

// literalBytes reads the digits of a b'…' (base 2) or x'…' (base 16)
// literal as the bytes the server stores, right-aligned as MariaDB does.
func literalBytes(digits string, base int) ([]byte, bool) {
	if digits == "" {
		return nil, false
	}
	n, ok := new(big.Int).SetString(digits, base)
	if !ok {
		return nil, false
	}
	b := n.Bytes()
	if want := (len(digits)*bits.Len(uint(base-1)) + 7) / 8; base == 16 && len(b) < want {
		b = append(make([]byte, want-len(b)), b...) // x'0041' keeps its leading zero byte
	}
	return b, true
}

// wideLiteral reads the members of a binary ENUM/SET that the server
// took in a UTF-16 or UTF-32 collation_connection (main/ctype_utf16_uca:
// ENUM('aaaaaaaa') CHARACTER SET binary is "\x00a\x00a..."), where the
// statement's text, which Debezium and Rivulet read, says 'aaaaaaaa'.
// Values without a NUL byte are left as they are.
func wideLiteral(v string) string {
	if !strings.Contains(v, "\x00") {
		return v
	}
	for _, w := range []int{4, 2} {
		if len(v)%w != 0 {
			continue
		}
		var b strings.Builder
		ok := true
		for i := 0; i < len(v) && ok; i += w {
			r := rune(0)
			for k := range w {
				r = r<<8 | rune(v[i+k])
			}
			ok = r != 0 && utf8.ValidRune(r)
			b.WriteRune(r)
		}
		if ok {
			return b.String()
		}
	}
	return v
}

func asShown(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 || r > 0xFFFF {
			b.WriteByte('?')
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// cleanup drops what a file left (its databases, after killing its
// sessions) and recreates database test; the drops stream through the
// tracker like any DDL.
func cleanup(srv *testenv.Server) error {
	c, err := srv.Connect("")
	if err != nil {
		return err
	}
	defer c.Close()
	query := func(q string) []string {
		r, err := c.Execute(q)
		if err != nil {
			return nil
		}
		defer r.Close()
		var out []string
		for i := range r.RowNumber() {
			v, _ := r.GetString(i, 0) // cloned: Close recycles the buffer
			out = append(out, strings.Clone(v))
		}
		return out
	}
	for _, id := range query("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'corpus'") {
		if r, err := c.Execute("KILL " + id); err == nil {
			r.Close()
		}
	}
	if r, err := c.Execute("SET SESSION foreign_key_checks = 0"); err == nil {
		r.Close()
	}
	// Files that connect as root may change the server's settings: a small
	// max_allowed_packet makes the server refuse to stream the binlog to a
	// reader that connects again (ERROR 1236 "log event entry exceeded
	// max_allowed_packet"). The next file starts from the harness's.
	for _, q := range []string{"SET GLOBAL max_allowed_packet = 268435456", "SET GLOBAL binlog_format = ROW",
		"SET GLOBAL binlog_row_metadata = FULL", "SET GLOBAL binlog_row_image = FULL"} {
		if r, err := c.Execute(q); err == nil {
			r.Close()
		}
	}
	for _, db := range query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA") {
		if schema.IsSystemDatabase(db) || db == "rivulet_mark" {
			continue
		}
		r, err := c.Execute("DROP DATABASE " + quote(db))
		if err != nil {
			// Files a test wrote into the database's directory (SELECT
			// ... INTO OUTFILE 'name') make DROP DATABASE fail after it
			// deleted db.opt: the next CREATE DATABASE IF NOT EXISTS
			// would then keep a database whose default character set is
			// each session's character_set_server. Remove them, retry.
			dir := filepath.Join(srv.Dir, "data", db)
			if ents, derr := os.ReadDir(dir); derr == nil {
				for _, e := range ents {
					_ = os.RemoveAll(filepath.Join(dir, e.Name()))
				}
			}
			r, err = c.Execute("DROP DATABASE " + quote(db))
		}
		if err == nil {
			r.Close()
		}
	}
	return execAll(srv, "", "CREATE DATABASE IF NOT EXISTS test")
}

// corpusAccounts are the accounts mariadb-test logs in with.
var corpusAccounts = []string{"corpus@'%'", "corpus@'localhost'"}

// accountGrants returns the privileges SHOW GRANTS lists for the corpus
// accounts.
func accountGrants(srv *testenv.Server) (map[string]string, error) {
	c, err := srv.Connect("")
	if err != nil {
		return nil, err
	}
	defer c.Close()
	out := map[string]string{}
	for _, a := range corpusAccounts {
		r, err := c.Execute("SHOW GRANTS FOR " + a)
		if err != nil {
			return nil, fmt.Errorf("SHOW GRANTS FOR %s: %w", a, err)
		}
		var g []string
		for i := range r.RowNumber() {
			// Privileges only: a role a file creates is granted to its
			// creator (GRANT `bar` TO corpus), which takes nothing away.
			// (GetString aliases the result's buffer, which Close recycles.)
			if v, _ := r.GetString(i, 0); strings.Contains(v, " ON ") {
				g = append(g, strings.Clone(v))
			}
		}
		r.Close()
		sort.Strings(g)
		out[a] = strings.Join(g, "\n")
	}
	return out, nil
}

// accountsIntact checks that the harness's account and the corpus
// accounts still log in with the privileges they were given.
func accountsIntact(srv *testenv.Server, want map[string]string) error {
	got, err := accountGrants(srv)
	if err != nil {
		return err
	}
	for _, a := range corpusAccounts {
		if got[a] != want[a] {
			return fmt.Errorf("the grants of %s changed: %q", a, got[a])
		}
	}
	c, err := client.Connect(srv.Addr(), "corpus", "corpus", "")
	if err != nil {
		return fmt.Errorf("log in as corpus: %w", err)
	}
	defer c.Close()
	r, err := c.Execute("SELECT 1")
	if err != nil {
		return fmt.Errorf("as corpus: %w", err)
	}
	r.Close()
	return nil
}

// execAll runs stmts on one new connection; the first error is returned.
func execAll(srv *testenv.Server, db string, stmts ...string) error {
	c, err := srv.Connect(db)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, q := range stmts {
		r, err := c.Execute(q)
		if err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
		r.Close()
	}
	return nil
}

func quote(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

func corpusFiles(t *testing.T) []string {
	t.Helper()
	sel := os.Getenv("RIVULET_DDL_CORPUS")
	if _, err := os.Stat(MySQLTestDir); err != nil {
		if testing.Short() {
			t.Skip("mysql-test suite not installed (-short)")
		}
		t.Fatalf("the mysql-test suite is not installed at %s: apt-get install mariadb-test (scripts/lib.sh apt_install mariadb-test)", MySQLTestDir)
	}
	var globs []string
	switch sel {
	case "":
		return sample
	case "all":
		globs = []string{"main/*.test", "suite/*/t/*.test", "suite/*/*/t/*.test", "plugin/*/*/t/*.test", "plugin/*/t/*.test"}
	default:
		globs = strings.Split(sel, ",")
	}
	var out []string
	for _, g := range globs {
		m, err := filepath.Glob(filepath.Join(MySQLTestDir, strings.TrimSpace(g)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			rel, _ := filepath.Rel(MySQLTestDir, f)
			out = append(out, rel)
		}
	}
	sort.Strings(out)
	out = slices.Compact(out)
	if v := os.Getenv("RIVULET_DDL_CORPUS_STRIDE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("RIVULET_DDL_CORPUS_STRIDE=%q: want a whole number >= 1 (every n-th file)", v)
		}
		var picked []string
		for i := 0; i < len(out); i += n {
			picked = append(picked, out[i])
		}
		out = picked
	}
	if v := os.Getenv("RIVULET_DDL_CORPUS_SHARD"); v != "" {
		// k/n: the k-th of n interleaved parts (1 <= k <= n), so that n
		// processes, each with its own server, replay the selection.
		var k, n int
		if _, err := fmt.Sscanf(v, "%d/%d", &k, &n); err != nil || n < 1 || k < 1 || k > n {
			t.Fatalf("RIVULET_DDL_CORPUS_SHARD=%q: want k/n with 1 <= k <= n", v)
		}
		var picked []string
		for i := k - 1; i < len(out); i += n {
			picked = append(picked, out[i])
		}
		out = picked
	}
	return out
}

func report(t *testing.T, st *stats, took time.Duration) {
	t.Helper()
	st.mu.Lock()
	defer st.mu.Unlock()
	pct := 100.0
	if st.tables > 0 {
		pct = 100 * float64(st.tablesRight) / float64(st.tables)
	}
	kinds := make([]string, 0, len(st.fallback))
	for k, v := range st.fallback {
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(kinds)
	fmt.Printf("DDL corpus: %d files (%d skipped themselves, %d timed out) in %s\n", st.files, st.skipped, st.timedOut, took.Round(time.Second))
	fmt.Printf("DDL corpus: statements seen %d, parsed %d, passed over without a parse %d, column-neutral unparsed %d, fallbacks %d [%s], stops %d, reader stops %d\n",
		st.seen, st.parsed, st.notParsed, st.neutral, st.fallbackTotal(), strings.Join(kinds, " "), len(st.stops), len(st.readerStops))
	fmt.Printf("DDL corpus: server crashes (mariadbd, restarted) %d, accounts broken (server started again from its first data directory) %d\n", len(st.serverCrashes), len(st.serverResets))
	fmt.Printf("DDL corpus: time in mariadb-test %s (of which waiting for the reader %s, comparing tables %s), cleaning up %s\n",
		st.tReplay.Round(time.Second), st.tWait.Round(time.Second), st.tCheck.Round(time.Second), st.tCleanup.Round(time.Second))
	fmt.Printf("DDL corpus: %d checkpoints (before statements that drop tables, and at the end of each file)\n", st.checkpoints)
	fmt.Printf("DDL corpus: tables right %d of %d (%.3f%%); tables with rows %d: last row (after the table's last DDL) decoded with the server's columns %d, no row event since the table's last DDL %d, wrong %d\n",
		st.tablesRight, st.tables, pct, st.rowTables, st.rowsOK, st.rowsUnseen, len(st.rowFailures))
	show := func(what string, list []string) {
		for i, s := range list {
			if i == 400 {
				fmt.Printf("  ... %d more %s\n", len(list)-400, what)
				break
			}
			fmt.Printf("  %s: %s\n", what, strings.ReplaceAll(s, "\n", " "))
		}
	}
	show("stop", st.stops)
	show("reader stop", st.readerStops)
	show("mismatch", st.mismatches)
	show("row", st.rowFailures)
	show("harness error", st.harnessErrs)
	show("server crash", st.serverCrashes)
	show("server reset", st.serverResets)
	show("could not connect", st.noConnect)
	show("fallback", st.fallbackStmts)
	show("timed out", st.timedOutFiles)
	for _, f := range st.noConnect {
		t.Errorf("mariadb-test could not log in for %s, even on a server started again from its first data directory", f)
	}
	if os.Getenv("RIVULET_DDL_CORPUS") == "" {
		// The sample is held to the goals: nothing stops, every table right.
		for _, s := range st.stops {
			t.Errorf("stop: %s", s)
		}
		for _, s := range st.readerStops {
			t.Errorf("reader stop: %s", s)
		}
		for _, s := range st.mismatches {
			t.Errorf("mismatch: %s", s)
		}
		for _, s := range st.harnessErrs {
			t.Errorf("harness: %s", s)
		}
		for _, s := range st.rowFailures {
			t.Errorf("row: %s", s)
		}
		if st.seen == 0 || st.tables == 0 {
			t.Errorf("the sample replayed nothing (%d statements, %d tables)", st.seen, st.tables)
		}
	} else if pct < 99.9 {
		t.Errorf("tables right %.3f%% < 99.9%%", pct)
	}
}

func (s *stats) fallbackTotal() int {
	n := 0
	for _, v := range s.fallback {
		n += v
	}
	return n
}

var (
	// dropStmt starts a statement that drops tables: the checkpoint goes
	// before it.
	dropStmt = regexp.MustCompile(`(?i)^\s*(drop\s+(temporary\s+)?(table|tables|database|schema|sequence)\b|create\s+or\s+replace\s+(temporary\s+)?table\b)`)
	// directive is a mysqltest command line that applies to the next
	// statement (--error, --disable_warnings, ...) or stands alone.
	directive = regexp.MustCompile(`(?i)^\s*(--|(error|disable_\w+|enable_\w+|replace_\w+|sorted_result|echo)\b)`)
	delimCmd  = regexp.MustCompile(`(?i)^\s*(--)?\s*delimiter\s+(\S+)`)
	// serverRestart sources an include that stops, kills or restarts the
	// server: the corpus user may not, and each waits a minute for a
	// server that does not go away. The statements around it still run.
	serverRestart = regexp.MustCompile(`(?i)^\s*(--)?\s*source\s+\S*(restart_mysqld|shutdown_mysqld|kill_mysqld|kill_and_restart_mysqld|start_mysqld|mysqladmin_shutdown|rpl_restart_server|wait_until_disconnected|wait_until_connected_again)\.inc`)
)

// instrument comments out server restarts (serverRestart) and inserts a
// checkpoint (an --exec of url) before every
// statement of a mysqltest file that drops tables, ahead of the directives
// that apply to that statement, and only where the delimiter is ';' and a
// new statement starts. Consecutive drops share one checkpoint.
func instrument(src, url string) string {
	lines := strings.Split(src, "\n")
	out := make([]string, 0, len(lines)+len(lines)/4)
	delim := ";"
	atStart, dirty := true, true
	cmd := "--exec curl -s -o /dev/null " + url + " || true"
	for _, l := range lines {
		if serverRestart.MatchString(l) {
			l = "# rivulet: " + l
		}
		tl := strings.TrimSpace(l)
		if m := delimCmd.FindStringSubmatch(l); m != nil {
			d := m[2]
			if m[1] == "" {
				d = strings.TrimSuffix(d, delim)
			}
			if d != "" {
				delim = d
			}
			out = append(out, l)
			atStart = true
			continue
		}
		if delim == ";" && atStart && dropStmt.MatchString(l) {
			if dirty {
				// Before the directives that belong to this statement.
				j := len(out)
				for j > 0 && directive.MatchString(out[j-1]) && !strings.HasPrefix(strings.TrimSpace(out[j-1]), "--exec") {
					j--
				}
				out = append(out[:j], append([]string{cmd}, out[j:]...)...)
				dirty = false
			}
		} else if tl != "" && !strings.HasPrefix(tl, "#") && !directive.MatchString(l) {
			dirty = true
		}
		out = append(out, l)
		atStart = tl == "" || strings.HasPrefix(tl, "#") || strings.HasPrefix(tl, "--") ||
			strings.HasSuffix(tl, delim) || strings.HasSuffix(tl, "{") || strings.HasSuffix(tl, "}")
	}
	return strings.Join(out, "\n")
}

// fileTimeout is how long one file may run (RIVULET_DDL_CORPUS_FILE_TIMEOUT,
// default 3m); a file killed after it is still compared at its end.
func fileTimeout(t *testing.T) time.Duration {
	v := os.Getenv("RIVULET_DDL_CORPUS_FILE_TIMEOUT")
	if v == "" {
		return 3 * time.Minute
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("RIVULET_DDL_CORPUS_FILE_TIMEOUT=%q: want a duration such as 90s", v)
	}
	return d
}

// sameDefault spells a default value one way where information_schema
// prints the stored value and the model keeps the literal as Debezium's
// parser records it: numbers without ZEROFILL's leading zeros (099),
// temporals with two-digit fields and without a zero fraction
// (2017-1-1 10:10:10 is 2017-01-01 10:10:10.000), CHAR without the
// trailing spaces the server strips.
func sameDefault(c *schema.Column, v string) string {
	switch c.Type {
	case schema.TypeTinyInt, schema.TypeSmallInt, schema.TypeMediumInt, schema.TypeInt, schema.TypeBigInt:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return strconv.FormatInt(n, 10)
		}
		if n, err := strconv.ParseUint(v, 10, 64); err == nil {
			return strconv.FormatUint(n, 10)
		}
	case schema.TypeDecimal:
		// The server stores the value rounded half away from zero to the
		// column's scale (17.49 in DECIMAL(10,0) is 17, 1e-10000 is 0.0).
		if r, ok := new(big.Rat).SetString(strings.TrimSpace(v)); ok {
			return roundHalfUp(r, c.Scale)
		}
		neg := strings.HasPrefix(v, "-")
		t := strings.TrimLeft(strings.TrimPrefix(v, "-"), "0")
		if t == "" || t[0] == '.' {
			t = "0" + t
		}
		if neg {
			t = "-" + t
		}
		return t
	case schema.TypeFloat, schema.TypeDouble:
		// 00000000000000000007.7 (ZEROFILL) is 7.7
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
			return strconv.FormatFloat(f, 'g', -1, 64)
		}
	case schema.TypeChar:
		return strings.TrimRight(v, " ")
	case schema.TypeTime:
		// 0 and 101010 are 00:00:00 and 10:10:10 (HHMMSS as a number)
		if n, err := strconv.Atoi(v); err == nil && n >= 0 && n <= 8385959 {
			return fmt.Sprintf("%02d:%02d:%02d", n/10000, n/100%100, n%100)
		}
		// 00:00:00.00000 (TIME(5)) is 00:00:00
		if h, f, ok := strings.Cut(v, "."); ok && strings.Trim(f, "0") == "" {
			return h
		}
	case schema.TypeDate, schema.TypeDateTime, schema.TypeTimestamp:
		f := strings.FieldsFunc(v, func(r rune) bool { return r == '-' || r == ' ' || r == ':' || r == '.' })
		if len(f) < 3 || len(f) > 7 {
			return v
		}
		n := make([]int, 7)
		for i, x := range f {
			k, err := strconv.Atoi(x)
			if err != nil {
				return v
			}
			n[i] = k
		}
		if len(f) == 7 {
			// the fraction: its digits as written ("000" is 0, "5" is .5)
			frac, _ := strconv.ParseFloat("0."+f[6], 64)
			return fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d %g", n[0], n[1], n[2], n[3], n[4], n[5], frac)
		}
		if c.Type == schema.TypeDate {
			// the server keeps the date of 1962-03-03 23:33:34
			return fmt.Sprintf("%04d-%02d-%02d", n[0], n[1], n[2])
		}
		return fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d 0", n[0], n[1], n[2], n[3], n[4], n[5])
	}
	return v
}

// roundHalfUp prints r rounded half away from zero to scale digits.
func roundHalfUp(r *big.Rat, scale int) string {
	neg := r.Sign() < 0
	a := new(big.Rat).Abs(r)
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)
	a.Mul(a, new(big.Rat).SetInt(p))
	a.Add(a, big.NewRat(1, 2))
	q := new(big.Int).Quo(a.Num(), a.Denom())
	if neg && q.Sign() != 0 {
		q.Neg(q)
	}
	return new(big.Rat).SetFrac(q, p).FloatString(scale)
}

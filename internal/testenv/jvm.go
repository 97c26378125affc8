package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The Java test dependencies (Apache Kafka's broker and Connect runtime,
// Debezium) are jars that scripts/testdeps.sh fetches with Maven into
// $RIVULET_TESTDEPS/lib, by default ~/.cache/rivulet-testdeps/lib. Nothing
// of them is in the repository.
const testDepsHint = "run scripts/testdeps.sh (make test and .ci/run do): it fetches Apache Kafka 4.3.0 and Debezium 3.6.1.Final with Maven into $RIVULET_TESTDEPS (default ~/.cache/rivulet-testdeps)"

// TestDepsLib returns the directory holding the test dependencies' jars, or
// an error that says how to fetch them.
func TestDepsLib() (string, error) {
	dir := os.Getenv("RIVULET_TESTDEPS")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find the test dependencies: no $RIVULET_TESTDEPS and no home directory (%w); %s", err, testDepsHint)
		}
		dir = filepath.Join(home, ".cache", "rivulet-testdeps")
	}
	lib := filepath.Join(dir, "lib")
	jars, _ := filepath.Glob(filepath.Join(lib, "kafka_2.13-*.jar"))
	if len(jars) == 0 {
		return "", fmt.Errorf("no Kafka jars in %s; %s", lib, testDepsHint)
	}
	return lib, nil
}

// testDepsClasspath returns the java -cp of the test dependencies: every jar
// of lib/, then our helpers (helpers/rivulet-testdeps.jar, which
// scripts/testdeps.sh compiles from scripts/testdeps/java).
func testDepsClasspath() (string, error) {
	lib, err := TestDepsLib()
	if err != nil {
		return "", err
	}
	helpers := filepath.Join(filepath.Dir(lib), "helpers", "rivulet-testdeps.jar")
	if _, err := os.Stat(helpers); err != nil {
		return "", fmt.Errorf("no %s (our Java helpers); %s", helpers, testDepsHint)
	}
	return filepath.Join(lib, "*") + string(os.PathListSeparator) + helpers, nil
}

// MariaDBShim is the class name of our Connector/J query interceptor that lets
// Debezium 3.6.1's MySqlConnector read MariaDB: that connector asks for the
// binlog position with SHOW BINARY LOG STATUS, a syntax error on MariaDB, and
// then refuses any server whose VERSION() reads 8.4 or later ("MySQL version
// 10.11.19-MariaDB-0+deb12u1-log should support SHOW BINARY LOG STATUS but
// it failed"); debezium-connector-mariadb is not served by Maven Central here.
// The shim answers that one statement with SHOW MASTER STATUS and leaves
// every other statement alone. Debezium strips a queryInterceptors driver
// property, so the class installs itself as a properties transform; give it
// to the connector as
//
//	"driver.propertiesTransform": testenv.MariaDBShim
//
// (source: scripts/testdeps/java/dev/rivulet/testdeps/MariaDbBinlogStatus.java).
const MariaDBShim = "dev.rivulet.testdeps.MariaDbBinlogStatus"

// javaBinary returns $JAVA_HOME/bin/java, else java from PATH.
func javaBinary() (string, error) {
	if h := os.Getenv("JAVA_HOME"); h != "" {
		p := filepath.Join(h, "bin", "java")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath("java")
	if err != nil {
		return "", errors.New("java not found: apt-get install -y openjdk-17-jdk-headless (or set JAVA_HOME)")
	}
	return p, nil
}

// jvmSmall are JVM flags for a test process that must start fast on a
// 2-core machine shared with other test binaries: C1 only (no C2 compiles
// competing for the cores), one compiler thread, the serial collector, no
// perf-data file. Throughput is not the goal; jvmFast is for benchmarks.
var jvmSmall = []string{
	"-XX:+UseSerialGC",
	"-XX:TieredStopAtLevel=1",
	"-XX:CICompilerCount=1",
	"-XX:-UsePerfData",
	"-Xss512k",
	"-XX:MaxMetaspaceSize=192m",
	"-Xshare:auto",
	"-Djava.awt.headless=true",
}

// jvmFast are the flags of a process measured by a benchmark: the JVM's
// defaults (G1, tiered C2), as the Kafka scripts run it.
var jvmFast = []string{
	"-XX:+UseG1GC",
	"-XX:MaxGCPauseMillis=20",
	"-XX:-UsePerfData",
	"-Djava.awt.headless=true",
}

// writeLog4j writes a log4j2 configuration sending every logger at level
// (INFO, WARN, ...) to logFile, and returns its path.
func writeLog4j(dir, logFile, level string) (string, error) {
	path := filepath.Join(dir, "log4j2.properties")
	conf := strings.Join([]string{
		"status = warn",
		"appender.file.type = File",
		"appender.file.name = file",
		"appender.file.fileName = " + logFile,
		"appender.file.layout.type = PatternLayout",
		"appender.file.layout.pattern = [%d{HH:mm:ss.SSS}] %p %m (%c{1})%n",
		"rootLogger.level = " + level,
		"rootLogger.appenderRef.file.ref = file",
		// Per-request and state-change chatter says nothing a failing test needs.
		"logger.request.name = kafka.request.logger",
		"logger.request.level = WARN",
		"logger.state.name = state.change.logger",
		"logger.state.level = WARN",
		// Connect's reflections scan and the MySQL driver's notes.
		"logger.reflections.name = org.reflections",
		"logger.reflections.level = ERROR",
		"",
	}, "\n")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return "", fmt.Errorf("write log4j2 configuration: %w", err)
	}
	return path, nil
}

// jvmProcess is one java process (a Kafka node, a Connect worker) with its
// output in dir/out.log and its log4j log in logFile.
type jvmProcess struct {
	name    string // "kafka node 1", for errors
	dir     string
	args    []string // after the java binary
	logFile string
	java    string // the java binary; "" is javaBinary()

	mu   sync.Mutex
	proc *process // nil while stopped
}

// start launches the JVM. It does not wait for readiness.
func (j *jvmProcess) start() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.proc != nil {
		select {
		case <-j.proc.done:
		default:
			return fmt.Errorf("%s already running", j.name)
		}
	}
	java := j.java
	if java == "" {
		var err error
		if java, err = javaBinary(); err != nil {
			return err
		}
	}
	out, err := os.OpenFile(filepath.Join(j.dir, "out.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open %s output: %w", j.name, err)
	}
	defer out.Close() // the child has its own descriptor
	cmd := exec.Command(java, j.args...)
	cmd.Dir = j.dir
	cmd.Stdout = out
	cmd.Stderr = out
	// The kernel kills the JVM if the test binary (or the benchmark) dies
	// without running its cleanups, so no JVM outlives it.
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", j.name, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	j.proc = p
	return nil
}

// exited returns a channel closed when the running process has exited (a
// closed channel when none runs), and its exit error.
func (j *jvmProcess) exited() (<-chan struct{}, func() error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.proc == nil {
		c := make(chan struct{})
		close(c)
		return c, func() error { return errors.New("not started") }
	}
	p := j.proc
	return p.done, func() error { return p.err }
}

// pid returns the process id, 0 when stopped.
func (j *jvmProcess) pid() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.proc == nil {
		return 0
	}
	return j.proc.cmd.Process.Pid
}

// signal sends sig to the running process without waiting.
func (j *jvmProcess) signal(sig syscall.Signal) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.proc == nil {
		return fmt.Errorf("%s is not running", j.name)
	}
	if err := j.proc.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal %v to %s: %w", sig, j.name, err)
	}
	return nil
}

// stop sends sig and waits for the exit; after timeout it kills. A stopped
// process is a no-op. A paused (SIGSTOP) process is continued first so that
// SIGTERM can act.
func (j *jvmProcess) stop(sig syscall.Signal, timeout time.Duration) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	p := j.proc
	if p == nil {
		return nil
	}
	j.proc = nil
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal %v to %s: %w", sig, j.name, err)
	}
	if sig != syscall.SIGKILL {
		_ = p.cmd.Process.Signal(syscall.SIGCONT)
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-p.done:
		return nil
	case <-timer.C:
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not exit %s after %v, killed", j.name, timeout, sig)
	}
}

// logTail returns up to n bytes of the log4j log from offset from, then the
// end of the process output (JVM errors land there).
func (j *jvmProcess) logTail(from int64, n int) string {
	var b strings.Builder
	for _, f := range []string{j.logFile, filepath.Join(j.dir, "out.log")} {
		data, err := os.ReadFile(f)
		if err != nil || len(data) == 0 {
			continue
		}
		if f == j.logFile && from <= int64(len(data)) {
			data = data[from:]
		}
		if len(data) > n {
			data = data[len(data)-n:]
		}
		fmt.Fprintf(&b, "--- %s (%s) ends:\n%s\n", j.name, f, data)
	}
	return b.String()
}

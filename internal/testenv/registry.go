package testenv

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The schema registry of the Avro tests is Apicurio Registry, whose
// Confluent-compatible REST API (under /apis/ccompat/v7) Confluent's
// AvroConverter and Rivulet's sink/avro both speak: a Quarkus fast-jar that
// scripts/apicurio.sh (run by scripts/testdeps.sh) fetches from Maven Central
// into $RIVULET_TESTDEPS/apicurio/<version>. It keeps its schemas in an H2
// database in memory, so each start is empty. Its default compatibility
// level is set to BACKWARD at start, Confluent Schema Registry's default
// (Apicurio's own is NONE: no rule).
const (
	apicurioVersion      = "3.3.3"
	registryReadyTimeout = 180 * time.Second // about 16 s on a loaded 2-core machine
	registryStopTimeout  = 10 * time.Second
	registryLogTail      = 8000
	registryHint         = "run scripts/testdeps.sh (make test and .ci/run do): scripts/apicurio.sh fetches Apicurio Registry " + apicurioVersion + " with Maven into $RIVULET_TESTDEPS (default ~/.cache/rivulet-testdeps)"
)

// SchemaRegistry is a real Apicurio Registry on free loopback ports.
//
// Three ways to get one, as for Apache Kafka:
//   - SharedRegistry(t): the registry shared by all tests of the test
//     binary (started on first use, stopped by Main). Tests share it, so
//     they must use subjects of their own (topics named after a database
//     or prefix of their own are) and restore any setting they change.
//   - StartRegistry(t): a registry owned by the test, closed at t.Cleanup.
//   - LaunchRegistry(): outside a test; the caller must Close it.
//
// The JVM dies with the process that started it (PR_SET_PDEATHSIG).
type SchemaRegistry struct {
	// URL is the base of the Confluent-compatible API, the value of a
	// client's schema.registry.url:
	// http://127.0.0.1:<port>/apis/ccompat/v7.
	URL string
	Dir string
	// Startup is how long the registry took from the JVM's start until it
	// answered GET /subjects.
	Startup time.Duration

	jvm *jvmProcess
}

var (
	sharedRegistry sharedFixture[*SchemaRegistry]
	liveRegistry   liveSet[*SchemaRegistry] // registries to stop in Main
)

// SharedRegistry returns the schema registry shared by all tests of this
// test binary, starting it on first use. A failed start is remembered. It
// skips the test under -short and fails it, with the fix, when a Java 21
// runtime or the registry's jars are missing. When the test fails, what the
// registry logged during the test is printed.
func SharedRegistry(t testing.TB) *SchemaRegistry {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping schema registry integration test in -short mode")
	}
	r, err := sharedRegistry.get(func() (*SchemaRegistry, error) {
		r, err := launchRegistry()
		if err == nil {
			t.Logf("schema registry (Apicurio Registry %s) ready in %v at %s", apicurioVersion, r.Startup.Round(time.Millisecond), r.URL)
		}
		return r, err
	})
	if err != nil {
		t.Fatalf("start the shared schema registry: %v", err)
	}
	r.printLogOnFailure(t)
	return r
}

// StartRegistry starts a registry owned by the calling test, closed at
// t.Cleanup (its log is printed first if the test failed). It skips the
// test under -short.
func StartRegistry(t testing.TB) *SchemaRegistry {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping schema registry integration test in -short mode")
	}
	r, err := launchRegistry()
	if err != nil {
		t.Fatalf("start the schema registry: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("schema registry log:\n%s", r.LogTail())
		}
		if err := r.Close(); err != nil {
			t.Errorf("stop the schema registry: %v", err)
		}
	})
	return r
}

// LaunchRegistry starts a registry outside of a test; the caller must Close it.
func LaunchRegistry() (*SchemaRegistry, error) { return launchRegistry() }

// RegistryHome returns the directory of the fetched Apicurio Registry
// fast-jar, or an error that says how to fetch it.
func RegistryHome() (string, error) {
	lib, err := TestDepsLib()
	if err != nil {
		return "", err
	}
	home := filepath.Join(filepath.Dir(lib), "apicurio", apicurioVersion)
	if _, err := os.Stat(filepath.Join(home, "quarkus-run.jar")); err != nil {
		return "", fmt.Errorf("no Apicurio Registry in %s; %s", home, registryHint)
	}
	return home, nil
}

func launchRegistry() (*SchemaRegistry, error) {
	home, err := RegistryHome()
	if err != nil {
		return nil, err
	}
	java, err := registryJava()
	if err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		r, err := tryLaunchRegistry(home, java)
		if err == nil {
			liveRegistry.add(r)
			return r, nil
		}
		lastErr = err
		if !errors.Is(err, errPortInUse) {
			break
		}
	}
	return nil, lastErr
}

func tryLaunchRegistry(home, java string) (*SchemaRegistry, error) {
	dir, err := os.MkdirTemp("", "rivulet-registry-")
	if err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	port, err := freePort()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	mgmt, err := freePort()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	args := []string{
		// As jvmSmall (startup over throughput on a shared 2-core
		// machine), without its metaspace cap: Quarkus loads more classes.
		"-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1",
		"-XX:-UsePerfData", "-Xss512k", "-Xmx256m", "-Xshare:auto", "-Djava.awt.headless=true",
		"-Djava.io.tmpdir=" + dir,
		"-Dquarkus.http.host=127.0.0.1",
		"-Dquarkus.http.port=" + strconv.Itoa(port),
		// The management interface (health, metrics) listens on
		// 0.0.0.0:9000 by default: a second registry would not start.
		"-Dquarkus.management.host=127.0.0.1",
		"-Dquarkus.management.port=" + strconv.Itoa(mgmt),
		// One line (two with the audit log) per request says nothing a
		// failing test needs.
		"-Dquarkus.http.access-log.enabled=false",
		`-Dquarkus.log.category."io.apicurio.registry.logging.audit".level=WARN`,
		"-jar", filepath.Join(home, "quarkus-run.jar"),
	}
	r := &SchemaRegistry{
		URL: fmt.Sprintf("http://127.0.0.1:%d/apis/ccompat/v7", port),
		Dir: dir,
		// Quarkus logs to its console: out.log holds everything.
		jvm: &jvmProcess{name: "schema registry", dir: dir, args: args, java: java},
	}
	start := time.Now()
	if err := r.jvm.start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), registryReadyTimeout)
	defer cancel()
	if err := r.waitReady(ctx); err != nil {
		tail := r.LogTail()
		_ = r.jvm.stop(syscall.SIGKILL, time.Second)
		_ = os.RemoveAll(dir)
		if strings.Contains(tail, "Address already in use") || strings.Contains(tail, "Port already bound") {
			err = fmt.Errorf("%w: %w", errPortInUse, err)
		}
		return nil, fmt.Errorf("%w\n%s", err, tail)
	}
	r.Startup = time.Since(start)
	// Apicurio applies no compatibility rule unless told; Confluent's
	// registry defaults to BACKWARD, and the tests expect its behaviour.
	if err := r.SetCompatibility("", "BACKWARD"); err != nil {
		_ = r.jvm.stop(syscall.SIGKILL, time.Second)
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return r, nil
}

// waitReady polls GET /subjects until it answers 200, the JVM exits or ctx ends.
func (r *SchemaRegistry) waitReady(ctx context.Context) error {
	exited, exitErr := r.jvm.exited()
	// No idle connection outlives the check (Main checks for leaked goroutines).
	cl := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL+"/subjects", nil)
		if err != nil {
			return err
		}
		resp, err := cl.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET /subjects: %s", resp.Status)
		}
		last = err
		select {
		case <-exited:
			return fmt.Errorf("schema registry exited before it was ready: %v", exitErr())
		case <-ctx.Done():
			return fmt.Errorf("schema registry not ready after %v: %v", registryReadyTimeout, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// SetCompatibility sets the compatibility level (NONE, BACKWARD, ...) of
// subject, or the registry's default when subject is "" (PUT /config).
func (r *SchemaRegistry) SetCompatibility(subject, level string) error {
	url := r.URL + "/config"
	if subject != "" {
		url += "/" + subject
	}
	body := fmt.Sprintf(`{"compatibility":%q}`, level)
	req, err := http.NewRequest(http.MethodPut, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	cl := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := cl.Do(req)
	if err != nil {
		return fmt.Errorf("set compatibility %s: %w", level, err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("set compatibility %s: %s: %s", level, resp.Status, bytes.TrimSpace(got))
	}
	return nil
}

// PID returns the registry JVM's process id, 0 when stopped.
func (r *SchemaRegistry) PID() int { return r.jvm.pid() }

// LogTail returns the end of the registry's output.
func (r *SchemaRegistry) LogTail() string { return r.logTail(0) }

func (r *SchemaRegistry) logTail(from int64) string {
	data, err := os.ReadFile(filepath.Join(r.Dir, "out.log"))
	if err != nil {
		return fmt.Sprintf("--- schema registry output: %v\n", err)
	}
	if from <= int64(len(data)) {
		data = data[from:]
	}
	if len(data) > registryLogTail {
		data = data[len(data)-registryLogTail:]
	}
	return fmt.Sprintf("--- schema registry (%s) ends:\n%s\n", filepath.Join(r.Dir, "out.log"), data)
}

// printLogOnFailure prints, when t fails, what the registry logged during t.
func (r *SchemaRegistry) printLogOnFailure(t testing.TB) {
	from, _ := fileSize(filepath.Join(r.Dir, "out.log"))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("schema registry log during this test:\n%s", r.logTail(from))
		}
	})
}

// Close kills the registry (its schemas are in memory, thrown away anyway)
// and removes its directory.
func (r *SchemaRegistry) Close() error {
	liveRegistry.remove(r)
	var errs []error
	if err := r.jvm.stop(syscall.SIGKILL, registryStopTimeout); err != nil {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(r.Dir); err != nil {
		errs = append(errs, fmt.Errorf("remove %s: %w", r.Dir, err))
	}
	return errors.Join(errs...)
}

// stopAllRegistries closes every registry still running; Main calls it.
func stopAllRegistries() error {
	var errs []error
	for _, r := range liveRegistry.all() {
		errs = append(errs, r.Close())
	}
	return errors.Join(errs...)
}

// registryJava returns the java binary of the first JDK of release 21 or
// later among $RIVULET_REGISTRY_JAVA_HOME, $JAVA_HOME, the java on PATH and
// /usr/lib/jvm/*: Apicurio Registry 3.3 is compiled for Java 21 (class file
// version 65), while Kafka and Debezium run on the machine's Java 17.
func registryJava() (string, error) {
	var homes []string
	for _, v := range []string{"RIVULET_REGISTRY_JAVA_HOME", "JAVA_HOME"} {
		if h := os.Getenv(v); h != "" {
			homes = append(homes, h)
		}
	}
	if p, err := javaBinary(); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			homes = append(homes, filepath.Dir(filepath.Dir(real)))
		}
	}
	jvms, _ := filepath.Glob("/usr/lib/jvm/*")
	homes = append(homes, jvms...)
	var seen []string
	for _, h := range homes {
		v := javaRelease(h)
		seen = append(seen, fmt.Sprintf("%s (%d)", h, v))
		if v < 21 {
			continue
		}
		java := filepath.Join(h, "bin", "java")
		if _, err := os.Stat(java); err == nil {
			return java, nil
		}
	}
	return "", fmt.Errorf("Apicurio Registry %s needs Java 21 or later; none found among %s: install one under /usr/lib/jvm (Debian 12 packages none; this machine kind has a Temurin 25 JDK there) or set RIVULET_REGISTRY_JAVA_HOME", apicurioVersion, strings.Join(seen, ", "))
}

// javaRelease returns the major version JDK home h declares in its release
// file (JAVA_VERSION="25.0.3" is 25, "1.8.0_452" is 8), 0 when unknown.
func javaRelease(h string) int {
	f, err := os.Open(filepath.Join(h, "release"))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "JAVA_VERSION=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"`)
		v = strings.TrimPrefix(v, "1.")
		if i := strings.IndexAny(v, "._+-"); i >= 0 {
			v = v[:i]
		}
		n, _ := strconv.Atoi(v)
		return n
	}
	return 0
}

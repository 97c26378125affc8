package differential

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// The Debezium reference: java/rivulet/differential/Reference.java, compiled
// once per test binary against the jars scripts/testdeps.sh fetched (Debezium
// 3.6.1.Final, Apache Kafka 4.3.0), run as its own JVM per scenario.

type javaBuilds struct {
	once    sync.Once
	classes string   // compiled classes and log4j2.properties
	jars    []string // jar directories or files, in classpath order
	// mysql: the reference is Debezium's MySqlConnector (with our
	// Connector/J shim, testenv.MariaDBShim) because the MariaDB connector
	// could not be built; fallback says why.
	mysql    bool
	fallback string
	err      error
}

var javaBuild = &javaBuilds{}

// log4j2 configuration of the reference JVM: warnings and errors on stderr.
const log4j2Props = `status = error
appender.err.type = Console
appender.err.name = err
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = %d{HH:mm:ss.SSS} %-5p %c{1} %m%n
rootLogger.level = warn
rootLogger.appenderRef.err.ref = err
`

// reference compiles the Java runner (once) and returns the classpath to run it.
func reference(t testing.TB) string {
	t.Helper()
	javaBuild.once.Do(func() {
		javaBuild.jars, javaBuild.mysql, javaBuild.fallback, javaBuild.err = testdeps()
		if javaBuild.err != nil {
			return
		}
		src, _ := filepath.Glob(filepath.Join("java", "rivulet", "differential", "*.java"))
		h := sha256.New()
		for _, f := range src {
			b, err := os.ReadFile(f)
			if err != nil {
				javaBuild.err = err
				return
			}
			h.Write(b)
		}
		// Classes are kept beside the jars, keyed by the sources' hash:
		// outside the repository, reused by later runs.
		cache, err := testenv.TestDepsLib()
		if err != nil {
			javaBuild.err = err
			return
		}
		dir := filepath.Join(filepath.Dir(cache), "differential-classes", hex.EncodeToString(h.Sum(nil))[:16])
		javaBuild.classes = dir
		if _, err := os.Stat(filepath.Join(dir, "log4j2.properties")); err == nil {
			return
		}
		tmp, err := os.MkdirTemp(filepath.Dir(dir), "")
		if err != nil {
			if err = os.MkdirAll(filepath.Dir(dir), 0o755); err == nil {
				tmp, err = os.MkdirTemp(filepath.Dir(dir), "")
			}
			if err != nil {
				javaBuild.err = err
				return
			}
		}
		defer os.RemoveAll(tmp)
		args := append([]string{"-nowarn", "-encoding", "UTF-8", "-d", tmp, "-cp", javaBuild.classpath()}, src...)
		if out, err := exec.Command("javac", args...).CombinedOutput(); err != nil {
			javaBuild.err = fmt.Errorf("javac %s: %v\n%s", strings.Join(src, " "), err, out)
			return
		}
		if err := os.WriteFile(filepath.Join(tmp, "log4j2.properties"), []byte(log4j2Props), 0o644); err != nil {
			javaBuild.err = err
			return
		}
		if err := os.Rename(tmp, dir); err != nil && !errors.Is(err, fs.ErrExist) {
			if _, statErr := os.Stat(filepath.Join(dir, "log4j2.properties")); statErr != nil {
				javaBuild.err = fmt.Errorf("keep compiled reference: %w", err)
			}
		}
	})
	if javaBuild.err != nil {
		t.Fatal(javaBuild.err)
	}
	return javaBuild.classes + string(os.PathListSeparator) + javaBuild.classpath()
}

func (jb *javaBuilds) classpath() string {
	return strings.Join(jb.jars, string(os.PathListSeparator))
}

// testdeps runs scripts/debezium-mariadb.sh (which runs scripts/testdeps.sh;
// both are no-ops once the cache is current) and returns what the
// reference's classpath holds: the MariaDB connector and its driver, then
// Kafka and the rest of Debezium. When the MariaDB connector cannot be built
// (its source tag is fetched with git; a machine that reaches only the
// package registries cannot), or RIVULET_DIFFERENTIAL_CONNECTOR=mysql, the
// reference is Debezium's MySqlConnector from Maven Central with our
// Connector/J shim (mysql true, fallback the reason);
// RIVULET_DIFFERENTIAL_CONNECTOR=mariadb makes the failure an error.
func testdeps() (jars []string, mysql bool, fallback string, err error) {
	if _, err := exec.LookPath("javac"); err != nil {
		return nil, false, "", fmt.Errorf("javac not found: apt-get install -y openjdk-17-jdk-headless")
	}
	want := os.Getenv("RIVULET_DIFFERENTIAL_CONNECTOR")
	if want == "mysql" {
		fallback = "RIVULET_DIFFERENTIAL_CONNECTOR=mysql"
	} else {
		out, err := exec.Command("bash", filepath.Join("..", "..", "scripts", "debezium-mariadb.sh")).Output()
		if err == nil {
			mariadb := strings.TrimSpace(string(out))
			lib := filepath.Join(filepath.Dir(mariadb), "lib")
			if jars, _ := filepath.Glob(filepath.Join(mariadb, "debezium-connector-mariadb-*.jar")); len(jars) == 0 {
				return nil, false, "", fmt.Errorf("%s holds no debezium-connector-mariadb jar: remove its stamp file and run scripts/debezium-mariadb.sh", mariadb)
			}
			return []string{filepath.Join(mariadb, "*"), filepath.Join(lib, "*")}, false, "", nil
		}
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		err = fmt.Errorf("scripts/debezium-mariadb.sh (builds Debezium's MariaDB connector from its source, fetches Debezium and Kafka with mvn): %v\n%s", err, stderr)
		if want == "mariadb" {
			return nil, false, "", err
		}
		fallback = err.Error()
	}
	lib, err := testenv.TestDepsLib()
	if err != nil {
		return nil, false, "", err
	}
	helpers := filepath.Join(filepath.Dir(lib), "helpers", "rivulet-testdeps.jar")
	if _, err := os.Stat(helpers); err != nil {
		return nil, false, "", fmt.Errorf("no %s (the MariaDB shim for the MySqlConnector reference): run scripts/testdeps.sh", helpers)
	}
	return []string{filepath.Join(lib, "*"), helpers}, true, fallback, nil
}

// Record is one Kafka record as a producer would send it.
type Record struct {
	Topic     string
	Partition int32
	Key       []byte // nil: no key
	Value     []byte // nil: tombstone
	Headers   []Header
}

// Header is one record header.
type Header struct {
	Key   string
	Value []byte
}

// refLine is one line of the reference's output file.
type refLine struct {
	Topic     string       `json:"topic"`
	Partition *int32       `json:"partition"`
	Key       *string      `json:"key"`
	Value     *string      `json:"value"`
	Headers   [][2]*string `json:"headers"`
}

// debezium is one running reference JVM.
type debezium struct {
	t      testing.TB
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    string // records file
	log    *testenv.LogBuffer
	exited chan struct{}
	err    error

	refuses string // scenario.dbzRefuses
	refused bool   // it stopped with refuses

	read   int64               // bytes of out parsed so far
	recs   []Record            // records parsed so far
	decode func(Record) Record // nil, or the Avro decoding of each record
}

// startDebezium writes props and starts the reference on them, with
// extraCP (the Avro converter's jars) after its classpath; decode, when
// set, rewrites each record it read (avroWire).
func startDebezium(t testing.TB, dir string, props map[string]string, decode func(Record) Record, extraCP ...string) *debezium {
	t.Helper()
	cp := strings.Join(append([]string{reference(t)}, extraCP...), string(os.PathListSeparator))
	var b strings.Builder
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", escapeProp(k), escapeProp(props[k]))
	}
	propsPath := filepath.Join(dir, "engine.properties")
	if err := os.WriteFile(propsPath, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	d := &debezium{t: t, out: filepath.Join(dir, "debezium.jsonl"), log: &testenv.LogBuffer{}, exited: make(chan struct{}), decode: decode}
	java, _ := referenceJava()
	d.cmd = exec.Command(java, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx512m",
		"-Dlog4j2.configurationFile="+filepath.Join(javaBuild.classes, "log4j2.properties"),
		"-cp", cp, "rivulet.differential.Reference", propsPath, d.out)
	d.cmd.Dir = dir
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	stdin, err := d.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	d.stdin = stdin
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start the Debezium reference: %v", err)
	}
	go func() { d.err = d.cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() {
		_ = d.cmd.Process.Kill()
		<-d.exited
	})
	return d
}

// escapeProp escapes a .properties key or value.
func escapeProp(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "\n", `\n`, "=", `\=`, ":", `\:`, " ", `\ `, "#", `\#`, "!", `\!`)
	return r.Replace(s)
}

// poll parses what the reference appended to its file since the last call.
func (d *debezium) poll() []Record {
	d.t.Helper()
	f, err := os.Open(d.out)
	if err != nil {
		return d.recs // not created yet
	}
	defer f.Close()
	if _, err := f.Seek(d.read, io.SeekStart); err != nil {
		d.t.Fatal(err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		d.t.Fatal(err)
	}
	end := bytes.LastIndexByte(data, '\n')
	if end < 0 {
		return d.recs
	}
	sc := bufio.NewScanner(bytes.NewReader(data[:end+1]))
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	for sc.Scan() {
		var l refLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			d.t.Fatalf("reference output line: %v\n%s", err, sc.Bytes())
		}
		r := Record{Topic: l.Topic, Key: unb64(d.t, l.Key), Value: unb64(d.t, l.Value)}
		if l.Partition != nil {
			r.Partition = *l.Partition
		}
		for _, h := range l.Headers {
			r.Headers = append(r.Headers, Header{Key: *h[0], Value: unb64(d.t, h[1])})
		}
		if d.decode != nil {
			r = d.decode(r)
		}
		d.recs = append(d.recs, r)
	}
	d.read += int64(end + 1)
	return d.recs
}

func unb64(t testing.TB, s *string) []byte {
	if s == nil {
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(*s)
	if err != nil {
		t.Fatalf("reference output: %v", err)
	}
	if b == nil {
		b = []byte{}
	}
	return b
}

// failed reports whether the JVM has ended (on its own, before stop).
func (d *debezium) failed() bool {
	select {
	case <-d.exited:
		return true
	default:
		return false
	}
}

// stop closes the reference's stdin (the engine commits and stops) and
// waits for the JVM to exit.
func (d *debezium) stop() {
	d.t.Helper()
	_ = d.stdin.Close()
	select {
	case <-d.exited:
	case <-time.After(90 * time.Second):
		d.t.Fatalf("Debezium reference did not stop within 90s\n%s", d.log.String())
	}
	if d.err != nil {
		if d.knownRefusal() {
			// It stopped as known after the workload was seen through.
			d.refused = true
			d.t.Logf("Debezium 3.6.1 stopped as known (README, known differences): %s", d.refuses)
			d.poll()
			return
		}
		d.t.Fatalf("Debezium reference: %v\n%s", d.err, d.log.String())
	}
	d.poll()
}

// knownRefusal reports that the log shows one of the errors refuses names.
func (d *debezium) knownRefusal() bool {
	if d.refuses == "" {
		return false
	}
	log := d.log.String()
	for _, r := range strings.Split(d.refuses, "|") {
		if strings.Contains(log, r) {
			return true
		}
	}
	return false
}

// cloneRecords is a copy safe from later polls.
func cloneRecords(r []Record) []Record { return slices.Clone(r) }

// referenceJava picks the JVM the reference runs on: $RIVULET_REFERENCE_JAVA
// (a java binary), else the newest JDK under /usr/lib/jvm, else java from
// PATH; and its feature version (0: unknown). The JDK decides how a float
// is printed: Float.toString and Double.toString give the shortest
// round-trip digits since JDK 19 (JDK-4511638), as Rivulet does; JDK 17
// prints 1.17549435E-38 where JDK 19+ prints 1.1754944E-38 (see
// normalised, oldJDKFloats).
var referenceJava = sync.OnceValues(func() (string, int) {
	if p := os.Getenv("RIVULET_REFERENCE_JAVA"); p != "" {
		return p, javaFeature(filepath.Join(filepath.Dir(filepath.Dir(p)), "release"))
	}
	best, bestV := "", 0
	releases, _ := filepath.Glob("/usr/lib/jvm/*/release")
	for _, r := range releases {
		bin := filepath.Join(filepath.Dir(r), "bin", "java")
		if _, err := os.Stat(bin); err != nil {
			continue
		}
		if v := javaFeature(r); v > bestV {
			best, bestV = bin, v
		}
	}
	if best != "" {
		return best, bestV
	}
	return "java", 0
})

// javaFeature reads JAVA_VERSION="21.0.2" from a JDK's release file.
func javaFeature(release string) int {
	b, err := os.ReadFile(release)
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "JAVA_VERSION="); ok {
			v = strings.Trim(v, `"`)
			major, _, _ := strings.Cut(v, ".")
			n, _ := strconv.Atoi(major)
			return n
		}
	}
	return 0
}

// oldJDKFloats reports a reference JVM older than 19, whose float texts
// are compared as float32 values (normalised).
func oldJDKFloats() bool { _, v := referenceJava(); return v < 19 }

package differential

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
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

	"github.com/rivulet-cdc/rivulet/internal/conformance"
	"github.com/rivulet-cdc/rivulet/internal/testenv"
)

// The Avro side of the suite: Debezium's records converted by Confluent's
// AvroConverter (schema-registry v8.3.1, built from its source by
// scripts/confluent-avro.sh), Rivulet's written with its own Avro encoder,
// both registering with the same real schema registry: Apicurio Registry
// 3.3.3 through its Confluent-compatible API (testenv.SharedRegistry;
// Confluent's own registry server needs Confluent's rest-utils and kcache
// builds besides Jetty and Jersey, Apicurio's fast-jar is on Maven Central).
// The registry gives a schema one id whoever registers it first, so the
// ids are compared: equal ids say the registry took both sides' schemas for
// the same. internal/srtest, the in-process double, stays for the unit tests.
//
// Both sides' records are in Confluent's wire format: magic byte 0, the
// 4-byte schema id, the Avro binary datum. avroWire turns each key and value
// into the JSON text
//
//	{"schema":<the registered schema>,"id":<the id>,"payload":<the datum>}
//
// read with the schema its id names in the registry, so the rest of the
// suite (normalised, intended, skipped) compares Avro records as it
// compares JsonConverter's. The registered text's spelling (member order,
// relative names) is the normalisation avroSchemaText of normalised; where
// an intended difference changes a column's schema, the id is not compared
// either (applyIntended). Everything else of the datum is in the text: two
// data read with equal schemas are equal byte for byte exactly when their
// texts are (unions are written as their branch's value, and the branch is
// fixed by the schema and the value's kind; a string that is not UTF-8 is
// written as {"not-utf8": base64}).

// confluentAvro builds (once) and returns the classpath entry of
// Confluent's AvroConverter and its dependencies.
var confluentAvro = sync.OnceValues(func() (string, error) {
	cmd := exec.Command("bash", filepath.Join("..", "..", "scripts", "confluent-avro.sh"))
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		return "", fmt.Errorf("scripts/confluent-avro.sh (builds Confluent's AvroConverter from its source: set CONFLUENT_GIT and CONFLUENT_COMMON_GIT to reachable clones of github.com/confluentinc/schema-registry and common): %v\n%s", err, stderr)
	}
	dir := strings.TrimSpace(string(out))
	if jars, _ := filepath.Glob(filepath.Join(dir, "confluent-avro-converter-*.jar")); len(jars) == 0 {
		return "", fmt.Errorf("%s holds no confluent-avro-converter jar: remove its stamp file and run scripts/confluent-avro.sh", dir)
	}
	return filepath.Join(dir, "*"), nil
})

// avroRegistry returns the schema.registry.url of the shared real registry
// for one run of sc in database db. With sc.compatNone its default
// compatibility level is NONE until the run ends (runs are sequential: no
// test of this package is parallel). The value subjects of tables whose
// schema differs on purpose (intended, schema: true) are set to NONE: both
// sides register under the same subject, and under BACKWARD the registry
// refuses whichever of the two schemas comes second (Debezium's REAL as
// float after Rivulet's double: "reader union lacking writer type"), which
// one producer per subject, as in production, never meets.
func avroRegistry(t *testing.T, db string, sc scenario) string {
	t.Helper()
	reg := testenv.SharedRegistry(t)
	if sc.compatNone {
		level, err := compatibility(reg.URL)
		if err != nil {
			t.Fatal(err)
		}
		if err := reg.SetCompatibility("", "NONE"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := reg.SetCompatibility("", level); err != nil {
				t.Error(err)
			}
		})
	}
	for _, s := range intendedSchemaSubjects(db, sc) {
		if err := reg.SetCompatibility(s, "NONE"); err != nil {
			t.Fatal(err)
		}
	}
	return reg.URL
}

var createTable = regexp.MustCompile("(?i)^\\s*CREATE\\s+TABLE\\s+`?(\\w+)")

// intendedSchemaSubjects returns the value subjects of the tables sc
// creates whose schema differs from Debezium's on purpose.
func intendedSchemaSubjects(db string, sc scenario) []string {
	var out []string
	stmts := slices.Concat(append([][]string{sc.setup}, sc.stream...)...)
	for _, st := range stmts {
		m := createTable.FindStringSubmatch(st)
		if m == nil {
			continue
		}
		for _, d := range intended {
			if d.schema && d.table.MatchString(m[1]) {
				out = append(out, prefix+"."+db+"."+m[1]+"-value")
				break
			}
		}
	}
	return out
}

// compatibility returns the registry's default compatibility level (GET /config).
func compatibility(url string) (string, error) {
	cl := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := cl.Get(url + "/config")
	if err != nil {
		return "", fmt.Errorf("read the registry's compatibility level: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var c struct {
		Level string `json:"compatibilityLevel"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &c) != nil || c.Level == "" {
		return "", fmt.Errorf("read the registry's compatibility level: %s: %s", resp.Status, body)
	}
	return c.Level, nil
}

// avroConverter is the converter class both sides are configured with.
const avroConverter = "io.confluent.connect.avro.AvroConverter"

// avroCfg is the converter configuration of one side, on its registry.
func avroCfg(url string) map[string]string {
	return map[string]string{
		"key.converter":                       avroConverter,
		"value.converter":                     avroConverter,
		"key.converter.schema.registry.url":   url,
		"value.converter.schema.registry.url": url,
	}
}

// avroWire decodes one side's records with the schemas of its registry.
type avroWire struct {
	url     string
	mu      sync.Mutex
	schemas map[uint32]*avroSchema
}

type avroSchema struct {
	canon []byte // the registered text, members of each object sorted (avroSchemaText)
	root  any    // parsed
	named map[string]any
	err   error
}

func newAvroWire(url string) *avroWire {
	return &avroWire{url: url, schemas: map[uint32]*avroSchema{}}
}

// record returns r with key and value decoded; a datum that cannot be
// decoded becomes a text saying why, which the comparison then reports.
func (a *avroWire) record(r Record) Record {
	r.Key = a.decode(r.Key)
	r.Value = a.decode(r.Value)
	return r
}

func (a *avroWire) decode(b []byte) []byte {
	if b == nil {
		return nil
	}
	out, err := a.decodeErr(b)
	if err != nil {
		return []byte(fmt.Sprintf("<avro: %v: % x>", err, b[:min(len(b), 16)]))
	}
	return out
}

func (a *avroWire) decodeErr(b []byte) ([]byte, error) {
	if len(b) < 5 || b[0] != 0 {
		return nil, errors.New("not Confluent wire format")
	}
	id := binary.BigEndian.Uint32(b[1:5])
	s := a.schema(id)
	if s.err != nil {
		return nil, s.err
	}
	d := &avroDecoder{b: b[5:], named: s.named}
	var out []byte
	out = append(out, `{"schema":`...)
	out = append(out, s.canon...)
	out = append(out, `,"id":`...)
	out = strconv.AppendUint(out, uint64(id), 10)
	out = append(out, `,"payload":`...)
	out, err := d.value(out, s.root, "")
	if err != nil {
		return nil, err
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%d bytes after the datum", len(d.b))
	}
	return append(out, '}'), nil
}

// schema fetches (once) the schema registered under id.
func (a *avroWire) schema(id uint32) *avroSchema {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s := a.schemas[id]; s != nil {
		return s
	}
	s := &avroSchema{}
	a.schemas[id] = s
	text, err := fetchSchema(a.url, id)
	if err != nil {
		s.err = err
		return s
	}
	if err := json.Unmarshal([]byte(text), &s.root); err != nil {
		s.err = fmt.Errorf("schema %d: %w", id, err)
		return s
	}
	s.named = map[string]any{}
	collectNamed(s.root, "", s.named)
	if avroNormalised(func(n normalisation) bool { return n.avroSchemaText }) {
		var full any
		_ = json.Unmarshal([]byte(text), &full)
		s.canon = canonJSON(nil, fullNames(full, "", s.named))
	} else {
		s.canon = []byte(strconv.Quote(text))
	}
	return s
}

func fetchSchema(url string, id uint32) (string, error) {
	// No idle connection outlives the lookup (testenv.Main checks for
	// leaked goroutines).
	cl := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := cl.Get(fmt.Sprintf("%s/schemas/ids/%d", url, id))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("schema %d: %s: %s", id, resp.Status, body)
	}
	var s struct {
		Schema     string `json:"schema"`
		SchemaType string `json:"schemaType"`
	}
	if err := json.Unmarshal(body, &s); err != nil {
		return "", fmt.Errorf("schema %d: %w", id, err)
	}
	if s.SchemaType != "" && s.SchemaType != "AVRO" {
		return "", fmt.Errorf("schema %d is %s", id, s.SchemaType)
	}
	return s.Schema, nil
}

// avroNormalised reports whether normalised lists the wire normalisation f selects.
func avroNormalised(f func(normalisation) bool) bool { return slices.ContainsFunc(normalised, f) }

// canonJSON writes v as compact JSON with every object's members sorted.
func canonJSON(out []byte, v any) []byte {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out = append(out, '{')
		for i, k := range keys {
			if i > 0 {
				out = append(out, ',')
			}
			out = strconv.AppendQuote(out, k)
			out = append(out, ':')
			out = canonJSON(out, x[k])
		}
		return append(out, '}')
	case []any:
		out = append(out, '[')
		for i, e := range x {
			if i > 0 {
				out = append(out, ',')
			}
			out = canonJSON(out, e)
		}
		return append(out, ']')
	default:
		b, _ := json.Marshal(x)
		return append(out, b...)
	}
}

// fullNames rewrites a schema with every name written in full: a named
// schema's name becomes its full name without a namespace member, a
// reference to one the full name it resolves to (Avro specification,
// Parsing Canonical Form, [FULLNAMES]). Other members stay.
func fullNames(s any, ns string, named map[string]any) any {
	switch x := s.(type) {
	case string:
		switch x {
		case "null", "boolean", "int", "long", "float", "double", "bytes", "string":
			return x
		}
		if named[fullName(x, ns)] != nil {
			return fullName(x, ns)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = fullNames(e, ns, named)
		}
		return x
	case map[string]any:
		switch x["type"] {
		case "record", "error", "enum", "fixed":
			name, _ := x["name"].(string)
			if n, ok := x["namespace"].(string); ok {
				ns = n
			}
			full := fullName(name, ns)
			x["name"] = full
			delete(x, "namespace")
			if i := strings.LastIndexByte(full, '.'); i >= 0 {
				ns = full[:i]
			} else {
				ns = ""
			}
			fields, _ := x["fields"].([]any)
			for _, f := range fields {
				if fm, ok := f.(map[string]any); ok {
					fm["type"] = fullNames(fm["type"], ns, named)
				}
			}
		case "array":
			x["items"] = fullNames(x["items"], ns, named)
		case "map":
			x["values"] = fullNames(x["values"], ns, named)
		default:
			if t, ok := x["type"]; ok {
				x["type"] = fullNames(t, ns, named)
			}
		}
		return x
	}
	return s
}

// fullName is the full name of a named schema declared in namespace ns.
func fullName(name, ns string) string {
	if strings.Contains(name, ".") || ns == "" {
		return name
	}
	return ns + "." + name
}

// collectNamed records every named schema (record, enum, fixed) by full name.
func collectNamed(s any, ns string, into map[string]any) {
	switch x := s.(type) {
	case []any:
		for _, e := range x {
			collectNamed(e, ns, into)
		}
	case map[string]any:
		switch x["type"] {
		case "record", "error", "enum", "fixed":
			name, _ := x["name"].(string)
			if n, ok := x["namespace"].(string); ok {
				ns = n
			}
			full := fullName(name, ns)
			into[full] = x
			if i := strings.LastIndexByte(full, '.'); i >= 0 {
				ns = full[:i]
			} else {
				ns = ""
			}
			fields, _ := x["fields"].([]any)
			for _, f := range fields {
				if fm, ok := f.(map[string]any); ok {
					collectNamed(fm["type"], ns, into)
				}
			}
		default:
			collectNamed(x["type"], ns, into)
			collectNamed(x["items"], ns, into)
			collectNamed(x["values"], ns, into)
		}
	}
}

// avroDecoder reads one Avro binary datum and writes it as JSON: records as
// objects in field order, unions as their branch's value, bytes and fixed
// as base64 text, enums as their symbol, float and double as the shortest
// text of their 32- or 64-bit value (NaN and infinities as strings).
type avroDecoder struct {
	b     []byte
	named map[string]any
}

func (d *avroDecoder) long() (int64, error) {
	u, n := binary.Uvarint(d.b)
	if n <= 0 {
		return 0, errors.New("bad varint")
	}
	d.b = d.b[n:]
	return int64(u>>1) ^ -int64(u&1), nil
}

func (d *avroDecoder) take(n int64) ([]byte, error) {
	if n < 0 || n > int64(len(d.b)) {
		return nil, fmt.Errorf("length %d beyond the datum", n)
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v, nil
}

func (d *avroDecoder) value(out []byte, s any, ns string) ([]byte, error) {
	switch x := s.(type) {
	case []any: // union
		i, err := d.long()
		if err != nil {
			return nil, err
		}
		if i < 0 || int(i) >= len(x) {
			return nil, fmt.Errorf("union branch %d of %d", i, len(x))
		}
		return d.value(out, x[i], ns)
	case string:
		return d.primitive(out, x, ns)
	case map[string]any:
		t, _ := x["type"].(string)
		switch t {
		case "record", "error":
			name, _ := x["name"].(string)
			if n, ok := x["namespace"].(string); ok {
				ns = n
			}
			full := fullName(name, ns)
			if i := strings.LastIndexByte(full, '.'); i >= 0 {
				ns = full[:i]
			} else {
				ns = ""
			}
			out = append(out, '{')
			fields, _ := x["fields"].([]any)
			for i, f := range fields {
				fm, _ := f.(map[string]any)
				fname, _ := fm["name"].(string)
				if i > 0 {
					out = append(out, ',')
				}
				out = strconv.AppendQuote(out, fname)
				out = append(out, ':')
				var err error
				if out, err = d.value(out, fm["type"], ns); err != nil {
					return nil, fmt.Errorf("%s: %w", fname, err)
				}
			}
			return append(out, '}'), nil
		case "enum":
			i, err := d.long()
			if err != nil {
				return nil, err
			}
			syms, _ := x["symbols"].([]any)
			if i < 0 || int(i) >= len(syms) {
				return nil, fmt.Errorf("enum index %d of %d", i, len(syms))
			}
			sym, _ := syms[i].(string)
			return strconv.AppendQuote(out, sym), nil
		case "fixed":
			size, _ := x["size"].(float64)
			v, err := d.take(int64(size))
			if err != nil {
				return nil, err
			}
			return strconv.AppendQuote(out, base64.StdEncoding.EncodeToString(v)), nil
		case "array", "map":
			open, closing := byte('['), byte(']')
			if t == "map" {
				open, closing = '{', '}'
			}
			out = append(out, open)
			first := true
			for {
				n, err := d.long()
				if err != nil {
					return nil, err
				}
				if n == 0 {
					break
				}
				if n < 0 {
					n = -n
					if _, err := d.long(); err != nil { // the block's size in bytes
						return nil, err
					}
				}
				for ; n > 0; n-- {
					if !first {
						out = append(out, ',')
					}
					first = false
					if t == "map" {
						k, err := d.str()
						if err != nil {
							return nil, err
						}
						b, _ := json.Marshal(k)
						out = append(out, b...)
						out = append(out, ':')
						if out, err = d.value(out, x["values"], ns); err != nil {
							return nil, err
						}
					} else if out, err = d.value(out, x["items"], ns); err != nil {
						return nil, err
					}
				}
			}
			return append(out, closing), nil
		default: // a primitive with properties (logicalType, connect.*)
			return d.value(out, x["type"], ns)
		}
	}
	return nil, fmt.Errorf("schema %v", s)
}

func (d *avroDecoder) str() (string, error) {
	n, err := d.long()
	if err != nil {
		return "", err
	}
	v, err := d.take(n)
	return string(v), err
}

func (d *avroDecoder) primitive(out []byte, t, ns string) ([]byte, error) {
	switch t {
	case "null":
		return append(out, "null"...), nil
	case "boolean":
		v, err := d.take(1)
		if err != nil {
			return nil, err
		}
		return strconv.AppendBool(out, v[0] != 0), nil
	case "int", "long":
		v, err := d.long()
		if err != nil {
			return nil, err
		}
		return strconv.AppendInt(out, v, 10), nil
	case "float":
		v, err := d.take(4)
		if err != nil {
			return nil, err
		}
		return appendFloat(out, float64(math.Float32frombits(binary.LittleEndian.Uint32(v))), 32), nil
	case "double":
		v, err := d.take(8)
		if err != nil {
			return nil, err
		}
		return appendFloat(out, math.Float64frombits(binary.LittleEndian.Uint64(v)), 64), nil
	case "bytes":
		n, err := d.long()
		if err != nil {
			return nil, err
		}
		v, err := d.take(n)
		if err != nil {
			return nil, err
		}
		return strconv.AppendQuote(out, base64.StdEncoding.EncodeToString(v)), nil
	case "string":
		v, err := d.str()
		if err != nil {
			return nil, err
		}
		if !utf8.ValidString(v) {
			return append(strconv.AppendQuote(append(out, `{"not-utf8":`...), base64.StdEncoding.EncodeToString([]byte(v))), '}'), nil
		}
		b, _ := json.Marshal(v)
		return append(out, b...), nil
	}
	ref := d.named[fullName(t, ns)]
	if ref == nil {
		ref = d.named[t]
	}
	if ref == nil {
		return nil, fmt.Errorf("unknown type %q", t)
	}
	return d.value(out, ref, ns)
}

func appendFloat(out []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.AppendQuote(out, strconv.FormatFloat(f, 'g', -1, bits))
	}
	return strconv.AppendFloat(out, f, 'g', -1, bits)
}

// needAvro returns the classpath entry of Confluent's AvroConverter, or
// fails t with how to get it.
func needAvro(t testing.TB) string {
	t.Helper()
	cp, err := confluentAvro()
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

// TestDifferential_Avro: the operations workload (inserts, updates,
// deletes and tombstones, primary-key changes with their headers,
// transactions, with transaction metadata), the DDL
// sequence with the schema change topic, and the conformance tables in the
// value-handling modes: Debezium with Confluent's AvroConverter, Rivulet
// with its own encoder, on one real schema registry.
func TestDifferential_Avro(t *testing.T) {
	srv := testenv.MariaDB(t)
	// The DDL workload makes a nullable column NOT NULL, which a BACKWARD
	// rule refuses (409) for both sides (the README: Avro and the schema
	// registry); with NONE every version of the table is registered and
	// compared.
	ddl := ddlScenario()
	ddl.compatNone = true
	ops := []struct {
		name  string
		sc    scenario
		short bool // in the fast subset
	}{
		{"operations", operations, true},
		{"tx_metadata", func() scenario {
			sc := operations
			sc.cfg = map[string]string{"provide.transaction.metadata": "true"}
			return sc
		}(), false},
		{"no_tombstones", func() scenario {
			sc := operations
			sc.cfg = map[string]string{"tombstones.on.delete": "false"}
			return sc
		}(), false},
		{"ddl", ddl, false},
	}
	for _, o := range ops {
		t.Run(o.name, func(t *testing.T) {
			if !full() && !o.short {
				t.Skip("fast subset: RIVULET_DIFFERENTIAL=full runs every Avro scenario (make differential)")
			}
			sc := o.sc
			sc.avro = true
			res := run(t, srv, sc)
			reportDiffs(t, "records", compareRecords(prefix, res.debezium, res.rivulet))
		})
	}

	// The conformance tables in the value-handling modes of
	// TestDifferential_Types but schemas_off, which is JsonConverter's
	// (Avro always carries its schema).
	setZone(t, srv)
	var tables []conformance.Table
	for _, tb := range conformance.Tables() {
		if _, own := ownRun[tb.Name]; !own {
			tables = append(tables, tb)
		}
	}
	for _, m := range typeModes {
		if m.name == "schemas_off" {
			continue
		}
		t.Run("types_"+m.name, func(t *testing.T) {
			if !full() {
				t.Skip("fast subset: RIVULET_DIFFERENTIAL=full runs every Avro scenario (make differential)")
			}
			sc := typesScenario(tables, m.cfg)
			sc.avro = true
			reference(t)
			if javaBuild.mysql {
				sc.dbzRefuses = mysqlRefuses
			}
			res := run(t, srv, sc)
			if res.refused {
				return
			}
			reportDiffs(t, "records", compareRecords(prefix, res.debezium, res.rivulet))
		})
	}
}

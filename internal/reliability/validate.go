package reliability

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/rivulet-cdc/rivulet/offsets"
)

// maxListed bounds the examples an error lists.
const maxListed = 10

func text(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		if x {
			return "1"
		}
		return "0"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func keyOf(row map[string]any, keyCols []string) string {
	parts := make([]string, len(keyCols))
	for i, c := range keyCols {
		parts[i] = text(row[c])
	}
	return strings.Join(parts, "|")
}

func listed(items []string) string {
	slices.Sort(items)
	if len(items) > maxListed {
		return strings.Join(items[:maxListed], "; ") + fmt.Sprintf("; ... (%d in all)", len(items))
	}
	return strings.Join(items, "; ")
}

// StateReport is what CheckState compared.
type StateReport struct {
	Records, Keys int
}

// CheckState is I1 (no loss): it rebuilds the last state per key of topic
// from recs in order (a delete or tombstone removes the key, every other
// change or snapshot row sets it) and compares it with rows, the table as
// SELECT returns it: columns names the columns of each row, keyCols the
// primary key. Values compare as text (SQL NULL as "NULL"); only the
// columns selected are compared, so a column added later does not matter.
func CheckState(recs []Record, topic string, keyCols, columns []string, rows [][]string) (StateReport, error) {
	state := map[string]map[string]any{}
	var rep StateReport
	for i := range recs {
		r := &recs[i]
		if r.Topic != topic {
			continue
		}
		rep.Records++
		switch {
		case r.RawValue == nil:
			if r.Key != nil {
				delete(state, keyOf(r.Key, keyCols))
			}
		case r.Op == "d":
			delete(state, keyOf(r.Before, keyCols))
		case r.After != nil:
			state[keyOf(r.After, keyCols)] = r.After
		}
	}
	var diffs []string
	seen := map[string]bool{}
	for _, row := range rows {
		m := map[string]string{}
		for i, c := range columns {
			m[c] = row[i]
		}
		kp := make([]string, len(keyCols))
		for i, c := range keyCols {
			kp[i] = m[c]
		}
		k := strings.Join(kp, "|")
		seen[k] = true
		got, ok := state[k]
		if !ok {
			diffs = append(diffs, "lost key "+k)
			continue
		}
		for _, c := range columns {
			v, ok := got[c]
			if !ok {
				continue // the column did not exist when the row was last changed
			}
			if g := text(v); g != m[c] {
				diffs = append(diffs, fmt.Sprintf("key %s: %s is %s in the topic, %s in the table", k, c, g, m[c]))
			}
		}
	}
	for k := range state {
		if !seen[k] {
			diffs = append(diffs, "key "+k+" is in the topic but not in the table")
		}
	}
	rep.Keys = len(rows)
	if len(diffs) > 0 {
		return rep, fmt.Errorf("I1: topic %s differs from its table in %d keys (%d records): %s", topic, len(diffs), rep.Records, listed(diffs))
	}
	return rep, nil
}

// Coord is a binlog coordinate: a record's source file/pos (its
// transaction's BEGIN) or a stored offset's file/pos.
type Coord struct {
	File string
	Pos  uint64
}

// CoordOf is the file/pos of a stored position.
func CoordOf(p offsets.Position) Coord { return Coord{File: p.File, Pos: p.Pos} }

// Compare orders binlog coordinates: by the file's sequence number, then pos.
func (c Coord) Compare(o Coord) int {
	if c.File != o.File {
		a, b := fileSeq(c.File), fileSeq(o.File)
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return strings.Compare(c.File, o.File)
	}
	switch {
	case c.Pos < o.Pos:
		return -1
	case c.Pos > o.Pos:
		return 1
	}
	return 0
}

func (c Coord) String() string { return c.File + ":" + strconv.FormatUint(c.Pos, 10) }

func fileSeq(f string) int64 {
	i := strings.LastIndexByte(f, '.')
	n, _ := strconv.ParseInt(f[i+1:], 10, 64)
	return n
}

// identity is what makes two records the same change: topic, key, source
// coordinates and content (timestamps of the envelope excluded, which
// differ between an original and its replay).
func identity(r *Record) string {
	return fmt.Sprintf("%s\x00%s\x00%s:%d:%d:%s\x00%s\x00%s\x00%s", r.Topic, r.RawKey, r.Source.File, r.Source.Pos, r.Source.Row,
		r.Source.GTID, r.Op, canon(r.Before), canon(r.After))
}

func canon(m map[string]any) string {
	if m == nil {
		return "null"
	}
	keys := slices.Sorted(maps.Keys(m))
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(text(m[k]))
		b.WriteByte(',')
	}
	return b.String()
}

// Crash is one fault that may repeat records: the offset durable when it
// happened, and how far the server's binlog had got by then (nothing past
// Reached can have been sent before the crash; zero means unknown).
type Crash struct {
	Durable, Reached Coord
}

// DupReport describes the duplicates found.
type DupReport struct {
	Streamed   int // streamed change records
	Duplicates int // records that repeat an earlier one
	// WindowRecords and WindowBytes are the largest duplicate window of one
	// crash: the records repeated after it, and the stretch of binlog from
	// its durable offset to the last repeated change.
	WindowRecords int
	WindowBytes   uint64
}

// CheckDuplicates is I2: every streamed change record that occurs more than
// once is an exact repeat (same topic, key, source coordinates and
// content: anything else would be two different changes, judged by I1 and
// I3), and lies in the window of a crash: at or after the offset durable
// when it happened and not past where the binlog had got by then. A
// graceful stop, or no crash at all, must leave no duplicates (pass no
// crashes, and every duplicate fails).
func CheckDuplicates(recs []Record, crashes []Crash) (DupReport, error) {
	var rep DupReport
	count := map[string]int{}
	perCrash := make([]int, len(crashes))
	var bad []string
	for i := range recs {
		r := &recs[i]
		if !r.Streamed() {
			continue
		}
		rep.Streamed++
		id := identity(r)
		count[id]++
		if count[id] < 2 {
			continue
		}
		rep.Duplicates++
		c := Coord{r.Source.File, r.Source.Pos}
		found := -1
		for j, cr := range crashes {
			if c.Compare(cr.Durable) >= 0 && (cr.Reached.File == "" || c.Compare(cr.Reached) <= 0) {
				found = j
				break
			}
		}
		if found < 0 {
			bad = append(bad, fmt.Sprintf("%s key %s at %s repeated outside every crash window %v", r.Topic, r.RawKey, c, crashes))
			continue
		}
		perCrash[found]++
		rep.WindowRecords = max(rep.WindowRecords, perCrash[found])
		if d := crashes[found].Durable; c.File == d.File && c.Pos-d.Pos > rep.WindowBytes {
			rep.WindowBytes = c.Pos - d.Pos
		}
	}
	if len(bad) > 0 {
		return rep, fmt.Errorf("I2: %d duplicates outside the window of a crash: %s", len(bad), listed(bad))
	}
	return rep, nil
}

// CheckReplay is I2 for one crash at a known durable offset (Event and Row
// zero, between transactions): of the changes run 1 wrote (before, the
// records present at the crash), exactly those at or after durable appear
// again afterwards (after), identical; none before it does.
func CheckReplay(before, after []Record, durable Coord) (replayed int, err error) {
	again := map[string]bool{}
	for i := range after {
		if after[i].Streamed() {
			again[identity(&after[i])] = true
		}
	}
	var bad []string
	for i := range before {
		r := &before[i]
		if !r.Streamed() {
			continue
		}
		c := Coord{r.Source.File, r.Source.Pos}
		id := identity(r)
		switch unpersisted := c.Compare(durable) >= 0; {
		case unpersisted && !again[id]:
			bad = append(bad, fmt.Sprintf("%s key %s at %s is after the durable offset %s but was not sent again", r.Topic, r.RawKey, c, durable))
		case !unpersisted && again[id]:
			bad = append(bad, fmt.Sprintf("%s key %s at %s was sent again although offset %s was durable", r.Topic, r.RawKey, c, durable))
		case unpersisted:
			replayed++
		}
	}
	if len(bad) > 0 {
		return replayed, fmt.Errorf("I2: the replay is not exactly the unpersisted changes: %s", listed(bad))
	}
	return replayed, nil
}

// CounterReport describes the counter sequences checked.
type CounterReport struct {
	Keys, Changes, Replays int
}

// CheckCounters is I3 for the counter workload (Estuary's
// testStressCorrectness): in topic order, per key of topic, the counter
// column starts at 0 and each change either moves it by exactly +1 or goes
// back to an earlier value (a replay after a crash, which must then move on
// by +1 again): no gap, no change out of order. It also checks that each
// key's last value is its highest.
func CheckCounters(recs []Record, topic, keyCol, counterCol string) (CounterReport, error) {
	var rep CounterReport
	last := map[string]int64{}
	high := map[string]int64{}
	var bad []string
	for i := range recs {
		r := &recs[i]
		if r.Topic != topic || r.After == nil {
			continue
		}
		k := text(r.After[keyCol])
		v, err := strconv.ParseInt(text(r.After[counterCol]), 10, 64)
		if err != nil {
			bad = append(bad, fmt.Sprintf("key %s: counter %q is not a number", k, text(r.After[counterCol])))
			continue
		}
		rep.Changes++
		p, ok := last[k]
		switch {
		case !ok && v != 0:
			bad = append(bad, fmt.Sprintf("key %s starts at %d, not 0 (offset %d)", k, v, r.Offset))
		case ok && v == p+1:
		case ok && v <= p:
			rep.Replays++
		case ok:
			bad = append(bad, fmt.Sprintf("key %s jumps from %d to %d (offset %d): changes lost or reordered", k, p, v, r.Offset))
		}
		last[k] = v
		high[k] = max(high[k], v)
	}
	for k, v := range last {
		if v != high[k] {
			bad = append(bad, fmt.Sprintf("key %s ends at %d below its highest %d", k, v, high[k]))
		}
	}
	rep.Keys = len(last)
	if len(bad) > 0 {
		return rep, fmt.Errorf("I3: %d per-key order violations on %s: %s", len(bad), topic, listed(bad))
	}
	return rep, nil
}

// CheckFailure is I4's log half: log (Rivulet's text or JSON log) holds
// exactly one ERROR line, and it names every want (the cause, the
// position, the remedy...). It returns that line. The other half — a
// non-zero exit or an unready /readyz within a measured time — is the
// test's, which knows the process.
func CheckFailure(log string, want ...string) (string, error) {
	var errs []string
	for l := range strings.Lines(log) {
		if strings.Contains(l, "level=ERROR") || strings.Contains(l, `"level":"ERROR"`) {
			errs = append(errs, strings.TrimSpace(l))
		}
	}
	switch len(errs) {
	case 0:
		return "", fmt.Errorf("I4: no ERROR line in the log")
	case 1:
	default:
		return errs[len(errs)-1], fmt.Errorf("I4: %d ERROR lines, want one actionable line: %s", len(errs), listed(errs))
	}
	var missing []string
	for _, w := range want {
		if !strings.Contains(errs[0], w) {
			missing = append(missing, strconv.Quote(w))
		}
	}
	if len(missing) > 0 {
		return errs[0], fmt.Errorf("I4: the ERROR line does not name %s: %s", strings.Join(missing, ", "), errs[0])
	}
	return errs[0], nil
}

// CheckSkip is I5: a skip was logged at WARN (a line naming warn) and
// counted (the series metric, with any labels, sums above zero in the
// Prometheus text exposition metricsText). The opt-in is the test's
// configuration.
func CheckSkip(log, metricsText, warn, metric string) (float64, error) {
	logged := false
	for l := range strings.Lines(log) {
		if (strings.Contains(l, "level=WARN") || strings.Contains(l, `"level":"WARN"`)) && strings.Contains(l, warn) {
			logged = true
		}
	}
	var sum float64
	for l := range strings.Lines(metricsText) {
		if strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Fields(l)
		if len(f) != 2 || (f[0] != metric && !strings.HasPrefix(f[0], metric+"{")) {
			continue
		}
		v, _ := strconv.ParseFloat(f[1], 64)
		sum += v
	}
	switch {
	case !logged:
		return sum, fmt.Errorf("I5: no WARN line names %q", warn)
	case sum <= 0:
		return sum, fmt.Errorf("I5: the skip was not counted in %s", metric)
	}
	return sum, nil
}

package verify

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/rivulet-cdc/rivulet/schema"
)

// RepairCondition returns one SQL condition selecting the rows an
// incremental snapshot must send again to repair r: the keys missing from
// the topic and those whose values differ. It is at most maxLen bytes long
// (the signal's data column, e.g. VARCHAR(2048), must hold it): a single
// integer key is written as an IN list and, when that is too long, as the
// fewest ranges (BETWEEN) that fit, which re-send some equal rows too;
// other keys as one equality per key, or an error naming the fix when that
// does not fit. ok is false when nothing needs a snapshot.
func (r *Result) RepairCondition(t *schema.Table, maxLen int) (cond string, ok bool, err error) {
	keys := slices.Concat(r.Missing, r.Differ)
	if len(keys) == 0 {
		return "", false, nil
	}
	if c, ok := intKeyCondition(t, keys, maxLen); ok {
		return c, true, nil
	}
	parts := make([]string, 0, len(keys))
	for _, d := range keys {
		c, err := KeyCondition(t, []byte(d.Key))
		if err != nil {
			return "", false, err
		}
		parts = append(parts, c)
	}
	cond = strings.Join(parts, " OR ")
	if len(cond) > maxLen {
		return "", false, fmt.Errorf("%d differing keys of %s need a condition of %d bytes, more than the %d the signal holds: "+
			"repair with an incremental snapshot of the whole table (execute-snapshot with data-collections [%q])", len(keys), t.ID(), len(cond), maxLen, t.ID())
	}
	return cond, true, nil
}

// intKeyCondition renders the keys of a table with a single integer key
// column as "`id` IN (…)" or, to fit maxLen, as ranges merged across the
// smallest gaps.
func intKeyCondition(t *schema.Table, keys []Diff, maxLen int) (string, bool) {
	ck := t.Key()
	if len(ck) != 1 {
		return "", false
	}
	col := &t.Columns[ck[0]]
	switch col.Type {
	case schema.TypeTinyInt, schema.TypeSmallInt, schema.TypeMediumInt, schema.TypeInt, schema.TypeBigInt:
	default:
		return "", false
	}
	if col.Unsigned && col.Type == schema.TypeBigInt {
		return "", false // beyond int64
	}
	vals := make([]int64, 0, len(keys))
	for _, d := range keys {
		var f map[string]json.Number
		if err := json.Unmarshal([]byte(d.Key), &f); err != nil {
			return "", false
		}
		n, err := strconv.ParseInt(f[col.Name].String(), 10, 64)
		if err != nil {
			return "", false
		}
		vals = append(vals, n)
	}
	slices.Sort(vals)
	vals = slices.Compact(vals)
	name := quoteIdent(col.Name)
	// Merge neighbours at most gap apart into one range (a run of fewer
	// than three keys stays in the IN list, which is shorter).
	render := func(gap int64) string {
		var in []string
		var ranges []string
		for i := 0; i < len(vals); {
			j := i
			for j+1 < len(vals) && vals[j+1]-vals[j] <= gap {
				j++
			}
			if j-i < 2 {
				for k := i; k <= j; k++ {
					in = append(in, strconv.FormatInt(vals[k], 10))
				}
			} else {
				ranges = append(ranges, name+" BETWEEN "+strconv.FormatInt(vals[i], 10)+" AND "+strconv.FormatInt(vals[j], 10))
			}
			i = j + 1
		}
		if len(in) > 0 {
			ranges = append(ranges, name+" IN ("+strings.Join(in, ",")+")")
		}
		return strings.Join(ranges, " OR ")
	}
	if c := render(0); len(c) <= maxLen {
		return c, true
	}
	// The candidate gaps are the distances between neighbours. The length
	// mostly shrinks as the gap grows: search for the smallest gap that
	// fits, then walk on where the search landed on one that does not.
	gaps := make([]int64, 0, len(vals))
	for i := 1; i < len(vals); i++ {
		gaps = append(gaps, vals[i]-vals[i-1])
	}
	slices.Sort(gaps)
	gaps = slices.Compact(gaps)
	i, _ := slices.BinarySearchFunc(gaps, maxLen, func(g int64, maxLen int) int {
		if len(render(g)) <= maxLen {
			return 1
		}
		return -1
	})
	for ; i < len(gaps); i++ {
		if c := render(gaps[i]); len(c) <= maxLen {
			return c, true
		}
	}
	return "", false // not even one range fits: the caller says what to do
}

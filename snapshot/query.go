package snapshot

import (
	"strings"

	"github.com/rivulet-cdc/rivulet/schema"
)

// keyCond returns a condition comparing the key columns of t with a key
// value given as arguments, and how many arguments it takes per key part.
// op is ">" (strictly after) or "<=" (up to and including). A composite key
// is expanded into (a > ?) OR (a = ? AND b > ?) ..., which every MySQL and
// MariaDB version can run as a range scan on the key's index, unlike the row
// constructor (a, b) > (?, ?).
func keyCond(t *schema.Table, op string, key []any) (string, []any) {
	cols := t.ChunkKey()
	strict := op
	if op == "<=" {
		strict = "<"
	}
	var b strings.Builder
	var args []any
	b.WriteByte('(')
	for i := range cols {
		if i > 0 {
			b.WriteString(" OR ")
		}
		b.WriteByte('(')
		for j := 0; j < i; j++ {
			b.WriteString(quote(t.Columns[cols[j]].Name))
			b.WriteString(" = ? AND ")
			args = append(args, key[j])
		}
		b.WriteString(quote(t.Columns[cols[i]].Name))
		if i == len(cols)-1 {
			b.WriteString(" " + op + " ?")
		} else {
			b.WriteString(" " + strict + " ?")
		}
		args = append(args, key[i])
		b.WriteByte(')')
	}
	b.WriteByte(')')
	return b.String(), args
}

func keyList(t *schema.Table) string {
	parts := make([]string, len(t.ChunkKey()))
	for i, c := range t.ChunkKey() {
		parts[i] = quote(t.Columns[c].Name)
	}
	return strings.Join(parts, ", ")
}

func from(t *schema.Table) string { return quote(t.DB) + "." + quote(t.Name) }

// selectList names every column in table order.
func selectList(t *schema.Table) string {
	parts := make([]string, len(t.Columns))
	for i := range t.Columns {
		parts[i] = quote(t.Columns[i].Name)
	}
	return strings.Join(parts, ", ")
}

// boundQuery finds the upper key of the chunk that starts after lo: the
// key n rows further in key order, read from the key's index only.
func boundQuery(t *schema.Table, lo []any, n int) (string, []any) {
	q := "SELECT " + keyList(t) + " FROM " + from(t)
	var args []any
	if lo != nil {
		var c string
		c, args = keyCond(t, ">", lo)
		q += " WHERE " + c
	}
	q += " ORDER BY " + keyOrder(t) + " LIMIT 1 OFFSET " + itoa(n-1)
	return q, args
}

func keyOrder(t *schema.Table) string {
	parts := make([]string, len(t.ChunkKey()))
	for i, c := range t.ChunkKey() {
		parts[i] = quote(t.Columns[c].Name) + " ASC"
	}
	return strings.Join(parts, ", ")
}

// chunkQuery reads the rows with lo < key <= hi (nil: unbounded), in key
// order. base is the table's SELECT override, if any.
func chunkQuery(t *schema.Table, base string, lo, hi []any) (string, []any) {
	q := "SELECT " + selectList(t) + " FROM " + from(t)
	if base != "" {
		// A derived table keeps the override's own WHERE apart from the
		// chunk condition; the optimizer merges it into one range scan.
		q = "SELECT * FROM (" + base + ") AS rivulet_chunk"
	}
	var conds []string
	var args []any
	if lo != nil {
		c, a := keyCond(t, ">", lo)
		conds, args = append(conds, c), append(args, a...)
	}
	if hi != nil {
		c, a := keyCond(t, "<=", hi)
		conds, args = append(conds, c), append(args, a...)
	}
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	if len(t.ChunkKey()) > 0 {
		q += " ORDER BY " + keyOrder(t)
	}
	return q, args
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return string(b[i:])
}

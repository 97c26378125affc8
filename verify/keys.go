package verify

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/rivulet-cdc/rivulet/schema"
)

// Errors callers branch on.
var (
	// ErrRecord marks a record verify cannot read (not the configured format).
	ErrRecord = errors.New("unreadable record")
	// ErrKeyType marks a key whose columns verify cannot turn back into a
	// SQL condition (temporal, DECIMAL, BIT and other encoded key types):
	// the key is compared but not read again or repaired by key.
	ErrKeyType = errors.New("key type not supported for re-reads")
	// ErrConfig marks an unusable Config.
	ErrConfig = errors.New("invalid verify configuration")
)

// KeyCondition renders a canonical key (the JSON object of the key fields,
// Canon.Key) of table t as a SQL condition selecting that row, e.g.
// "(`id` = 5 AND `name` = 'x')". Integer, floating-point, character, ENUM,
// SET, YEAR and (base64, binary.handling.mode=bytes) binary key columns are
// supported; others give ErrKeyType.
func KeyCondition(t *schema.Table, key []byte) (string, error) {
	d := json.NewDecoder(bytes.NewReader(key))
	d.UseNumber()
	var fields map[string]any
	if err := d.Decode(&fields); err != nil {
		return "", fmt.Errorf("%w: key %s: %w", ErrRecord, key, err)
	}
	var b strings.Builder
	b.WriteByte('(')
	for i, ci := range t.Key() {
		c := &t.Columns[ci]
		v, ok := fields[c.Name]
		if !ok {
			return "", fmt.Errorf("%w: key %s has no field %q", ErrRecord, key, c.Name)
		}
		if i > 0 {
			b.WriteString(" AND ")
		}
		b.WriteString(quoteIdent(c.Name))
		lit, err := literal(c, v)
		if err != nil {
			return "", fmt.Errorf("key %s of %s: %w", key, t.ID(), err)
		}
		if lit == "NULL" {
			b.WriteString(" IS NULL")
		} else {
			b.WriteString(" = ")
			b.WriteString(lit)
		}
	}
	b.WriteByte(')')
	return b.String(), nil
}

func literal(c *schema.Column, v any) (string, error) {
	if v == nil {
		return "NULL", nil
	}
	switch c.Type {
	case schema.TypeTinyInt, schema.TypeSmallInt, schema.TypeMediumInt, schema.TypeInt, schema.TypeBigInt,
		schema.TypeFloat, schema.TypeDouble, schema.TypeYear:
		if n, ok := v.(json.Number); ok {
			return n.String(), nil
		}
	case schema.TypeChar, schema.TypeVarchar, schema.TypeText, schema.TypeEnum, schema.TypeSet,
		schema.TypeUUID, schema.TypeInet4, schema.TypeInet6:
		if s, ok := v.(string); ok {
			return quoteString(s), nil
		}
	case schema.TypeBinary, schema.TypeVarbinary, schema.TypeBlob:
		if s, ok := v.(string); ok {
			raw, err := base64.StdEncoding.DecodeString(s)
			if err == nil {
				return "X'" + hex.EncodeToString(raw) + "'", nil
			}
		}
	}
	return "", fmt.Errorf("%w: column %s (%s) as %T", ErrKeyType, c.Name, c.TypeName, v)
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// quoteString renders s as a SQL string literal that means s under any
// sql_mode (NO_BACKSLASH_ESCAPES or not): backslashes and quotes doubled
// would differ between modes, so they are written as hex instead.
func quoteString(s string) string {
	if !strings.ContainsAny(s, `'\`) && !strings.ContainsRune(s, 0) {
		return "'" + s + "'"
	}
	return "_utf8mb4 X'" + hex.EncodeToString([]byte(s)) + "'"
}

package snapshot

import (
	"fmt"
	"math"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/rivulet-cdc/rivulet/schema"
)

// minDensity is the least share of the key range's values a table must
// fill for keyRange to split it: a chunk's key range is then at most
// ChunkSize/minDensity keys wide, and holds at most that many rows
// whatever the estimate, since a key has one row.
const minDensity = 0.5

// keyRange splits a table whose chunk key is one integer column by key
// arithmetic: each chunk covers stride key values. The bound query it
// replaces walks ChunkSize rows of the key's index per chunk (LIMIT 1
// OFFSET n), which for InnoDB's clustered primary key costs the server
// about half of reading the chunk itself.
type keyRange struct {
	unsigned bool
	min, max uint64 // two's complement bits when signed
	stride   uint64 // key values per chunk, ≥ 1
}

// splitByRange returns t's keyRange, or nil when bound queries should
// split t: a key of several columns or not an integer, no estimate, a
// table of fewer than two chunks, or keys too sparse (density below
// minDensity by the server's estimate).
func splitByRange(c *client.Conn, t *schema.Table, chunkSize int, estimate int64) (*keyRange, error) {
	if len(t.ChunkKey()) != 1 || estimate < 2*int64(chunkSize) {
		return nil, nil
	}
	k := quote(t.Columns[t.ChunkKey()[0]].Name)
	var r *keyRange
	err := stream(c, "SELECT MIN("+k+"), MAX("+k+") FROM "+from(t), nil, func(fv []mysql.FieldValue) error {
		switch {
		case fv[0].Type == mysql.FieldValueTypeSigned && fv[1].Type == mysql.FieldValueTypeSigned:
			r = &keyRange{min: uint64(fv[0].AsInt64()), max: uint64(fv[1].AsInt64())}
		case fv[0].Type == mysql.FieldValueTypeUnsigned && fv[1].Type == mysql.FieldValueTypeUnsigned:
			r = &keyRange{unsigned: true, min: fv[0].AsUint64(), max: fv[1].AsUint64()}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("key range of %s: %w", t.ID(), err)
	}
	if r == nil {
		return nil, nil
	}
	span := float64(r.max-r.min) + 1 // max ≥ min in both orders
	density := min(float64(estimate)/span, 1)
	if density < minDensity {
		return nil, nil
	}
	r.stride = uint64(math.Ceil(float64(chunkSize) / density))
	return r, nil
}

// next returns the upper key of the chunk after lo (nil: from the
// table's start), or nil when that chunk is the table's last: it then
// reads everything after lo, rows written since MIN/MAX included.
func (r *keyRange) next(lo []any) []any {
	var from uint64 // the chunk's first key value
	switch v := firstKey(lo).(type) {
	case nil:
		from = r.min
	case int64:
		if r.unsigned || v >= int64(r.max) {
			return nil
		}
		from = uint64(v) + 1
	case uint64:
		if !r.unsigned || v >= r.max {
			return nil
		}
		from = v + 1
	default:
		return nil
	}
	// The last chunk: fewer than stride values left up to max. Compared
	// as a distance, which cannot overflow.
	if r.max-from < r.stride {
		return nil
	}
	hi := from + r.stride - 1
	if r.unsigned {
		return []any{hi}
	}
	return []any{int64(hi)}
}

func firstKey(k []any) any {
	if len(k) == 0 {
		return nil
	}
	return k[0]
}

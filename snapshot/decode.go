package snapshot

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/rivulet-cdc/rivulet/event"
	"github.com/rivulet-cdc/rivulet/schema"
)

// Decoding binary-protocol rows straight into event values
//
// go-mysql's ParseBinary turns a row packet into FieldValues (copying every
// string into the FieldValue) that converter.value then turns into event
// values: a third of the read side's CPU. When every result column is of a
// type and kind pair the decoder knows (plan), converter.decode reads the
// packet directly: integers, floats and length-encoded strings (copied once,
// into the chunk's arena) and the raw temporal values of converter.fields.
// The values are those ParseBinary then converter.value give, rule for rule
// (TestDecode_AsParseBinary and FuzzDecode check it); any other result
// (a SELECT override returning another type, a type go-mysql does not know)
// takes that path.

// colOp is how decode reads one result column.
type colOp uint8

const (
	opSlow     colOp = iota // not decoded directly: the result takes ParseBinary
	opNull                  // MYSQL_TYPE_NULL: no bytes, always NULL
	opInt8                  // 1 byte, signed
	opUint8                 // 1 byte, unsigned
	opInt16                 // 2 bytes
	opUint16                //
	opInt32                 // 4 bytes (INT24 too)
	opUint32                //
	opInt64                 // 8 bytes
	opUint64                //
	opFloat32               // 4 bytes IEEE 754
	opFloat64               // 8 bytes
	opString                // length-encoded bytes, copied into the chunk's arena
	opDate                  // length-encoded raw DATE (rawDate, days)
	opDateTime              // length-encoded raw DATETIME or TIMESTAMP (rawDate, microseconds)
	opTime                  // length-encoded raw TIME (rawTime)
)

// plan sets c.ops for the result columns fs (after fields relabelled
// them): c.direct is false unless every column has an op.
func (c *converter) plan(fs []*mysql.Field) {
	c.direct = false
	if len(fs) != len(c.cols) {
		return // row reports the mismatch
	}
	if cap(c.ops) < len(fs) {
		c.ops = make([]colOp, len(fs))
	}
	c.ops = c.ops[:len(fs)]
	for i, f := range fs {
		op := fieldOp(f.Type, f.Flag&mysql.UNSIGNED_FLAG != 0)
		switch k := c.kinds[i]; {
		case op == opSlow || op == opNull:
		case op <= opUint64:
			if k != event.KindInt && k != event.KindUint {
				op = opSlow
			}
		case op <= opFloat64:
			if k != event.KindFloat && k != event.KindDouble {
				op = opSlow
			}
		case c.raw[i]: // a relabelled temporal column (fields)
			switch k {
			case event.KindDate:
				op = opDate
			case event.KindDateTime, event.KindTimestamp:
				op = opDateTime
			case event.KindTime:
				op = opTime
			default:
				op = opSlow
			}
		default: // opString
			switch k {
			case event.KindInt, event.KindUint, event.KindFloat, event.KindDouble,
				event.KindDate, event.KindDateTime, event.KindTimestamp, event.KindTime:
				op = opSlow // converter.value refuses or parses text: its path
			}
		}
		if op == opSlow {
			return
		}
		c.ops[i] = op
	}
	c.direct = true
}

// fieldOp is the op of a result column type as ParseBinary reads it.
func fieldOp(ft byte, unsigned bool) colOp {
	var op colOp
	switch ft {
	case mysql.MYSQL_TYPE_NULL:
		return opNull
	case mysql.MYSQL_TYPE_TINY:
		op = opInt8
	case mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_YEAR:
		op = opInt16
	case mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_LONG:
		op = opInt32
	case mysql.MYSQL_TYPE_LONGLONG:
		op = opInt64
	case mysql.MYSQL_TYPE_FLOAT:
		return opFloat32
	case mysql.MYSQL_TYPE_DOUBLE:
		return opFloat64
	case mysql.MYSQL_TYPE_DECIMAL, mysql.MYSQL_TYPE_NEWDECIMAL, mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_BIT,
		mysql.MYSQL_TYPE_ENUM, mysql.MYSQL_TYPE_SET, mysql.MYSQL_TYPE_TINY_BLOB, mysql.MYSQL_TYPE_MEDIUM_BLOB,
		mysql.MYSQL_TYPE_LONG_BLOB, mysql.MYSQL_TYPE_BLOB, mysql.MYSQL_TYPE_VAR_STRING, mysql.MYSQL_TYPE_STRING,
		mysql.MYSQL_TYPE_VECTOR, mysql.MYSQL_TYPE_GEOMETRY, mysql.MYSQL_TYPE_JSON:
		return opString
	default:
		return opSlow
	}
	if unsigned {
		op++
	}
	return op
}

// decode converts the binary-protocol row packet data of the result whose
// columns are fs into dst (len(dst) == len(cols)): directly when plan
// found an op for every column, else through ParseBinary and row.
func (c *converter) decode(dst []event.Value, data []byte, fs []*mysql.Field) error {
	if !c.direct {
		fv, err := mysql.RowData(data).ParseBinary(fs, c.fv)
		if err != nil {
			return err
		}
		c.fv = fv
		return c.row(dst, fv)
	}
	n := len(c.ops)
	pos := 1 + (n+7+2)>>3
	if len(data) < pos || data[0] != mysql.OK_HEADER {
		return mysql.ErrMalformPacket
	}
	nulls := data[1:pos]
	for i, op := range c.ops {
		if nulls[(i+2)>>3]&(1<<((i+2)&7)) != 0 {
			dst[i] = event.Null
			continue
		}
		k := c.kinds[i]
		var u uint64 // the integer or float bits read, for ops up to opFloat64
		switch op {
		case opNull:
			dst[i] = event.Null
			continue
		case opInt8, opUint8:
			if len(data) < pos+1 {
				return mysql.ErrMalformPacket
			}
			if u = uint64(data[pos]); op == opInt8 {
				u = uint64(int64(int8(data[pos])))
			}
			pos++
		case opInt16, opUint16:
			if len(data) < pos+2 {
				return mysql.ErrMalformPacket
			}
			v := binary.LittleEndian.Uint16(data[pos:])
			if u = uint64(v); op == opInt16 {
				u = uint64(int64(int16(v)))
			}
			pos += 2
		case opInt32, opUint32, opFloat32:
			if len(data) < pos+4 {
				return mysql.ErrMalformPacket
			}
			v := binary.LittleEndian.Uint32(data[pos:])
			switch op {
			case opInt32:
				u = uint64(int64(int32(v)))
			case opUint32:
				u = uint64(v)
			default:
				u = math.Float64bits(float64(math.Float32frombits(v)))
			}
			pos += 4
		case opInt64, opUint64, opFloat64:
			if len(data) < pos+8 {
				return mysql.ErrMalformPacket
			}
			u = binary.LittleEndian.Uint64(data[pos:])
			pos += 8
		default: // length-encoded
			b, null, n, err := lenencBytes(data[pos:])
			if err != nil {
				return err
			}
			pos += n
			if null || c.cols[i].Excluded {
				dst[i] = event.Null // ParseBinary reads 0xFB as NULL
				continue
			}
			if err := c.lenenc(&dst[i], i, op, k, b); err != nil {
				return fmt.Errorf("column %s: %w", c.cols[i].Name, err)
			}
			continue
		}
		col := &c.cols[i]
		switch {
		case col.Excluded:
			dst[i] = event.Null
		case op <= opUint64:
			dst[i] = event.Value{Kind: k, I: int64(u)}
			if col.Type == schema.TypeYear && u == 0 {
				dst[i].I = 1900 // as converter.value
			}
		case k == event.KindFloat:
			dst[i] = event.Value{Kind: k, I: int64(math.Float64bits(float64(float32(math.Float64frombits(u)))))}
		default:
			dst[i] = event.Value{Kind: k, I: int64(u)}
		}
	}
	return nil
}

// lenenc converts the bytes b of a length-encoded column, not NULL.
func (c *converter) lenenc(v *event.Value, i int, op colOp, k event.Kind, b []byte) error {
	switch op {
	case opDate, opDateTime:
		n, ok, err := rawDate(b, op == opDate, &c.day)
		if err != nil {
			return err
		}
		c.temporal(v, &c.cols[i], k, n, ok)
	case opTime:
		us, err := rawTime(b)
		if err != nil {
			return err
		}
		*v = event.Value{Kind: k, I: us}
	default:
		*v = event.Value{Kind: k, B: c.buf.bytes(b)}
	}
	return nil
}

// lenencBytes reads a length-encoded string as go-mysql's
// LengthEncodedString does (0xFB: NULL; 0xFC, 0xFD, 0xFE: a 2, 3 or 8 byte
// length; any other byte, 0xFF included, is the length), returning how
// many bytes it took; a value past the end of b is an error.
func lenencBytes(b []byte) (v []byte, null bool, n int, err error) {
	if len(b) == 0 {
		return nil, false, 0, mysql.ErrMalformPacket
	}
	var l uint64
	switch b[0] {
	case 0xfb:
		return nil, true, 1, nil
	case 0xfc:
		n = 3
	case 0xfd:
		n = 4
	case 0xfe:
		n = 9
	default:
		l, n = uint64(b[0]), 1
	}
	if n > 1 {
		if len(b) < n {
			return nil, false, 0, mysql.ErrMalformPacket
		}
		var le [8]byte
		copy(le[:], b[1:n])
		l = binary.LittleEndian.Uint64(le[:])
	}
	if l > uint64(len(b)-n) {
		return nil, false, 0, mysql.ErrMalformPacket
	}
	end := n + int(l)
	return b[n:end:end], false, end, nil
}

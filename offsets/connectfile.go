package offsets

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
)

// Kafka Connect standalone keeps offsets in offset.storage.file.filename
// with its FileOffsetBackingStore: a java.util.HashMap<byte[], byte[]>
// written with ObjectOutputStream.writeObject (Apache Kafka 4.3
// connect-runtime, FileOffsetBackingStore.save), keys and values being the
// same JSON bytes the distributed worker writes to its offsets topic. A
// FileStore pointed at such a file (a Connect standalone worker's
// properties passed with --worker) reads it and writes it back in the same
// form, so Rivulet takes over from a standalone Debezium in place and the
// worker can take over again.
//
// The stream layout (Java Object Serialization Specification, chapter 6)
// of what that one call writes:
//
//	AC ED 00 05                     magic, version
//	73 72 "java.util.HashMap" suid  TC_OBJECT, TC_CLASSDESC (flags 03: serializable, writeObject)
//	   fields F loadFactor, I threshold; 78 TC_ENDBLOCKDATA; 70 TC_NULL (no superclass)
//	loadFactor, threshold           the fields' values
//	77 08 buckets size              TC_BLOCKDATA of HashMap.writeObject
//	key value ...                   size pairs: 75 TC_ARRAY of "[B" (class
//	                                descriptor, later 71 TC_REFERENCE to it), length, bytes; or 70 TC_NULL
//	78                              TC_ENDBLOCKDATA
var javaMagic = []byte{0xAC, 0xED, 0x00, 0x05}

const (
	tcNull         = 0x70
	tcReference    = 0x71
	tcClassDesc    = 0x72
	tcObject       = 0x73
	tcArray        = 0x75
	tcBlockData    = 0x77
	tcEndBlockData = 0x78

	baseWireHandle = 0x7E0000

	hashMapClass  = "java.util.HashMap"
	hashMapSUID   = 362498820763181265
	byteArray     = "[B"
	byteArraySUID = 0xACF317F8060854E0 // -5984413125824719648L
)

// isConnectFile reports a Java-serialised file (Connect standalone's).
func isConnectFile(data []byte) bool { return bytes.HasPrefix(data, javaMagic) }

// javaReader reads the subset of a Java serialisation stream a
// FileOffsetBackingStore file uses.
type javaReader struct {
	b       []byte
	handles []any // classDesc names (string) and arrays ([]byte), by handle
}

var errJava = errors.New("not a Kafka Connect offsets file")

func (r *javaReader) fail(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errJava, fmt.Sprintf(format, args...))
}

func (r *javaReader) take(n int) ([]byte, error) {
	if n < 0 || len(r.b) < n {
		return nil, r.fail("truncated")
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out, nil
}

func (r *javaReader) byte1() (byte, error) {
	b, err := r.take(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (r *javaReader) u16() (int, error) {
	b, err := r.take(2)
	if err != nil {
		return 0, err
	}
	return int(binary.BigEndian.Uint16(b)), nil
}

func (r *javaReader) i32() (int32, error) {
	b, err := r.take(4)
	if err != nil {
		return 0, err
	}
	return int32(binary.BigEndian.Uint32(b)), nil
}

func (r *javaReader) utf() (string, error) {
	n, err := r.u16()
	if err != nil {
		return "", err
	}
	b, err := r.take(n)
	return string(b), err
}

// classDesc reads a class descriptor (new, a reference, or null) and
// returns its class name and its primitive fields' type codes.
func (r *javaReader) classDesc() (name string, fields []byte, err error) {
	tc, err := r.byte1()
	if err != nil {
		return "", nil, err
	}
	switch tc {
	case tcNull:
		return "", nil, nil
	case tcReference:
		h, err := r.i32()
		if err != nil {
			return "", nil, err
		}
		i := int(h) - baseWireHandle
		if i < 0 || i >= len(r.handles) {
			return "", nil, r.fail("reference to unknown handle %#x", h)
		}
		cd, ok := r.handles[i].(classRef)
		if !ok {
			return "", nil, r.fail("handle %#x is not a class descriptor", h)
		}
		return cd.name, cd.fields, nil
	case tcClassDesc:
	default:
		return "", nil, r.fail("unexpected type code %#x for a class descriptor", tc)
	}
	if name, err = r.utf(); err != nil {
		return "", nil, err
	}
	if _, err := r.take(8 + 1); err != nil { // serialVersionUID, flags
		return "", nil, err
	}
	r.handles = append(r.handles, classRef{name: name})
	self := len(r.handles) - 1
	n, err := r.u16()
	if err != nil {
		return "", nil, err
	}
	for range n {
		typ, err := r.byte1()
		if err != nil {
			return "", nil, err
		}
		if _, err := r.utf(); err != nil {
			return "", nil, err
		}
		switch typ {
		case 'B', 'C', 'D', 'F', 'I', 'J', 'S', 'Z':
			fields = append(fields, typ)
		default:
			return "", nil, r.fail("class %s has an object field", name)
		}
	}
	if end, err := r.byte1(); err != nil || end != tcEndBlockData {
		return "", nil, r.fail("class %s has annotations", name)
	}
	if super, _, err := r.classDesc(); err != nil || super != "" {
		return "", nil, r.fail("class %s has a serialisable superclass", name)
	}
	r.handles[self] = classRef{name: name, fields: fields}
	return name, fields, nil
}

type classRef struct {
	name   string
	fields []byte
}

// bytesObject reads a byte[] (nil for TC_NULL).
func (r *javaReader) bytesObject() ([]byte, error) {
	tc, err := r.byte1()
	if err != nil {
		return nil, err
	}
	switch tc {
	case tcNull:
		return nil, nil
	case tcReference:
		h, err := r.i32()
		if err != nil {
			return nil, err
		}
		i := int(h) - baseWireHandle
		if i < 0 || i >= len(r.handles) {
			return nil, r.fail("reference to unknown handle %#x", h)
		}
		b, ok := r.handles[i].([]byte)
		if !ok {
			return nil, r.fail("handle %#x is not a byte array", h)
		}
		return b, nil
	case tcArray:
	default:
		return nil, r.fail("unexpected type code %#x for a byte array", tc)
	}
	name, _, err := r.classDesc()
	if err != nil {
		return nil, err
	}
	if name != byteArray {
		return nil, r.fail("array of %s, want byte[]", name)
	}
	n, err := r.i32()
	if err != nil {
		return nil, err
	}
	b, err := r.take(int(n))
	if err != nil {
		return nil, err
	}
	b = bytes.Clone(b)
	r.handles = append(r.handles, b)
	return b, nil
}

// decodeConnectFile reads a FileOffsetBackingStore file into its entries
// (key JSON text to value JSON); entries whose value is null (an offset
// Connect reset) are left out.
func decodeConnectFile(data []byte) (map[string]json.RawMessage, error) {
	r := &javaReader{b: data}
	if magic, err := r.take(len(javaMagic)); err != nil || !bytes.Equal(magic, javaMagic) {
		return nil, r.fail("no Java serialisation header")
	}
	if tc, err := r.byte1(); err != nil || tc != tcObject {
		return nil, r.fail("no object")
	}
	name, fields, err := r.classDesc()
	if err != nil {
		return nil, err
	}
	if name != hashMapClass {
		return nil, r.fail("holds a %s, want a %s", name, hashMapClass)
	}
	r.handles = append(r.handles, nil) // the map object itself
	for _, f := range fields {
		size := map[byte]int{'B': 1, 'Z': 1, 'C': 2, 'S': 2, 'F': 4, 'I': 4, 'D': 8, 'J': 8}[f]
		if _, err := r.take(size); err != nil {
			return nil, err
		}
	}
	if tc, err := r.byte1(); err != nil || tc != tcBlockData {
		return nil, r.fail("no map header")
	}
	if n, err := r.byte1(); err != nil || n != 8 {
		return nil, r.fail("map header of %d bytes", n)
	}
	if _, err := r.i32(); err != nil { // buckets
		return nil, err
	}
	size, err := r.i32()
	if err != nil {
		return nil, err
	}
	if size < 0 {
		return nil, r.fail("%d entries", size)
	}
	entries := make(map[string]json.RawMessage, min(int(size), 1024))
	for range size {
		k, err := r.bytesObject()
		if err != nil {
			return nil, err
		}
		v, err := r.bytesObject()
		if err != nil {
			return nil, err
		}
		if k == nil || v == nil {
			continue
		}
		if !json.Valid(v) {
			return nil, r.fail("the value of %s is not JSON", clip(k))
		}
		entries[string(k)] = json.RawMessage(v)
	}
	if tc, err := r.byte1(); err != nil || tc != tcEndBlockData {
		return nil, r.fail("no end of the map")
	}
	if len(r.b) != 0 {
		return nil, r.fail("%d bytes after the map", len(r.b))
	}
	return entries, nil
}

// encodeConnectFile writes entries as FileOffsetBackingStore.save does:
// what Connect standalone reads back with its SafeObjectInputStream.
func encodeConnectFile(entries map[string]json.RawMessage) []byte {
	keys := make([]string, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// HashMap's table as new HashMap<>() grows it: 16 buckets, doubled
	// whenever the size passes 3/4 of them; threshold 0 while empty.
	buckets, threshold := int32(16), int32(0)
	for len(keys) > int(buckets)*3/4 {
		buckets *= 2
	}
	if len(keys) > 0 {
		threshold = buckets * 3 / 4
	}
	b := bytes.Clone(javaMagic)
	b = append(b, tcObject, tcClassDesc)
	b = appendUTF(b, hashMapClass)
	b = binary.BigEndian.AppendUint64(b, uint64(hashMapSUID))
	b = append(b, 0x03, 0x00, 0x02) // SC_WRITE_METHOD|SC_SERIALIZABLE, 2 fields
	b = append(b, 'F')
	b = appendUTF(b, "loadFactor")
	b = append(b, 'I')
	b = appendUTF(b, "threshold")
	b = append(b, tcEndBlockData, tcNull)
	b = binary.BigEndian.AppendUint32(b, math.Float32bits(0.75))
	b = binary.BigEndian.AppendUint32(b, uint32(threshold))
	b = append(b, tcBlockData, 8)
	b = binary.BigEndian.AppendUint32(b, uint32(buckets))
	b = binary.BigEndian.AppendUint32(b, uint32(len(keys)))
	// Handles: 0 the HashMap class, 1 the map, 2 the byte[] class.
	first := true
	appendArray := func(b, v []byte) []byte {
		b = append(b, tcArray)
		if first {
			b = append(b, tcClassDesc)
			b = appendUTF(b, byteArray)
			b = binary.BigEndian.AppendUint64(b, byteArraySUID)
			b = append(b, 0x02, 0x00, 0x00, tcEndBlockData, tcNull) // SC_SERIALIZABLE, no fields
			first = false
		} else {
			b = append(b, tcReference)
			b = binary.BigEndian.AppendUint32(b, baseWireHandle+2)
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
		return append(b, v...)
	}
	for _, k := range keys {
		b = appendArray(b, []byte(k))
		var v bytes.Buffer
		if err := json.Compact(&v, entries[k]); err != nil {
			v.Reset()
			v.Write(entries[k])
		}
		b = appendArray(b, v.Bytes())
	}
	return append(b, tcEndBlockData)
}

// appendUTF appends a Java modified-UTF-8 string of ASCII text (class and
// field names).
func appendUTF(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

package verify

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// valueHash identifies an after-image: two 64-bit hashes with independent
// seeds (a collision needs both to collide).
type valueHash [16]byte

// hasher holds the seeds of one verify run (maphash is stable within a
// process, which is all the partition files need).
type hasher struct{ a, b, part maphash.Seed }

func newHasher() hasher {
	return hasher{a: maphash.MakeSeed(), b: maphash.MakeSeed(), part: maphash.MakeSeed()}
}

func (h *hasher) value(after []byte) valueHash {
	var out valueHash
	binary.LittleEndian.PutUint64(out[:8], maphash.Bytes(h.a, after))
	binary.LittleEndian.PutUint64(out[8:], maphash.Bytes(h.b, after))
	return out
}

// entry is what one live key adds to its partition's checksum.
func (h *hasher) entry(key []byte, v valueHash) uint64 {
	var m maphash.Hash
	m.SetSeed(h.a)
	_, _ = m.Write(key)
	_, _ = m.Write(v[:])
	return m.Sum64()
}

func (h *hasher) partition(key []byte, n int) int {
	return int(maphash.Bytes(h.part, key) % uint64(n))
}

// sum is an order-independent checksum of a set of (key, value) entries:
// their count and the wrapping sum of their entry hashes.
type sum struct {
	n int64
	s uint64
}

func (s *sum) add(e uint64) { s.n++; s.s += e }

// spill is one partition file, written sequentially, read back whole.
type spill struct {
	name string
	f    *os.File
	w    *bufio.Writer
	off  int64 // bytes written
	tmp  [binary.MaxVarintLen64]byte
}

func newSpills(dir, prefix string, n int) ([]*spill, error) {
	out := make([]*spill, n)
	for i := range out {
		name := filepath.Join(dir, prefix+"-"+strconv.Itoa(i))
		f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o600)
		if err != nil {
			closeSpills(out)
			return nil, fmt.Errorf("create a verify work file in %s: %w (set --work-dir to a writable directory with room for the topic)", dir, err)
		}
		out[i] = &spill{name: name, f: f, w: bufio.NewWriterSize(f, 16<<10)}
	}
	return out, nil
}

func closeSpills(ss []*spill) {
	for _, s := range ss {
		if s != nil {
			_ = s.f.Close()
			_ = os.Remove(s.name)
		}
	}
}

func (s *spill) bytes(b []byte) {
	n := binary.PutUvarint(s.tmp[:], uint64(len(b)))
	_, _ = s.w.Write(s.tmp[:n])
	_, _ = s.w.Write(b)
	s.off += int64(n + len(b))
}

func (s *spill) byte(b byte) {
	_ = s.w.WriteByte(b)
	s.off++
}

func (s *spill) raw(b []byte) {
	_, _ = s.w.Write(b)
	s.off += int64(len(b))
}

// reader flushes what was written and returns a reader from the start.
func (s *spill) reader() (*bufio.Reader, error) {
	if err := s.w.Flush(); err != nil {
		return nil, fmt.Errorf("write %s: %w", s.name, err)
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return bufio.NewReaderSize(s.f, 64<<10), nil
}

// readAt reads n bytes at off (after a flush).
func (s *spill) readAt(off int64, n int) ([]byte, error) {
	if err := s.w.Flush(); err != nil {
		return nil, err
	}
	b := make([]byte, n)
	_, err := s.f.ReadAt(b, off)
	return b, err
}

// continueWriting positions the file for appending after a read.
func (s *spill) continueWriting() error {
	_, err := s.f.Seek(s.off, io.SeekStart)
	return err
}

// byteReader reads the length-prefixed fields written by spill.bytes.
type byteReader struct {
	r   *bufio.Reader
	off int64
	buf []byte
}

func (br *byteReader) uvarint() (uint64, error) {
	v, err := binary.ReadUvarint(br)
	return v, err
}

func (br *byteReader) ReadByte() (byte, error) {
	b, err := br.r.ReadByte()
	if err == nil {
		br.off++
	}
	return b, err
}

// next reads one length-prefixed field into a reused buffer; the result is
// valid until the next call. at is the offset of its first byte.
func (br *byteReader) next() (b []byte, at int64, err error) {
	n, err := br.uvarint()
	if err != nil {
		return nil, 0, err
	}
	if cap(br.buf) < int(n) {
		br.buf = make([]byte, n)
	}
	b = br.buf[:n]
	at = br.off
	if _, err := io.ReadFull(br.r, b); err != nil {
		return nil, 0, io.ErrUnexpectedEOF
	}
	br.off += int64(n)
	return b, at, nil
}

func (br *byteReader) fixed(dst []byte) error {
	if _, err := io.ReadFull(br.r, dst); err != nil {
		return io.ErrUnexpectedEOF
	}
	br.off += int64(len(dst))
	return nil
}

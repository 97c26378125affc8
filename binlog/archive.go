package binlog

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/rivulet-cdc/rivulet/offsets"
)

// binlogMagic starts every binlog file.
var binlogMagic = []byte{0xfe, 'b', 'i', 'n'}

// ArchiveFile is one binlog file of an archive directory, with what its
// header says.
type ArchiveFile struct {
	Name string // the server's name of the file ("mysql-bin.000042")
	Path string
	Size int64
	// Server is the version the FORMAT_DESCRIPTION event names ("8.0.32",
	// "11.4.2-MariaDB"); Flavor is FlavorMariaDB when it says MariaDB.
	Server string
	Flavor string
	// PrevGTIDs is the GTID set logged before the file (MySQL
	// PREVIOUS_GTIDS, MariaDB GTID_LIST), "" when the file logs none.
	PrevGTIDs string
}

// Archive is a directory of binlog files copied from a server (mysqlbinlog
// --read-from-remote-server --raw, a binlog server, a backup), in the
// order the server wrote them. Files are recognised by the binlog magic;
// anything else in the directory is ignored.
type Archive struct {
	Dir   string
	Files []ArchiveFile
}

// OpenArchive lists the binlog files of dir. They are ordered as the server
// numbered them: by base name, then by the number after the last dot
// (mysql-bin.000009 before mysql-bin.000010).
func OpenArchive(dir string) (*Archive, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, &Error{Kind: ErrConfig, Msg: "read the binlog archive directory " + dir, Err: err,
			Hint: "point rivulet.binlog.archive.dir at a readable directory of binlog files (mysqlbinlog --read-from-remote-server --raw output)"}
	}
	a := &Archive{Dir: dir}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		f, ok, err := readArchiveHeader(p)
		if err != nil {
			return nil, err
		}
		if ok {
			a.Files = append(a.Files, f)
		}
	}
	sort.Slice(a.Files, func(i, j int) bool { return fileBefore(a.Files[i].Name, a.Files[j].Name) })
	return a, nil
}

// fileBefore orders binlog file names: base name, then numeric extension.
func fileBefore(a, b string) bool {
	ab, an, aok := splitBinlogName(a)
	bb, bn, bok := splitBinlogName(b)
	if !aok || !bok {
		return a < b
	}
	if ab != bb {
		return ab < bb
	}
	if an != bn {
		return an < bn
	}
	return a < b
}

// readArchiveHeader reads the magic, the FORMAT_DESCRIPTION event and the
// PREVIOUS_GTIDS / GTID_LIST event of a file. ok is false for a file
// without the binlog magic.
func readArchiveHeader(path string) (ArchiveFile, bool, error) {
	f := ArchiveFile{Name: filepath.Base(path), Path: path}
	fh, err := os.Open(path)
	if err != nil {
		return f, false, &Error{Kind: ErrConfig, Msg: "open archived binlog " + path, Err: err}
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return f, false, &Error{Kind: ErrConfig, Msg: "stat archived binlog " + path, Err: err}
	}
	f.Size = st.Size()
	magic := make([]byte, 4)
	if _, err := io.ReadFull(fh, magic); err != nil || !bytes.Equal(magic, binlogMagic) {
		return f, false, nil
	}
	er := newEventReader(bufio.NewReader(fh), path, 4)
	p := replication.NewBinlogParser()
	p.SetVerifyChecksum(false)
	for i := 0; i < 3; i++ {
		raw, _, err := er.next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return f, false, err
		}
		ev, err := er.parse(p, raw)
		if err != nil {
			return f, false, err
		}
		switch e := ev.Event.(type) {
		case *replication.FormatDescriptionEvent:
			f.Server = strings.TrimRight(string(e.ServerVersion), "\x00")
			f.Flavor = FlavorMySQL
			if strings.Contains(strings.ToLower(f.Server), "mariadb") {
				f.Flavor = FlavorMariaDB
			}
		case *replication.PreviousGTIDsEvent:
			f.PrevGTIDs = e.GTIDSets
			return f, true, nil
		case *replication.MariadbGTIDListEvent:
			var parts []string
			for _, g := range e.GTIDs {
				parts = append(parts, fmt.Sprintf("%d-%d-%d", g.DomainID, g.ServerID, g.SequenceNumber))
			}
			f.PrevGTIDs = strings.Join(parts, ",")
			return f, true, nil
		}
	}
	if f.Server == "" {
		return f, false, corrupt("%s starts with the binlog magic but has no FORMAT_DESCRIPTION event", path)
	}
	return f, true, nil
}

// eventReader cuts a binlog file into raw events and checks their CRC32.
type eventReader struct {
	r     *bufio.Reader
	path  string
	off   uint64 // file offset of the next event
	crc   bool   // the FORMAT_DESCRIPTION event announced CRC32 checksums
	hdr   [replication.EventHeaderSize]byte
	fdeOK bool
}

func newEventReader(r *bufio.Reader, path string, off uint64) *eventReader {
	return &eventReader{r: r, path: path, off: off}
}

// fde records the checksum algorithm of the file.
func (er *eventReader) fde(e *replication.FormatDescriptionEvent) {
	er.crc = e.ChecksumAlgorithm == replication.BINLOG_CHECKSUM_ALG_CRC32
	er.fdeOK = true
}

// parse checks and parses one raw event. A FORMAT_DESCRIPTION event is
// parsed first: it says whether the file has checksums.
func (er *eventReader) parse(p *replication.BinlogParser, raw []byte) (*replication.BinlogEvent, error) {
	start := er.off - uint64(len(raw))
	fdeEv := replication.EventType(raw[4]) == replication.FORMAT_DESCRIPTION_EVENT
	if !fdeEv {
		if err := er.verify(raw); err != nil {
			return nil, err
		}
	}
	ev, err := p.Parse(raw)
	if err != nil {
		return nil, corrupt("%s at %d: %v", er.path, start, err)
	}
	if fde, ok := ev.Event.(*replication.FormatDescriptionEvent); ok {
		er.fde(fde)
		if err := er.verify(raw); err != nil {
			return nil, err
		}
	}
	return ev, nil
}

// errPartialEvent: the file ends inside an event (a file still being
// written when it was copied).
var errPartialEvent = errors.New("file ends inside an event")

// next returns the next raw event and its start offset; io.EOF at a clean
// end of file, errPartialEvent when the file ends inside one.
func (er *eventReader) next() ([]byte, uint64, error) {
	n, err := io.ReadFull(er.r, er.hdr[:])
	if err == io.EOF {
		return nil, er.off, io.EOF
	}
	if err != nil {
		if n > 0 {
			return nil, er.off, errPartialEvent
		}
		return nil, er.off, fmt.Errorf("read %s at %d: %w", er.path, er.off, err)
	}
	size := binary.LittleEndian.Uint32(er.hdr[9:13])
	if size < replication.EventHeaderSize || size > 1<<30 {
		return nil, er.off, corrupt("%s at %d: event size %d", er.path, er.off, size)
	}
	raw := make([]byte, size)
	copy(raw, er.hdr[:])
	if _, err := io.ReadFull(er.r, raw[replication.EventHeaderSize:]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, er.off, errPartialEvent
		}
		return nil, er.off, fmt.Errorf("read %s at %d: %w", er.path, er.off, err)
	}
	start := er.off
	er.off += uint64(size)
	return raw, start, nil
}

// verify checks the CRC32 of raw when the file has checksums. A
// FORMAT_DESCRIPTION event is checked with LOG_EVENT_BINLOG_IN_USE_F clear:
// the server sets that flag in the file while it is open and clears it on
// close without recomputing the checksum, so a file copied while open
// carries the flag and the checksum of the event without it.
func (er *eventReader) verify(raw []byte) error {
	typ := replication.EventType(raw[4])
	if !er.crc || len(raw) < replication.EventHeaderSize+4 {
		return nil
	}
	body := raw[:len(raw)-4]
	want := binary.LittleEndian.Uint32(raw[len(raw)-4:])
	got := crc32.ChecksumIEEE(body)
	if got != want && typ == replication.FORMAT_DESCRIPTION_EVENT && raw[17]&0x01 != 0 {
		c := bytes.Clone(body)
		c[17] &^= 0x01 // LOG_EVENT_BINLOG_IN_USE_F (flags are bytes 17-18)
		got = crc32.ChecksumIEEE(c)
	}
	if got != want {
		return corrupt("%s at %d: %s event fails its CRC32 checksum (the file is damaged)", er.path, er.off-uint64(len(raw)), typ)
	}
	return nil
}

// ArchiveGapError says the archive does not hold the binlog a position
// needs: the files start after it, or a file in between is missing.
type ArchiveGapError struct {
	Pos     string // the position asked for
	Missing string // what is missing, in words
}

func (e *ArchiveGapError) Error() string {
	return fmt.Sprintf("the binlog archive does not cover %s: %s", e.Pos, e.Missing)
}

// Unwrap makes the gap an ErrPositionNotFound.
func (e *ArchiveGapError) Unwrap() error { return ErrPositionNotFound }

// Locate returns the index of the file a stream from pos starts in, or
// len(a.Files) when pos is after every archived file (the server must serve
// it). A position before the first file, or in a file missing between two
// archived ones, is an *ArchiveGapError.
func (a *Archive) Locate(pos offsets.Position) (int, error) {
	if len(a.Files) == 0 {
		return 0, nil
	}
	if pos.File == "" {
		return 0, nil
	}
	for i, f := range a.Files {
		if f.Name == pos.File {
			if int64(pos.Pos) > f.Size {
				return 0, &ArchiveGapError{Pos: posString(pos), Missing: fmt.Sprintf("%s holds %d bytes only (an incomplete copy?)", f.Name, f.Size)}
			}
			return i, nil
		}
	}
	first, last := a.Files[0].Name, a.Files[len(a.Files)-1].Name
	if fileBefore(pos.File, first) {
		return 0, &ArchiveGapError{Pos: posString(pos), Missing: fmt.Sprintf("the archive starts with %s, later than %s", first, pos.File)}
	}
	if fileBefore(last, pos.File) {
		return len(a.Files), nil
	}
	return 0, &ArchiveGapError{Pos: posString(pos), Missing: fmt.Sprintf("%s is missing between %s and %s", pos.File, first, last)}
}

// checkContiguous reports a file missing from the numbered sequence.
func (a *Archive) checkContiguous(from int) error {
	for i := from + 1; i < len(a.Files); i++ {
		pb, pn, pok := splitBinlogName(a.Files[i-1].Name)
		b, n, ok := splitBinlogName(a.Files[i].Name)
		if pok && ok && pb == b && n != pn+1 {
			return &ArchiveGapError{Pos: a.Files[i-1].Name + " → " + a.Files[i].Name,
				Missing: fmt.Sprintf("%d file(s) between %s and %s are not in %s", n-pn-1, a.Files[i-1].Name, a.Files[i].Name, a.Dir)}
		}
	}
	return nil
}

// ReadArchive streams the archived binlog files from start to their end
// through the same decoding as Run (schema changes, filters, batches,
// positions in the same format) and returns the position where the files
// end: the end of the last complete transaction, which Run passes to the
// server to continue. Batches go to out as in Run.
//
// start must name a file (the File of a stored position); a zero start reads
// the archive from its first file. A start after the last archived file
// returns start unchanged; one the archive cannot serve is an
// *ArchiveGapError. The last file may end inside an event or a transaction
// (copied while the server wrote it): reading stops after its last complete
// transaction.
func (r *Reader) ReadArchive(ctx context.Context, a *Archive, start offsets.Position, out chan<- Batch) (offsets.Position, error) {
	if start.File == "" && start.GTIDSet != "" {
		return start, &Error{Kind: ErrUnsupported, Msg: "position " + posString(start) + " names no binlog file",
			Hint: "reading an archive needs the binlog file and position of the stored offset (file/pos); a GTID-only position is served by the server"}
	}
	idx, err := a.Locate(start)
	if err != nil || idx == len(a.Files) {
		return start, err
	}
	if err := a.checkContiguous(idx); err != nil {
		return start, err
	}
	flavor := a.Files[idx].Flavor
	if r.cfg.Flavor != "" && r.cfg.Flavor != flavor {
		return start, &Error{Kind: ErrConfig, Msg: fmt.Sprintf("the archived binlog %s was written by %s, not a %s server", a.Files[idx].Name, a.Files[idx].Server, r.cfg.Flavor),
			Hint: "archive the binlogs of the server Rivulet captures"}
	}
	if start.File == "" {
		start = offsets.Position{File: a.Files[idx].Name, Pos: 4, GTIDSet: a.Files[idx].PrevGTIDs}
	}
	if start.Pos < 4 {
		start.Pos = 4
	}
	gtids, err := hasGTIDs(a.Files[idx])
	if err != nil {
		return start, err
	}
	s := r.newStream(start, serverInfo{flavor: flavor, gtidMode: gtids})
	// A file that logs GTIDs gives every position a GTID set, also when the
	// set before it was empty (the server's first file).
	s.track = gtids
	if err := s.reset(); err != nil {
		return start, err
	}
	s.stash = newRowsStash()
	r.log.Info("reading archived binlogs", slog.String("dir", a.Dir), slog.String(keyBinlogFile, start.File),
		slog.Uint64(keyBinlogPos, start.Pos), slog.Int("files", len(a.Files)-idx))
	p := replication.NewBinlogParser()
	p.SetFlavor(flavor)
	p.SetVerifyChecksum(false) // eventReader checks (see verify for why)
	p.SetRowsEventDecodeFunc(s.stash.decode)
	for i := idx; i < len(a.Files); i++ {
		from := uint64(4)
		if i == idx {
			from = start.Pos
		}
		last := i == len(a.Files)-1
		if err := r.readArchiveFile(ctx, s, p, a.Files[i], from, last, out); err != nil {
			if ctx.Err() != nil {
				return s.resumePosition(), ctx.Err()
			}
			return s.resumePosition(), err
		}
	}
	if err := s.flushPending(ctx, out); err != nil {
		return s.resumePosition(), err
	}
	end := s.resumePosition()
	r.log.Info("archived binlogs read", slog.String(keyBinlogFile, end.File), slog.Uint64(keyBinlogPos, end.Pos),
		slog.String("gtids", end.GTIDSet))
	return end, nil
}

// readArchiveFile streams one file from offset from.
func (r *Reader) readArchiveFile(ctx context.Context, s *stream, p *replication.BinlogParser, f ArchiveFile, from uint64, last bool, out chan<- Batch) error {
	fh, err := os.Open(f.Path)
	if err != nil {
		return &Error{Kind: ErrConfig, Msg: "open archived binlog " + f.Path, Err: err}
	}
	defer fh.Close()
	br := bufio.NewReaderSize(fh, 1<<16)
	if _, err := br.Discard(4); err != nil {
		return corrupt("%s: %v", f.Path, err)
	}
	er := newEventReader(br, f.Path, 4)
	// The server starts a dump with an artificial ROTATE naming the file.
	rot := &replication.BinlogEvent{
		Header: &replication.EventHeader{EventType: replication.ROTATE_EVENT, Flags: replication.LOG_EVENT_ARTIFICIAL_F},
		Event:  &replication.RotateEvent{Position: from, NextLogName: []byte(f.Name)},
	}
	if err := s.handle(ctx, rot, 0, 0, out); err != nil {
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		raw, start, err := er.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if errors.Is(err, errPartialEvent) {
			if last {
				r.log.Warn("the last archived binlog ends inside an event; reading stops before it",
					slog.String(keyBinlogFile, f.Name), slog.Uint64(keyBinlogPos, start))
				return nil
			}
			return corrupt("%s ends inside the event at %d, and later files follow (a damaged copy)", f.Path, start)
		}
		if err != nil {
			return err
		}
		ev, err := er.parse(p, raw)
		if err != nil {
			return err
		}
		if start < from {
			// Before the start position: only the FORMAT_DESCRIPTION event
			// (which the parser needs) is read, as the server sends it.
			if start >= 4 && ev.Header.EventType != replication.FORMAT_DESCRIPTION_EVENT {
				if err := seekEvents(er, from); err != nil {
					return err
				}
			}
			continue
		}
		if err := s.handle(ctx, ev, start, start+uint64(len(raw)), out); err != nil {
			return err
		}
	}
}

// seekEvents skips events up to offset to (which must be an event start).
func seekEvents(er *eventReader, to uint64) error {
	for er.off < to {
		_, _, err := er.next()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, errPartialEvent) {
				return &ArchiveGapError{Pos: fmt.Sprintf("%s:%d", er.path, to), Missing: "the file ends before that position"}
			}
			return err
		}
	}
	if er.off != to {
		return corrupt("%s: position %d is not the start of an event", er.path, to)
	}
	return nil
}

// hasGTIDs reports whether a MySQL file logs GTIDs: PREVIOUS_GTIDS names
// some, or a GTID (not anonymous) event is in it.
func hasGTIDs(f ArchiveFile) (bool, error) {
	if f.PrevGTIDs != "" || f.Flavor == FlavorMariaDB {
		return true, nil
	}
	fh, err := os.Open(f.Path)
	if err != nil {
		return false, &Error{Kind: ErrConfig, Msg: "open archived binlog " + f.Path, Err: err}
	}
	defer fh.Close()
	br := bufio.NewReader(fh)
	if _, err := br.Discard(4); err != nil {
		return false, nil
	}
	er := newEventReader(br, f.Path, 4)
	for {
		raw, _, err := er.next()
		if err != nil {
			return false, nil // end of file, or a partial event: no GTID seen
		}
		switch replication.EventType(raw[4]) {
		case replication.GTID_EVENT, replication.GTID_TAGGED_LOG_EVENT:
			return true, nil
		case replication.ANONYMOUS_GTID_EVENT:
			return false, nil
		}
	}
}

package binlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/rivulet-cdc/rivulet/offsets"
	"github.com/rivulet-cdc/rivulet/schema"
)

// End returns the position where the archive's files end, as ReadArchive
// would return it after reading them: the end of the last complete
// transaction of the last file (or the start of the file a real ROTATE
// names), with the GTID set logged before that file plus the GTIDs in it.
// Only the last file is read, and its rows are not decoded.
func (a *Archive) End(ctx context.Context) (offsets.Position, error) {
	if len(a.Files) == 0 {
		return offsets.Position{}, &Error{Kind: ErrConfig, Msg: "the binlog archive " + a.Dir + " holds no binlog file",
			Hint: "copy the binlog files there (mysqlbinlog --read-from-remote-server --raw), or unset rivulet.binlog.archive.dir"}
	}
	last := &Archive{Dir: a.Dir, Files: a.Files[len(a.Files)-1:]}
	r, err := NewReader(Config{Tables: noTables{}, Include: func(string, string) bool { return false }})
	if err != nil {
		return offsets.Position{}, err
	}
	out := make(chan Batch)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range out {
		}
	}()
	end, err := r.ReadArchive(ctx, last, offsets.Position{}, out)
	close(out)
	<-done
	return end, err
}

// noTables is the Tables of a reader that decodes no rows.
type noTables struct{}

func (noTables) Table(_ context.Context, db, name string) (*schema.Table, error) {
	return nil, fmt.Errorf("%s.%s: %w", db, name, schema.ErrTableNotFound)
}

// ArchiveSource streams from archived binlog files, then from the server
// where they end (rivulet.binlog.archive.dir): the outage a purged binlog
// leaves is filled from the files, with the same decoding, batches and
// positions as the server stream.
//
// Run decides from the start position:
//   - in the archive: the files are read from it to their end (ReadArchive),
//     the server is checked to continue exactly there (Check), then
//     streamed from there; a server that cannot is an error naming the
//     archive's end and the server's earliest position, after the files'
//     changes were handed out (their positions are committed as usual);
//   - after the archive's last file: the server alone;
//   - before the archive or in a file missing from it: the server alone
//     when it still has the position, else an error naming both gaps.
//
// Start (no stored position) is the Reader's: a fresh start begins at the
// server's current end, after any archived file.
type ArchiveSource struct {
	Reader  *Reader
	Archive *Archive
	// Check verifies that the server can continue from a position
	// (CheckStart with the connection settings). Required.
	Check func(ctx context.Context, pos offsets.Position) error
	// Logger receives the decisions. Default: discard.
	Logger *slog.Logger
}

// Start resolves a fresh start on the server (Reader.Start).
func (s *ArchiveSource) Start(ctx context.Context, pos offsets.Position) (offsets.Position, error) {
	return s.Reader.Start(ctx, pos)
}

// Run streams from start as the type's comment says.
func (s *ArchiveSource) Run(ctx context.Context, start offsets.Position, out chan<- Batch) error {
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	from, err := s.Resume(ctx, start, out)
	if err != nil {
		return err
	}
	if from != start {
		log.Info("archived binlogs read; continuing from the server where they end", slog.String("position", from.String()))
	}
	return s.Reader.Run(ctx, from, out)
}

// Resume reads what the archive holds from start (nothing when start is
// not in it) and returns the position the server continues from, checked
// with Check.
func (s *ArchiveSource) Resume(ctx context.Context, start offsets.Position, out chan<- Batch) (offsets.Position, error) {
	cover, err := archiveCovers(ctx, s.Archive, start, s.Check)
	if err != nil {
		return start, err
	}
	if !cover {
		return start, nil
	}
	end, err := s.Reader.ReadArchive(ctx, s.Archive, start, out)
	if err != nil {
		return end, err
	}
	if err := s.Check(ctx, end); err != nil {
		return end, archiveEndError(s.Archive, end, err)
	}
	return end, nil
}

// archiveCovers reports whether the archive holds start (ReadArchive reads
// from it). A start before the archive or in a file missing from it is not
// covered: fine when check says the server still has it, else an error
// naming both gaps.
func archiveCovers(ctx context.Context, a *Archive, start offsets.Position, check func(context.Context, offsets.Position) error) (bool, error) {
	if start.File == "" {
		return false, nil // a GTID-only position: the server's
	}
	idx, err := a.Locate(start)
	if err == nil {
		if idx == len(a.Files) {
			return false, nil
		}
		if err := a.checkContiguous(idx); err != nil {
			return true, &Error{Kind: ErrPositionNotFound, Msg: "the binlog archive cannot be read through from " + posString(start), Err: err,
				Hint: "add the missing binlog files to " + a.Dir + " (mysqlbinlog --read-from-remote-server --raw from a server or backup that still has them), or take a new snapshot (`rivulet offsets reset --config ...`)"}
		}
		return true, nil
	}
	var gap *ArchiveGapError
	if !errors.As(err, &gap) || check == nil {
		return false, err
	}
	if serr := check(ctx, start); serr != nil {
		return false, &Error{Kind: ErrPositionNotFound,
			Msg:  fmt.Sprintf("neither the binlog archive nor the server holds %s: %s; and %s", posString(start), gap.Error(), msgOf(serr)),
			Hint: "add the missing binlog files to " + a.Dir + " (mysqlbinlog --read-from-remote-server --raw from a server or backup that still has them), or take a new snapshot (`rivulet offsets reset --config ...`)"}
	}
	return false, nil
}

// archiveEndError says the server cannot continue where the archive ends.
func archiveEndError(a *Archive, end offsets.Position, serr error) error {
	kind := ErrPositionNotFound
	if errors.Is(serr, ErrServerChanged) {
		kind = ErrServerChanged
	}
	return &Error{Kind: kind,
		Msg: fmt.Sprintf("the binlog archive %s ends at %s, where the server cannot continue: %s", a.Dir, posString(end), msgOf(serr)),
		Hint: "add the binlog files that follow " + a.Files[len(a.Files)-1].Name + " to " + a.Dir +
			" (from a server or backup that still has them), or take a new snapshot (`rivulet offsets reset --config ...`)"}
}

// CheckArchiveStart is what `rivulet run` checks before streaming with an
// archive, and `check` and `offsets show` explain: when the archive holds
// pos, whether the server can continue where the files end (check is
// CheckStart); otherwise whether the server holds pos. covered says which.
func CheckArchiveStart(ctx context.Context, a *Archive, pos offsets.Position, check func(context.Context, offsets.Position) error) (covered bool, end offsets.Position, err error) {
	covered, err = archiveCovers(ctx, a, pos, check)
	if err != nil || !covered {
		if err == nil {
			err = check(ctx, pos)
		}
		return covered, end, err
	}
	if end, err = a.End(ctx); err != nil {
		return covered, end, err
	}
	if err := check(ctx, end); err != nil {
		return covered, end, archiveEndError(a, end, err)
	}
	return covered, end, nil
}

// msgOf is an error's message without its hint (the caller gives its own).
func msgOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Err == nil {
		return e.Msg
	}
	return err.Error()
}

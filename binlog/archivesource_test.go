package binlog

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rivulet-cdc/rivulet/offsets"
)

// archiveOf copies testdata/mysql8 files into a directory under new names
// and opens it.
func archiveOf(t *testing.T, files map[string]string) *Archive {
	t.Helper()
	dir := t.TempDir()
	for src, name := range files {
		b, err := os.ReadFile(filepath.Join("testdata/mysql8", src))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	a, err := OpenArchive(dir)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestArchive_End: where the files end, read from the bytes by hand
// (event headers and sizes; GTIDs from PREVIOUS_GTIDS and the GTID events):
// apecloud-mysql-bin.000057 (1283 bytes) ends with GTID 13's
// TRANSACTION_PAYLOAD at 730-1283 and no ROTATE; the 9.6.0 tagged file ends
// with a real ROTATE to binlog.000005 after mytag:3.
func TestArchive_End(t *testing.T) {
	for _, tt := range []struct {
		file string
		want offsets.Position
	}{
		{"apecloud-mysql-bin.000057", offsets.Position{File: "apecloud-mysql-bin.000057", Pos: 1283, GTIDSet: "76f3e7be-6720-11ed-9cad-0242ac110002:1-13"}},
		{"binlog_transaction_with_GTID_TAG.000001", offsets.Position{File: "binlog.000005", Pos: 4, GTIDSet: "55778904-0299-11f1-b1b8-4ef0c4956feb:1-13:mytag:1-3"}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			a := archiveOf(t, map[string]string{tt.file: tt.file})
			got, err := a.End(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got.File != tt.want.File || got.Pos != tt.want.Pos || got.GTIDSet != tt.want.GTIDSet {
				t.Errorf("End = %s, want %s", got, tt.want)
			}
		})
	}
	if _, err := (&Archive{Dir: "empty"}).End(context.Background()); !errors.Is(err, ErrConfig) {
		t.Errorf("End of an empty archive: %v, want ErrConfig", err)
	}
}

// TestCheckArchiveStart decides, for a stored position, between the
// archive and the server (check stands for CheckStart).
func TestCheckArchiveStart(t *testing.T) {
	a := archiveOf(t, map[string]string{"apecloud-mysql-bin.000057": "apecloud-mysql-bin.000057"})
	end := "apecloud-mysql-bin.000057:1283"
	serverHas := func(ok ...string) func(context.Context, offsets.Position) error {
		return func(_ context.Context, p offsets.Position) error {
			for _, o := range ok {
				if o == p.File+":"+strconv.FormatUint(p.Pos, 10) {
					return nil
				}
			}
			return &Error{Kind: ErrPositionNotFound, Msg: "purged " + p.File}
		}
	}
	for _, tt := range []struct {
		name    string
		pos     offsets.Position
		server  func(context.Context, offsets.Position) error
		covered bool
		err     error
	}{
		{"in the archive, server continues", offsets.Position{File: "apecloud-mysql-bin.000057", Pos: 4}, serverHas(end), true, nil},
		{"in the archive, server cannot continue", offsets.Position{File: "apecloud-mysql-bin.000057", Pos: 4}, serverHas(), true, ErrPositionNotFound},
		{"before the archive, server has it", offsets.Position{File: "apecloud-mysql-bin.000056", Pos: 4}, serverHas("apecloud-mysql-bin.000056:4"), false, nil},
		{"before the archive, server purged it", offsets.Position{File: "apecloud-mysql-bin.000056", Pos: 4}, serverHas(end), false, ErrPositionNotFound},
		{"after the archive", offsets.Position{File: "apecloud-mysql-bin.000058", Pos: 4}, serverHas("apecloud-mysql-bin.000058:4"), false, nil},
		{"beyond the file's end", offsets.Position{File: "apecloud-mysql-bin.000057", Pos: 5000}, serverHas(), false, ErrPositionNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			covered, _, err := CheckArchiveStart(context.Background(), a, tt.pos, tt.server)
			if covered != tt.covered || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Errorf("covered %v, err %v; want %v, %v", covered, err, tt.covered, tt.err)
			}
		})
	}
}

// TestCheckArchiveStart_MissingFile: a file missing between two archived
// ones is a gap, named, even when the stored position is in the first.
func TestCheckArchiveStart_MissingFile(t *testing.T) {
	a := archiveOf(t, map[string]string{"apecloud-mysql-bin.000057": "apecloud-mysql-bin.000057", "mysql_type_bit.000001": "apecloud-mysql-bin.000059"})
	server := func(context.Context, offsets.Position) error { return &Error{Kind: ErrPositionNotFound, Msg: "purged"} }
	_, _, err := CheckArchiveStart(context.Background(), a, offsets.Position{File: "apecloud-mysql-bin.000057", Pos: 4}, server)
	var gap *ArchiveGapError
	if !errors.As(err, &gap) || !errors.Is(err, ErrPositionNotFound) || gap.Missing != "1 file(s) between apecloud-mysql-bin.000057 and apecloud-mysql-bin.000059 are not in "+a.Dir {
		t.Errorf("err = %v, want the missing file named", err)
	}
}

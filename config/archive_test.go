package config

import (
	"strings"
	"testing"
)

// TestLoad_BinlogArchiveDir: rivulet.binlog.archive.dir is read, and a
// path that is not a directory is refused naming the key and the fix.
func TestLoad_BinlogArchiveDir(t *testing.T) {
	m := validMap()
	dir := t.TempDir()
	m["rivulet.binlog.archive.dir"] = dir
	if c, _ := mustFromMap(t, m); c.BinlogArchiveDir != dir {
		t.Errorf("BinlogArchiveDir = %q, want %q", c.BinlogArchiveDir, dir)
	}
	m["rivulet.binlog.archive.dir"] = dir + "/missing"
	_, _, err := FromMap(m)
	if err == nil || !strings.Contains(err.Error(), "rivulet.binlog.archive.dir") || !strings.Contains(err.Error(), "not a readable directory") {
		t.Errorf("a missing archive directory: err %v, want it refused naming the key", err)
	}
}

package testenv

import (
	"strconv"
	"strings"
	"sync"
	"testing"
)

const maxIdentLen = 64 // MySQL/MariaDB limit for database names

var (
	namesMu sync.Mutex
	names   = map[string]struct{}{} // database names handed out by this process
)

// Database creates a database named after t.Name() and drops it at
// t.Cleanup. Names are lowercase [a-z0-9_], at most 64 bytes, and never
// reused within a test binary (a suffix "_2", "_3", ... tells repeats apart),
// so events of earlier tests in the shared binlog never match a later test's
// database. It fails the test if the database cannot be created.
func (s *Server) Database(t testing.TB) string {
	t.Helper()
	name := uniqueName(sanitizeName(t.Name()))
	s.Exec(t, "", "CREATE DATABASE `"+name+"`")
	t.Cleanup(func() {
		if !s.Running() {
			return // a test that stopped its own server keeps the data
		}
		c, err := s.connect(s.User, s.Password, "")
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer c.Close()
		r, err := c.Execute("DROP DATABASE IF EXISTS `" + name + "`")
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		r.Close()
	})
	return name
}

// sanitizeName maps a test name to a database name: lowercase, runs of other
// characters become one '_', at most maxIdentLen bytes, never empty.
func sanitizeName(testName string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(testName) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			under = false
		default:
			if !under && b.Len() > 0 {
				b.WriteByte('_')
				under = true
			}
		}
	}
	name := strings.TrimRight(b.String(), "_")
	if len(name) > maxIdentLen {
		name = strings.TrimRight(name[:maxIdentLen], "_")
	}
	if name == "" {
		name = "db"
	}
	return name
}

// uniqueName returns base, or base with the first free "_N" suffix, and
// records it as used.
func uniqueName(base string) string {
	namesMu.Lock()
	defer namesMu.Unlock()
	name := base
	for n := 2; ; n++ {
		if _, used := names[name]; !used {
			names[name] = struct{}{}
			return name
		}
		suffix := "_" + strconv.Itoa(n)
		b := base
		if len(b)+len(suffix) > maxIdentLen {
			b = b[:maxIdentLen-len(suffix)]
		}
		name = b + suffix
	}
}

package offsets

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"strconv"
	"strings"
)

// ownerPath is the lock file that marks the process running this connector:
// one per connector key, so connectors sharing an offsets file do not
// exclude each other.
func (s *FileStore) ownerPath() string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s.key))
	return s.path + ".owner-" + strconv.FormatUint(h.Sum64(), 16) + ".lock"
}

// Lock makes this process the connector's only writer: it takes an
// exclusive, non-blocking lock on a per-connector file beside the offsets
// file, held until Close. The kernel releases it when the process dies,
// even by SIGKILL. Another process holding it fails Lock with an error
// matching ErrLocked that names its pid.
func (s *FileStore) Lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.owner != nil {
		return nil
	}
	path := s.ownerPath()
	f, err := tryLockFile(path)
	if errors.Is(err, errWouldBlock) {
		pid := ""
		if b, rerr := os.ReadFile(path); rerr == nil {
			pid = strings.TrimSpace(string(b))
		}
		return fmt.Errorf("%w: connector %q (topic.prefix %q) is run by process %s, which holds %s; stop it first (each connector runs as one process)",
			ErrLocked, s.name, s.prefix, cmpOr(pid, "?"), path)
	}
	if err != nil {
		return fmt.Errorf("lock offsets %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	s.owner = f
	return nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Close releases the lock taken by Lock, if any.
func (s *FileStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.owner == nil {
		return nil
	}
	err := s.owner.Close()
	s.owner = nil
	return err
}

// Delete removes this connector's entry, keeping the others: the next start
// finds no position and begins as snapshot.mode says. Deleting an absent
// entry is not an error.
func (s *FileStore) Delete(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	unlock, err := lockFile(s.path + ".lock")
	if err != nil {
		return fmt.Errorf("delete offsets in %s: lock: %w", s.path, err)
	}
	defer unlock()
	entries, encode, err := s.read()
	if err != nil {
		return err
	}
	found := false
	for k, ok := s.find(entries); ok; k, ok = s.find(entries) {
		delete(entries, k)
		found = true
	}
	if !found {
		return nil
	}
	if err := s.write(encode(entries)); err != nil {
		return fmt.Errorf("delete offsets in %s: %w", s.path, err)
	}
	return nil
}

package offsets

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// FileStore keeps positions in a JSON file that maps Kafka Connect offset
// keys to offset values, so one file can hold several connectors:
//
//	{
//	  "[\"inventory-connector\",{\"server\":\"dbserver1\"}]": {"ts_sec":1700000100,"file":"mysql-bin.000003","pos":1547}
//	}
//
// Keys and values are byte-compatible with what Debezium stores in Kafka
// Connect's offsets topic (Key, MarshalValue), so entries can be copied
// between the two.
//
// Save replaces the file atomically (temporary file in the same
// directory, fsync, rename, fsync of the directory): after a crash the
// file holds either the old or the new content, never a mix. Save keeps
// the other connectors' entries and holds an exclusive lock on
// "<path>.lock" while it reads and rewrites the file, so processes sharing
// the file do not lose each other's updates. A FileStore is safe for
// concurrent use.
type FileStore struct {
	path   string
	name   string
	prefix string
	key    string

	mu    sync.Mutex // serializes Save within the process; the lock file does across processes
	owner *os.File   // held by Lock until Close

	// beforeRename, when set (tests), runs after the temporary file is
	// written and synced, before it replaces the file.
	beforeRename func(tmp string) error
}

// NewFileStore returns a store for the connector named connectorName with
// topic.prefix topicPrefix, in the file at path. Nothing is read or
// created until Load or Save.
func NewFileStore(path, connectorName, topicPrefix string) *FileStore {
	return &FileStore{
		path:   path,
		name:   connectorName,
		prefix: topicPrefix,
		key:    string(Key(connectorName, topicPrefix)),
	}
}

// Path returns the file's path.
func (s *FileStore) Path() string { return s.path }

// Load returns the stored position of this connector; ok is false when the
// file or the connector's entry does not exist yet. An entry whose key is
// spelled differently but means the same connector (spaces added by hand)
// is found too. A file or entry that cannot be read returns an error
// matching ErrCorrupt that names the file and the fix.
func (s *FileStore) Load(ctx context.Context) (p Position, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return Position{}, false, err
	}
	entries, _, err := s.read()
	if err != nil {
		return Position{}, false, err
	}
	k, found := s.find(entries)
	if !found {
		return Position{}, false, nil
	}
	p, err = UnmarshalValue(entries[k])
	if err != nil {
		return Position{}, false, fmt.Errorf("load offsets from %s, key %s: %w (correct the entry, or remove it to start as snapshot.mode says)", s.path, k, err)
	}
	return p, true, nil
}

// Save stores p as this connector's position, keeping the file's other
// entries. When Save returns nil the position is durable. On error the
// caller must not consider p committed: the file holds the previous
// content (or, when only the final directory sync failed, p). A corrupt file is not overwritten (other connectors'
// entries would be lost): Save returns an error matching ErrCorrupt.
func (s *FileStore) Save(ctx context.Context, p Position) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if p.File == "" {
		return fmt.Errorf("save offsets to %s: %w: no binlog file in %s", s.path, ErrInvalidPosition, p)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	unlock, err := lockFile(s.path + ".lock")
	if err != nil {
		return fmt.Errorf("save offsets to %s: lock: %w", s.path, err)
	}
	defer unlock()

	entries, encode, err := s.read()
	if err != nil {
		return err
	}
	if entries == nil {
		entries = make(map[string]json.RawMessage, 1)
	}
	for k, found := s.find(entries); found; k, found = s.find(entries) {
		delete(entries, k) // replaced by the canonical spelling below
	}
	entries[s.key] = MarshalValue(p)
	if err := s.write(encode(entries)); err != nil {
		return fmt.Errorf("save offsets to %s: %w", s.path, err)
	}
	return nil
}

// read returns the file's entries and the encoder that writes them back in
// the file's own form: Rivulet's JSON, or Kafka Connect standalone's
// Java-serialised map (connectfile.go). Entries are nil without error when
// the file does not exist or is blank (written back as JSON).
func (s *FileStore) read() (map[string]json.RawMessage, func(map[string]json.RawMessage) []byte, error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, encodeFile, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read offsets: %w", err)
	}
	if isConnectFile(data) {
		entries, err := decodeConnectFile(data)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: offsets file %s starts as Kafka Connect standalone's (a Java-serialised map) but cannot be read (%w); restore it from a backup, or delete it to start as snapshot.mode says", ErrCorrupt, s.path, err)
		}
		return entries, encodeConnectFile, nil
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, encodeFile, nil
	}
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(data, &entries); err != nil {
		return nil, nil, fmt.Errorf("%w: offsets file %s is not a JSON object of offset entries (%w); restore it from a backup, or delete it to start as snapshot.mode says", ErrCorrupt, s.path, err)
	}
	return entries, encodeFile, nil
}

// find returns the key of this connector's entry: the exact Connect key,
// else any key that decodes to the same connector name and server.
func (s *FileStore) find(entries map[string]json.RawMessage) (string, bool) {
	if _, ok := entries[s.key]; ok {
		return s.key, true
	}
	for k := range entries {
		var parts []json.RawMessage
		if json.Unmarshal([]byte(k), &parts) != nil || len(parts) != 2 {
			continue
		}
		var name string
		var partition map[string]string
		if json.Unmarshal(parts[0], &name) != nil || json.Unmarshal(parts[1], &partition) != nil {
			continue
		}
		if name == s.name && len(partition) == 1 && partition["server"] == s.prefix {
			return k, true
		}
	}
	return "", false
}

// encodeFile renders entries one per line, sorted by key.
func encodeFile(entries map[string]json.RawMessage) []byte {
	keys := make([]string, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteString("{\n")
	for i, k := range keys {
		b.WriteString("  ")
		b.Write(appendJSONString(nil, k))
		b.WriteString(": ")
		if err := json.Compact(&b, entries[k]); err != nil {
			b.Write(entries[k]) // unreachable: read validated the JSON
		}
		if i < len(keys)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("}\n")
	return b.Bytes()
}

// write replaces the file with data atomically and durably.
func (s *FileStore) write(data []byte) (err error) {
	dir := filepath.Dir(s.path)
	f, err := os.CreateTemp(dir, filepath.Base(s.path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	perm := fs.FileMode(0o644)
	if st, err := os.Stat(s.path); err == nil {
		perm = st.Mode().Perm()
	}
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if s.beforeRename != nil {
		if err = s.beforeRename(tmp); err != nil {
			return err
		}
	}
	if err = os.Rename(tmp, s.path); err != nil {
		return err
	}
	return syncDir(dir)
}

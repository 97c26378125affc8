package testenv

import (
	"maps"
	"slices"
	"sync"
)

// liveSet holds the processes of one kind (servers, brokers, workers,
// registries) that this test binary started and has not stopped yet, so
// that Main can stop what a test left behind.
type liveSet[T comparable] struct {
	mu sync.Mutex
	m  map[T]struct{}
}

func (s *liveSet[T]) add(v T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[T]struct{}{}
	}
	s.m[v] = struct{}{}
}

func (s *liveSet[T]) remove(v T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, v)
}

func (s *liveSet[T]) all() []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Collect(maps.Keys(s.m))
}

// sharedFixture is the one process of a kind that all tests of a test
// binary share, started on first use; a failed start is remembered, so
// every later caller fails the same way without retrying.
type sharedFixture[T any] struct {
	once sync.Once
	v    T
	err  error
}

func (f *sharedFixture[T]) get(start func() (T, error)) (T, error) {
	f.once.Do(func() { f.v, f.err = start() })
	return f.v, f.err
}

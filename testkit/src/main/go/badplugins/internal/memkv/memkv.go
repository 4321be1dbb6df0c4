// Package memkv is an in-memory implementation of the KV interface of
// go-plugin's examples/grpc, so our plugins leave no files behind.
package memkv

import (
	"fmt"
	"sync"
)

// Store keeps values in memory. The zero value is not usable; call New.
type Store struct {
	mu     sync.Mutex
	values map[string][]byte
	// OnPut, when set, runs after every successful Put.
	OnPut func(key string, value []byte)
}

// New returns an empty store.
func New() *Store {
	return &Store{values: map[string][]byte{}}
}

// Put stores a copy of value under key.
func (s *Store) Put(key string, value []byte) error {
	s.mu.Lock()
	s.values[key] = append([]byte(nil), value...)
	s.mu.Unlock()
	if s.OnPut != nil {
		s.OnPut(key, value)
	}
	return nil
}

// Get returns the value stored under key, or an error when there is none.
func (s *Store) Get(key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.values[key]
	if !ok {
		return nil, fmt.Errorf("no value for key %q", key)
	}
	return append([]byte(nil), v...), nil
}

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"

	"github.com/t5gw/t5gw/evpn/rds"
)

// stateFile is where t5gwd keeps, in its state-dir, what a restart needs.
const stateFile = "restart.json"

// restartState is what survives t5gwd: the workers that were up in each
// VRF. Finding it at start means t5gwd is restarting (RFC 4724): it tells
// the fabric so, and waits for those workers before it sends End-of-RIB.
// Stopping for good removes it.
type restartState struct {
	Workers map[string][]netip.Addr `json:"workers"` // by VRF
}

// loadState reads the restart state; found is false when there is none.
func loadState(dir string) (s restartState, found bool, err error) {
	found, err = loadJSON(dir, stateFile, &s)
	return s, found, err
}

// save writes the state whole: to a temporary file, then renamed over the
// old one, so a crash leaves one or the other.
func (s restartState) save(dir string) error { return saveJSON(dir, stateFile, s) }

// removeState forgets the state: the next start is a cold one.
func removeState(dir string) error {
	err := os.Remove(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// equal tells whether two states list the same workers.
func (s restartState) equal(o restartState) bool {
	return maps.EqualFunc(s.Workers, o.Workers, slices.Equal)
}

// rdsFile is where t5gwd keeps, in its state-dir, the RDs of workers that
// do not hold their preferred number (rds.Displaced): with it, every worker
// gets the RD it had after a restart, whatever order they come back in. It
// outlives a stop for good: the RDs are the node's, not one run's.
const rdsFile = "rds.json"

func loadRDs(dir string) ([]rds.Assignment, error) {
	var as []rds.Assignment
	_, err := loadJSON(dir, rdsFile, &as)
	return as, err
}

func saveRDs(dir string, as []rds.Assignment) error { return saveJSON(dir, rdsFile, as) }

// loadJSON reads dir/name into v; found is false when there is no such file.
func loadJSON(dir, name string, v any) (found bool, err error) {
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return true, nil
}

// saveJSON writes v to dir/name whole: to a temporary file, then renamed
// over the old one, so a crash leaves one or the other.
func saveJSON(dir, name string, v any) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, name+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, name))
}

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
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return s, false, nil
	}
	if err != nil {
		return s, false, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, false, fmt.Errorf("%s: %w", filepath.Join(dir, stateFile), err)
	}
	return s, true, nil
}

// save writes the state whole: to a temporary file, then renamed over the
// old one, so a crash leaves one or the other.
func (s restartState) save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, stateFile))
}

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
	b, err := os.ReadFile(filepath.Join(dir, rdsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var as []rds.Assignment
	if err := json.Unmarshal(b, &as); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, rdsFile), err)
	}
	return as, nil
}

func saveRDs(dir string, as []rds.Assignment) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.Marshal(as)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, rdsFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, rdsFile))
}

package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// debounce is how long the config files must stay still after a change
// before it is read: an editor or a deploy tool writes in several steps.
const debounce = 500 * time.Millisecond

// configWatch tells when the global file or a VRF file changes. It watches
// their directories, not the files, so that a file replaced by a rename (as
// editors and config management do) is seen too.
type configWatch struct {
	w       *fsnotify.Watcher
	global  string
	changed chan struct{}
	log     *slog.Logger

	mu     sync.Mutex
	vrfDir string
}

// watchConfig starts watching global and vrfDir; changed receives (at most
// one pending signal) after each burst of changes.
func watchConfig(ctx context.Context, global, vrfDir string, log *slog.Logger) (*configWatch, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	c := &configWatch{w: w, global: filepath.Clean(global), changed: make(chan struct{}, 1), log: log}
	if err := w.Add(filepath.Dir(c.global)); err != nil {
		w.Close()
		return nil, err
	}
	c.follow(vrfDir)
	go c.run(ctx)
	return c, nil
}

// follow watches vrfDir instead of the VRF directory watched so far.
func (c *configWatch) follow(vrfDir string) {
	vrfDir = filepath.Clean(vrfDir)
	c.mu.Lock()
	defer c.mu.Unlock()
	if vrfDir == c.vrfDir {
		return
	}
	if c.vrfDir != "" && c.vrfDir != filepath.Dir(c.global) {
		_ = c.w.Remove(c.vrfDir)
	}
	c.vrfDir = vrfDir
	if err := c.w.Add(vrfDir); err != nil {
		c.log.Warn("cannot watch the VRF directory; changes there need a SIGHUP", "dir", vrfDir, "err", err)
	}
}

func (c *configWatch) relevant(name string) bool {
	name = filepath.Clean(name)
	if name == c.global {
		return true
	}
	ext := filepath.Ext(name)
	c.mu.Lock()
	defer c.mu.Unlock()
	return filepath.Dir(name) == c.vrfDir && (ext == ".yaml" || ext == ".yml") && !strings.HasPrefix(filepath.Base(name), ".")
}

func (c *configWatch) run(ctx context.Context) {
	defer c.w.Close()
	quiet := time.NewTimer(time.Hour)
	quiet.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-c.w.Events:
			if !ok {
				return
			}
			if c.relevant(ev.Name) {
				quiet.Reset(debounce)
			}
		case err, ok := <-c.w.Errors:
			if !ok {
				return
			}
			c.log.Warn("config watch", "err", err)
		case <-quiet.C:
			select {
			case c.changed <- struct{}{}:
			default: // one is pending already
			}
		}
	}
}

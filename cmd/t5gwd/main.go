// Command t5gwd is the t5gw daemon: it meets Kubernetes workers and VMs over
// BGP inside tenant VRFs and advertises their prefixes into the EVPN fabric as
// Type-5 routes whose Gateway IP is the worker's own address.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/t5gw/t5gw/cmd/t5gwd/api"
	"github.com/t5gw/t5gw/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGUSR2)
	if err := run(ctx, os.Args[1:], os.Stderr, sigs); err != nil {
		fmt.Fprintln(os.Stderr, "t5gwd:", err)
		stop()
		os.Exit(1)
	}
}

// run is the daemon. It returns when ctx ends (SIGTERM: a graceful stop, for
// a restart or an upgrade) or on SIGUSR2 (stop for good: every route
// withdrawn at once). SIGHUP, or a change to a config file, reloads.
func run(ctx context.Context, args []string, stderr io.Writer, sigs <-chan os.Signal) error {
	fs := flag.NewFlagSet("t5gwd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "/etc/t5gw/t5gw.yaml", "global config `file`; VRF files are read from its vrf-dir")
	check := fs.String("check-config", "", "validate the config `file` and its VRF files, then exit")
	stateDir := fs.String("state-dir", "", "keep the restart state in `dir` (overrides the config's state-dir)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to `file`")
	memProfileRate := fs.Int("memprofilerate", 0, "sample one allocation per `bytes` in the heap profile (Go's default, 512 KiB, when 0); smaller is finer and costs CPU")
	apiSocketFlag := fs.String("api-socket", "", "serve the local API (t5gwctl) on this unix `socket` (overrides the config's api.socket)")
	showVersion := fs.Bool("version", false, "print t5gwd's version, GoBGP's and Go's, then exit")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // the usage is printed: asking for it is no failure
		}
		return err
	}
	if *showVersion {
		fmt.Fprintln(stderr, versionText())
		return nil
	}
	if *check != "" {
		c, err := config.Load(*check)
		if err != nil {
			return fmt.Errorf("config is not valid:\n%w", err)
		}
		fmt.Fprintf(stderr, "%s: valid, %d VRF(s)\n", *check, len(c.VRFs))
		return nil
	}
	load := func() (*config.Config, error) {
		c, err := config.Load(*path)
		if err == nil && *stateDir != "" {
			c.StateDir = *stateDir
		}
		return c, err
	}
	c, err := load()
	if err != nil {
		return fmt.Errorf("config is not valid, nothing started:\n%w", err)
	}
	if *memProfileRate > 0 {
		runtime.MemProfileRate = *memProfileRate
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	level := new(slog.LevelVar)
	level.Set(c.LogLevel)
	log := slog.New(logHandler(c.LogFormat, stderr, level))

	setMemoryLimit(c.MemoryLimit, log)
	d, err := startDaemon(ctx, c, log, level)
	if err != nil {
		return err
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	var changed <-chan struct{}
	watch, err := watchConfig(watchCtx, *path, c.VRFDir, log)
	if err != nil {
		log.Warn("cannot watch the config files; reload with SIGHUP", "err", err)
	} else {
		changed = watch.changed
	}
	log.Info("t5gwd running", "config", *path, "vrfs", len(c.VRFs), "router-id", c.RouterID)
	reload := func(why string, dryRun bool) api.Reload {
		if !dryRun {
			log.Info("reloading the config", "on", why)
			sdNotify(sdReloading())
			defer sdNotify("READY=1")
		}
		res := d.reload(ctx, load, dryRun)
		if watch != nil {
			d.mu.Lock()
			watch.follow(d.cfg.VRFDir)
			d.mu.Unlock()
		}
		return res
	}
	apiSocket := c.API.Socket
	if *apiSocketFlag != "" {
		apiSocket = *apiSocketFlag
	}
	reloads := make(chan reloadRequest)
	if apiSocket != "" {
		stopAPI, err := d.serveAPI(apiSocket, c.API.Group, reloads)
		if err != nil {
			log.Error("local API off: t5gwctl cannot reach this t5gwd", "err", err)
		} else {
			defer stopAPI()
			log.Info("local API listening", "socket", apiSocket, "group", c.API.Group)
		}
	}
	saveRDs := time.NewTicker(rdsSaveEvery)
	defer saveRDs.Stop()
	// The restart state is written at once when workers change, then at
	// most every stateSaveEvery: a thousand workers coming up write it a few
	// times, not a thousand.
	var saveState <-chan time.Time // nil while no write is due
	var savedAt time.Time
	for {
		select {
		case <-saveState:
			saveState, savedAt = nil, time.Now()
			d.saveState()
		case <-saveRDs.C:
			d.saveRDs()
		case <-ctx.Done():
			sdNotify("STOPPING=1")
			log.Info("shutting down gracefully: fabric neighbors that do graceful restart keep t5gw's routes until it is back")
			d.stop(true)
			return nil
		case s := <-sigs:
			switch s {
			case syscall.SIGUSR2:
				sdNotify("STOPPING=1")
				log.Info("shutting down for good: withdrawing every route")
				d.stop(false)
				return nil
			default:
				reload("SIGHUP", false)
			}
		case <-changed:
			reload("a changed config file", false)
		case req := <-reloads:
			req.reply <- reload("t5gwctl reload", req.dryRun)
		case <-d.workersBack:
			d.connect(ctx)
			sdNotify("READY=1") // running; the fabric sessions come up in their own time
		case <-d.workersChanged:
			if saveState == nil {
				saveState = time.After(max(0, stateSaveEvery-time.Since(savedAt)))
			}
		}
	}
}

// logHandler writes logs as logfmt text, or one JSON object per line with
// format json; the keys are the same either way (vrf, worker, peer,
// prefix, reason, ...).
func logHandler(format string, w io.Writer, level slog.Leveler) slog.Handler {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.NewJSONHandler(w, opts)
	}
	return slog.NewTextHandler(w, opts)
}

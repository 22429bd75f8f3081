// Command t5gwd is the t5gw daemon: it meets Kubernetes workers and VMs over
// BGP inside tenant VRFs and advertises their prefixes into the EVPN fabric as
// Type-5 routes whose Gateway IP is the worker's own address.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/t5gw/t5gw/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	if err := run(ctx, os.Args[1:], os.Stderr, hup); err != nil {
		fmt.Fprintln(os.Stderr, "t5gwd:", err)
		stop()
		os.Exit(1)
	}
}

// run is the daemon: it returns when ctx ends, and reloads its config each
// time reload receives.
func run(ctx context.Context, args []string, stderr io.Writer, reload <-chan os.Signal) error {
	fs := flag.NewFlagSet("t5gwd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "/etc/t5gw/t5gw.yaml", "global config `file`; VRF files are read from its vrf-dir")
	check := fs.String("check-config", "", "validate the config `file` and its VRF files, then exit")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to `file`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *check != "" {
		c, err := config.Load(*check)
		if err != nil {
			return fmt.Errorf("config is not valid:\n%w", err)
		}
		fmt.Fprintf(stderr, "%s: valid, %d VRF(s)\n", *check, len(c.VRFs))
		return nil
	}
	c, err := config.Load(*path)
	if err != nil {
		return fmt.Errorf("config is not valid, nothing started:\n%w", err)
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
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	d, err := startDaemon(ctx, c, log)
	if err != nil {
		return err
	}
	defer d.stop()
	log.Info("t5gwd running", "config", *path, "vrfs", len(c.VRFs), "router-id", c.RouterID)
	for {
		select {
		case <-ctx.Done():
			log.Info("shutting down: withdrawing every route")
			return nil
		case <-reload:
			next, err := config.Load(*path)
			if err != nil {
				d.metrics.reload(false)
				log.Error("reload refused; the running config stays", "err", err)
				continue
			}
			level.Set(next.LogLevel)
			if err := d.apply(ctx, next); err != nil {
				d.metrics.reload(false)
				log.Error("reload failed", "err", err)
				continue
			}
			d.metrics.reload(true)
		}
	}
}

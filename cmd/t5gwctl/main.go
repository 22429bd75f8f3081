// Command t5gwctl asks a running t5gwd, over its local API, what it knows:
// its VRFs, its workers, the Type-5 routes it sends, why a prefix is or is
// not in the fabric; and reloads its config.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/t5gw/t5gw/cmd/t5gwd/api"
)

const usage = `Usage: t5gwctl [--socket path] [--json] <command> [arguments]

Commands:
  vrfs                           the VRFs, their routes and workers
  workers [--vrf V]              each worker: session, uptime, prefixes, gateway IP
  routes  [--vrf V] [prefix]     the Type-5 routes t5gw sends (inside prefix)
  explain <prefix|address> [--vrf V]
                                 the whole chain for one prefix: who announces it,
                                 what t5gw made of it, where it went
  reload  [--dry-run]            what a reload would change, then (without
                                 --dry-run) apply it
  version                        t5gwctl's version

Flags:
`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run is t5gwctl; it returns the exit code: 0, 1 when t5gwd says no or
// cannot be reached, 2 for a usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("t5gwctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	socket := fs.String("socket", api.DefaultSocket, "t5gwd's API `socket`")
	asJSON := fs.Bool("json", false, "print what t5gwd answers as JSON")
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	c := client{socket: *socket}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	err := dispatch(ctx, c, cmd, rest, *asJSON, stdout, stderr)
	var ue usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "t5gwctl %s: %v\n", cmd, err)
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "t5gwctl %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

// usageError is a command line t5gwctl cannot make sense of.
type usageError struct{ error }

func dispatch(ctx context.Context, c client, cmd string, args []string, asJSON bool, stdout, stderr io.Writer) error {
	sub := flag.NewFlagSet(cmd, flag.ContinueOnError)
	sub.SetOutput(stderr)
	vrf := sub.String("vrf", "", "only this `VRF`")
	dryRun := sub.Bool("dry-run", false, "only say what a reload would do")
	jsonToo := sub.Bool("json", asJSON, "print JSON")
	// Flags may come before or after the positional argument.
	var pos []string
	for len(args) > 0 {
		if err := sub.Parse(args); err != nil {
			return usageError{err}
		}
		if sub.NArg() == 0 {
			break
		}
		pos, args = append(pos, sub.Arg(0)), sub.Args()[1:]
	}
	asJSON = *jsonToo
	q := url.Values{}
	if *vrf != "" {
		q.Set("vrf", *vrf)
	}
	now := time.Now()
	switch cmd {
	case "vrfs":
		var v []api.VRF
		return show(ctx, c, api.PathVRFs, q, &v, asJSON, stdout, func(w io.Writer) { renderVRFs(w, v) })
	case "workers":
		var v []api.Worker
		return show(ctx, c, api.PathWorkers, q, &v, asJSON, stdout, func(w io.Writer) { renderWorkers(w, v, now) })
	case "routes":
		if len(pos) > 1 {
			return usageError{errors.New("takes at most one prefix")}
		}
		if len(pos) == 1 {
			q.Set("prefix", pos[0])
		}
		var v []api.Route
		return show(ctx, c, api.PathRoutes, q, &v, asJSON, stdout, func(w io.Writer) { renderRoutes(w, v) })
	case "explain":
		if len(pos) != 1 {
			return usageError{errors.New("takes one prefix or address")}
		}
		q.Set("prefix", pos[0])
		var v api.Explained
		return show(ctx, c, api.PathExplain, q, &v, asJSON, stdout, func(w io.Writer) { renderExplained(w, v) })
	case "reload":
		var v api.Reload
		if *dryRun {
			q.Set("dry-run", "true")
		}
		if err := c.do(ctx, http.MethodPost, api.PathReload, q, &v); err != nil {
			return err
		}
		if err := output(stdout, v, asJSON, func(w io.Writer) { renderReload(w, v) }); err != nil {
			return err
		}
		if v.Error != "" {
			return errors.New("t5gwd refused the reload")
		}
		return nil
	case "version":
		fmt.Fprintln(stdout, versionText())
		return nil
	}
	return usageError{fmt.Errorf("unknown command; run t5gwctl --help")}
}

func show(ctx context.Context, c client, path string, q url.Values, v any, asJSON bool, stdout io.Writer, render func(io.Writer)) error {
	if err := c.do(ctx, http.MethodGet, path, q, v); err != nil {
		return err
	}
	return output(stdout, v, asJSON, render)
}

func output(stdout io.Writer, v any, asJSON bool, render func(io.Writer)) error {
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	render(stdout)
	return nil
}

// client speaks HTTP to t5gwd over its unix socket.
type client struct{ socket string }

func (c client) do(ctx context.Context, method, path string, q url.Values, v any) error {
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", c.socket)
		},
	}}
	req, err := http.NewRequestWithContext(ctx, method, "http://t5gwd"+path+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach t5gwd at %s (is it running, and may you use its socket?): %w", c.socket, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e api.Error
		if json.NewDecoder(resp.Body).Decode(&e) == nil && e.Error != "" {
			return errors.New(e.Error)
		}
		return fmt.Errorf("t5gwd answered %s", resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

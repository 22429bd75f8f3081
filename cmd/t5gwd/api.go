package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/t5gw/t5gw/bgp"
	"github.com/t5gw/t5gw/cmd/t5gwd/api"
	"github.com/t5gw/t5gw/evpn"
	"github.com/t5gw/t5gw/evpn/rib"
)

// apiTimeout bounds what one API request may wait for a VRF's pipeline.
const apiTimeout = 5 * time.Second

// listenAPI opens the local API's unix socket at path, for root and, when
// group is set, that group (mode 0660). A socket left by a t5gwd that is
// gone is replaced; one that answers belongs to a running t5gwd and is an
// error.
func listenAPI(path, group string) (net.Listener, error) {
	gid := -1
	if group != "" {
		g, err := user.LookupGroup(group)
		if err != nil {
			return nil, fmt.Errorf("api socket %s: group %q: %w", path, group, err)
		}
		if gid, err = strconv.Atoi(g.Gid); err != nil {
			return nil, fmt.Errorf("api socket %s: group %q has gid %q", path, group, g.Gid)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("api socket %s: %w", path, err)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("api socket %s: another t5gwd answers on it", path)
	}
	_ = os.Remove(path)
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("api socket %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o660); err == nil && gid >= 0 {
		err = os.Chown(path, 0, gid)
	}
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("api socket %s: %w", path, err)
	}
	return l, nil
}

// reloadRequest asks run's loop for a reload (or its plan, with dryRun).
type reloadRequest struct {
	dryRun bool
	reply  chan api.Reload
}

// serveAPI serves the local API on a unix socket; reloads go to run's loop
// through reloads. It returns what stops it.
func (d *daemon) serveAPI(path, group string, reloads chan<- reloadRequest) (stop func(), err error) {
	l, err := listenAPI(path, group)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: d.apiHandler(func(dryRun bool) api.Reload {
		req := reloadRequest{dryRun: dryRun, reply: make(chan api.Reload, 1)}
		reloads <- req
		return <-req.reply
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = os.Remove(path)
	}, nil
}

// apiHandler serves the local API from the daemon's state.
func (d *daemon) apiHandler(reload func(dryRun bool) api.Reload) http.Handler {
	mux := http.NewServeMux()
	get := func(path string, f func(r *http.Request) (any, error)) {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
			defer cancel()
			v, err := f(r.WithContext(ctx))
			writeJSON(w, v, err)
		})
	}
	get(api.PathVRFs, func(r *http.Request) (any, error) { return d.apiVRFs(r.Context()) })
	get(api.PathWorkers, func(r *http.Request) (any, error) { return d.apiWorkers(r.Context(), r.URL.Query().Get("vrf")) })
	get(api.PathRoutes, func(r *http.Request) (any, error) {
		return d.apiRoutes(r.Context(), r.URL.Query().Get("vrf"), r.URL.Query().Get("prefix"))
	})
	get(api.PathExplain, func(r *http.Request) (any, error) {
		return d.apiExplain(r.Context(), r.URL.Query().Get("vrf"), r.URL.Query().Get("prefix"))
	})
	mux.HandleFunc("POST "+api.PathReload, func(w http.ResponseWriter, r *http.Request) {
		res := reload(r.URL.Query().Get("dry-run") == "true")
		writeJSON(w, res, nil)
	})
	// Go's profiles (heap, allocs, goroutine, profile for CPU, trace for the
	// scheduler's view, ...), on the socket only, so only root and the API's
	// group can take them:
	// curl --unix-socket /run/t5gw/t5gwd.sock http://t5gwd/debug/pprof/heap
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}

// badRequest is an error in what the client asked.
type badRequest struct{ error }

func writeJSON(w http.ResponseWriter, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		code := http.StatusInternalServerError
		if errors.As(err, new(badRequest)) {
			code = http.StatusBadRequest
		}
		w.WriteHeader(code)
		v = api.Error{Error: err.Error()}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// tenantsNamed returns the tenants, by name; with a name, only that one.
func (d *daemon) tenantsNamed(name string) ([]*tenant, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []*tenant
	for n, t := range d.tenants {
		if name == "" || n == name {
			out = append(out, t)
		}
	}
	if name != "" && len(out) == 0 {
		return nil, badRequest{fmt.Errorf("no VRF %q", name)}
	}
	slices.SortFunc(out, func(a, b *tenant) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

func (d *daemon) apiVRFs(ctx context.Context) ([]api.VRF, error) {
	tenants, _ := d.tenantsNamed("")
	out := []api.VRF{}
	for _, t := range tenants {
		st := t.snapshot()
		s := st.pipe.Stats()
		v := api.VRF{Name: t.name, Running: st.workers != nil, Received: s.Received, Advertised: s.Advertised,
			Stale: s.Stale, GatewaysUnresolved: s.Unresolved}
		if st.err != nil {
			v.Error = st.err.Error()
		}
		if st.workers != nil {
			v.WorkersUp = st.workers.SessionsUp()
		}
		for _, n := range s.Refused {
			v.Refused += n
		}
		if e, err := st.pipe.Settings(ctx); err == nil {
			v.L3VNI, v.RD, v.Paths, v.Unresolved = e.L3VNI, e.RD.String(), e.Paths.String(), e.Unresolved.String()
		}
		out = append(out, v)
	}
	return out, nil
}

func (d *daemon) apiWorkers(ctx context.Context, vrf string) ([]api.Worker, error) {
	tenants, err := d.tenantsNamed(vrf)
	if err != nil {
		return nil, err
	}
	out := []api.Worker{}
	for _, t := range tenants {
		st := t.snapshot()
		views, err := st.pipe.Workers(ctx)
		if err != nil {
			return nil, fmt.Errorf("vrf %s: %w", t.name, err)
		}
		byAddr := map[netip.Addr]rib.WorkerView{}
		for _, v := range views {
			byAddr[v.Worker] = v
		}
		var sessions []bgp.Session
		if st.workers != nil {
			sessions = st.workers.Sessions(ctx)
		}
		seen := map[netip.Addr]bool{}
		for _, s := range sessions {
			seen[s.Peer] = true
			out = append(out, d.apiWorker(t.name, s, byAddr[s.Peer]))
		}
		for _, v := range views { // routes kept of a worker whose session is gone
			if !seen[v.Worker] {
				out = append(out, d.apiWorker(t.name, bgp.Session{Peer: v.Worker, State: "down"}, v))
			}
		}
	}
	return out, nil
}

func (d *daemon) apiWorker(vrf string, s bgp.Session, v rib.WorkerView) api.Worker {
	w := api.Worker{VRF: vrf, Address: s.Peer.String(), ASN: s.ASN, State: s.State, Flaps: s.Flaps,
		Received: v.Announced, Accepted: v.Accepted, Stale: v.Stale}
	if !s.Since.IsZero() {
		since := s.Since.UTC()
		w.Since = &since
	}
	if v.RD != (evpn.RD{}) {
		w.RD = v.RD.String()
	}
	for reason, n := range v.Refused {
		if w.Refused == nil {
			w.Refused = map[string]int{}
		}
		w.Refused[string(reason)] = n
	}
	d.mu.Lock()
	where := d.where
	var l3vni uint32
	if t := d.tenants[vrf]; t != nil {
		l3vni = t.l3vni()
	}
	d.mu.Unlock()
	if where != nil {
		loc := where.Lookup(s.Peer, l3vni)
		w.Gateway = &api.Gateway{Resolved: loc.Resolved, MAC: loc.MAC, Seq: loc.Seq, Synced: where.Synced()}
		if loc.VTEP.IsValid() {
			w.Gateway.VTEP = loc.VTEP.String()
		}
	}
	return w
}

// sentTo lists the fabric peers whose session is established.
func (d *daemon) sentTo(ctx context.Context) []string {
	d.mu.Lock()
	f := d.fabric
	d.mu.Unlock()
	out := []string{}
	for _, s := range f.Sessions(ctx) {
		if s.State == "established" {
			out = append(out, s.Peer.String())
		}
	}
	return out
}

func (d *daemon) apiRoutes(ctx context.Context, vrf, within string) ([]api.Route, error) {
	var in netip.Prefix
	if within != "" {
		p, err := parsePrefixOrAddr(within)
		if err != nil {
			return nil, err
		}
		in = p
	}
	tenants, err := d.tenantsNamed(vrf)
	if err != nil {
		return nil, err
	}
	sent := d.sentTo(ctx)
	out := []api.Route{}
	for _, t := range tenants {
		views, err := t.snapshot().pipe.Prefixes(ctx, in, 0)
		if err != nil {
			return nil, fmt.Errorf("vrf %s: %w", t.name, err)
		}
		for _, v := range views {
			for _, r := range v.Type5 {
				out = append(out, apiRoute(t.name, r, sent))
			}
		}
	}
	return out, nil
}

func apiRoute(vrf string, r rib.Type5, sent []string) api.Route {
	out := api.Route{VRF: vrf, RD: r.RD.String(), PathID: r.PathID, Prefix: r.Prefix.String(), Label: r.Label,
		NextHop: r.NextHop.String(), Origin: originName(r.Origin), ASPath: evpn.ASPathText(r.ASPath),
		Worker: r.Worker.String(), Advertised: r.Advertised, RouteTargets: []string{}, SentTo: []string{}}
	if r.GatewayIP.IsValid() {
		out.GatewayIP = r.GatewayIP.String()
	}
	if !r.RouterMAC.IsZero() {
		out.RouterMAC = r.RouterMAC.String()
	}
	for _, rt := range r.RouteTargets {
		out.RouteTargets = append(out.RouteTargets, rt.String())
	}
	if r.Advertised {
		out.SentTo = sent
	}
	return out
}

// parsePrefixOrAddr reads "10.244.1.0/24", or an address as its host prefix.
func parsePrefixOrAddr(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
	}
	return netip.Prefix{}, badRequest{fmt.Errorf("%q is neither a prefix nor an address", s)}
}

func (d *daemon) apiExplain(ctx context.Context, vrf, query string) (api.Explained, error) {
	out := api.Explained{Query: query, Explanations: []api.Explanation{}}
	q, err := parsePrefixOrAddr(query)
	if err != nil {
		return out, err
	}
	tenants, err := d.tenantsNamed(vrf)
	if err != nil {
		return out, err
	}
	sent := d.sentTo(ctx)
	for _, t := range tenants {
		st := t.snapshot()
		view, err := longestMatch(ctx, st.pipe, q, !strings.Contains(query, "/"))
		if err != nil {
			return out, fmt.Errorf("vrf %s: %w", t.name, err)
		}
		if len(view.Announcements) == 0 {
			continue
		}
		settings, _ := st.pipe.Settings(ctx)
		states := map[netip.Addr]string{}
		if st.workers != nil {
			for _, s := range st.workers.Sessions(ctx) {
				states[s.Peer] = s.State
			}
		}
		e := api.Explanation{VRF: t.name, Prefix: view.Prefix.String(), Announcements: []api.Announcement{}, Routes: []api.Route{}}
		for _, a := range view.Announcements {
			e.Announcements = append(e.Announcements, apiAnnouncement(a, settings, states))
		}
		for _, r := range view.Type5 {
			e.Routes = append(e.Routes, apiRoute(t.name, r, sent))
		}
		out.Explanations = append(out.Explanations, e)
	}
	return out, nil
}

// longestMatch finds the prefix a query names: the prefix itself, or for an
// address the longest prefix some worker announces that holds it.
func longestMatch(ctx context.Context, pipe *rib.VRF, q netip.Prefix, address bool) (rib.PrefixView, error) {
	for bits := q.Bits(); bits >= 0; bits-- {
		p, _ := q.Addr().Prefix(bits)
		view, err := pipe.Prefix(ctx, p)
		if err != nil || len(view.Announcements) > 0 || !address {
			return view, err
		}
	}
	return rib.PrefixView{}, nil
}

func apiAnnouncement(a rib.Announcement, vrf evpn.VRF, states map[netip.Addr]string) api.Announcement {
	r := a.Route
	out := api.Announcement{Worker: r.Worker.String(), Session: states[r.Worker], NextHop: r.NextHop.String(),
		ASPath: evpn.ASPathText(r.ASPath), Origin: originName(r.Origin), Stale: a.Stale, Accepted: a.Refusal == nil}
	if out.Session == "" {
		out.Session = "down"
	}
	if r.HasMED {
		med := r.MED
		out.MED = &med
	}
	for _, c := range r.Communities {
		out.Communities = append(out.Communities, fmt.Sprintf("%d:%d", c>>16, c&0xffff))
	}
	for _, c := range r.LargeCommunities {
		out.Communities = append(out.Communities, fmt.Sprintf("%d:%d:%d", c.Global, c.Local1, c.Local2))
	}
	if rule, ok := evpn.AcceptedBy(vrf.Accept, r.Prefix); ok {
		out.AcceptRule = rule.String()
	}
	if a.Refusal != nil {
		out.Reason, out.Detail = string(a.Refusal.Reason), a.Refusal.Detail
	}
	return out
}

func originName(o uint8) string {
	switch o {
	case 0:
		return "igp"
	case 1:
		return "egp"
	}
	return "incomplete"
}

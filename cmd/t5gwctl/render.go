package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/t5gw/t5gw/cmd/t5gwd/api"
)

// The renderers are pure: what t5gwd answered (and the time, for uptimes)
// in, text out. The golden tests hold their output.

func table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func renderVRFs(w io.Writer, vrfs []api.VRF) {
	if len(vrfs) == 0 {
		fmt.Fprintln(w, "No VRF.")
		return
	}
	tw := table(w)
	fmt.Fprintln(tw, "VRF\tSTATE\tL3VNI\tPATHS\tUNRESOLVED\tWORKERS UP\tRECEIVED\tADVERTISED\tREFUSED\tSTALE\tGW IPS UNRESOLVED")
	for _, v := range vrfs {
		state := "running"
		if !v.Running {
			state = "waiting"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\n", v.Name, state, v.L3VNI, v.Paths, v.Unresolved,
			v.WorkersUp, v.Received, v.Advertised, v.Refused, v.Stale, v.GatewaysUnresolved)
	}
	tw.Flush()
	for _, v := range vrfs {
		if v.Error != "" {
			fmt.Fprintf(w, "%s is not running: %s\n", v.Name, v.Error)
		}
	}
}

// uptime says how long ago t was, to the second.
func uptime(t *time.Time, now time.Time) string {
	if t == nil {
		return "-"
	}
	return now.Sub(*t).Truncate(time.Second).String()
}

func refusedText(m map[string]int) string {
	if len(m) == 0 {
		return "-"
	}
	var parts []string
	for _, r := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%d %s", m[r], r))
	}
	return strings.Join(parts, ", ")
}

func gatewayText(g *api.Gateway) string {
	switch {
	case g == nil:
		return "-"
	case g.Resolved:
		return fmt.Sprintf("behind %s (MAC %s, seq %d)", g.VTEP, g.MAC, g.Seq)
	case !g.Synced:
		return "not known yet"
	}
	return "UNRESOLVED"
}

func renderWorkers(w io.Writer, workers []api.Worker, now time.Time) {
	if len(workers) == 0 {
		fmt.Fprintln(w, "No worker.")
		return
	}
	tw := table(w)
	fmt.Fprintln(tw, "VRF\tWORKER\tASN\tSTATE\tFOR\tFLAPS\tRECEIVED\tACCEPTED\tREFUSED\tSTALE\tRD\tGATEWAY IP")
	for _, x := range workers {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%d\t%d\t%d\t%s\t%d\t%s\t%s\n", x.VRF, x.Address, x.ASN, x.State,
			uptime(x.Since, now), x.Flaps, x.Received, x.Accepted, refusedText(x.Refused), x.Stale, dash(x.RD), gatewayText(x.Gateway))
	}
	tw.Flush()
}

func renderRoutes(w io.Writer, routes []api.Route) {
	if len(routes) == 0 {
		fmt.Fprintln(w, "No Type-5 route.")
		return
	}
	tw := table(w)
	fmt.Fprintln(tw, "VRF\tPREFIX\tRD\tGATEWAY IP\tLABEL\tNEXT HOP\tROUTE TARGETS\tWORKER\tSENT TO")
	for _, r := range routes {
		rd := r.RD
		if r.PathID != 0 {
			rd += fmt.Sprintf(" (path %d)", r.PathID)
		}
		gw := r.GatewayIP
		if gw == "" {
			gw = "- (fallback, router MAC " + r.RouterMAC + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", r.VRF, r.Prefix, rd, gw, r.Label, r.NextHop,
			strings.Join(r.RouteTargets, ","), r.Worker, sentText(r))
	}
	tw.Flush()
}

func sentText(r api.Route) string {
	switch {
	case !r.Advertised:
		return "(pending)"
	case len(r.SentTo) == 0:
		return "(no fabric session up)"
	}
	return strings.Join(r.SentTo, ",")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func renderExplained(w io.Writer, x api.Explained) {
	if len(x.Explanations) == 0 {
		fmt.Fprintf(w, "No worker announces %s in any VRF: t5gw sends nothing for it.\n", x.Query)
		return
	}
	for i, e := range x.Explanations {
		if i > 0 {
			fmt.Fprintln(w)
		}
		renderExplanation(w, e)
	}
}

func renderExplanation(w io.Writer, e api.Explanation) {
	fmt.Fprintf(w, "%s in VRF %s\n\nAnnounced by %s:\n", e.Prefix, e.VRF, plural(len(e.Announcements), "worker", "workers"))
	for _, a := range e.Announcements {
		stale := ""
		if a.Stale {
			stale = ", restarting: kept stale"
		}
		fmt.Fprintf(w, "  %s (session %s%s)\n", a.Worker, a.Session, stale)
		attrs := fmt.Sprintf("next hop %s, AS path %s, origin %s", a.NextHop, dash(a.ASPath), a.Origin)
		if a.MED != nil {
			attrs += fmt.Sprintf(", MED %d", *a.MED)
		}
		if len(a.Communities) > 0 {
			attrs += ", communities " + strings.Join(a.Communities, " ")
		}
		fmt.Fprintf(w, "    %s\n", attrs)
		switch {
		case a.Accepted:
			fmt.Fprintf(w, "    accepted: inside %q\n", a.AcceptRule)
		case a.AcceptRule != "":
			fmt.Fprintf(w, "    refused (%s), although inside %q: %s\n", a.Reason, a.AcceptRule, a.Detail)
		default:
			fmt.Fprintf(w, "    refused (%s): %s\n", a.Reason, a.Detail)
		}
	}
	if len(e.Routes) == 0 {
		fmt.Fprintln(w, "\nNo Type-5 route: no announcement of it can be translated.")
		return
	}
	fmt.Fprintf(w, "\n%s:\n", plural(len(e.Routes), "Type-5 route", "Type-5 routes"))
	for _, r := range e.Routes {
		addr, bits, _ := strings.Cut(r.Prefix, "/")
		fmt.Fprintf(w, "  [5]:[0]:[%s]:[%s] RD %s", bits, addr, r.RD)
		if r.PathID != 0 {
			fmt.Fprintf(w, " path %d", r.PathID)
		}
		fmt.Fprintf(w, ", for worker %s\n", r.Worker)
		if r.GatewayIP != "" {
			fmt.Fprintf(w, "    gateway IP %s, label %d, next hop %s\n", r.GatewayIP, r.Label, r.NextHop)
		} else {
			fmt.Fprintf(w, "    fallback (the worker does not resolve): no gateway IP, label %d, next hop %s, router MAC %s\n",
				r.Label, r.NextHop, r.RouterMAC)
		}
		fmt.Fprintf(w, "    route targets %s, encapsulation VXLAN, origin %s, AS path %s\n",
			strings.Join(r.RouteTargets, " "), r.Origin, dash(r.ASPath))
		fmt.Fprintf(w, "    sent to: %s\n", sentText(r))
	}
}

func renderReload(w io.Writer, r api.Reload) {
	switch {
	case r.Error != "":
		fmt.Fprintf(w, "Reload refused: %s\n", r.Error)
		return
	case len(r.Steps) == 0 && r.DryRun:
		fmt.Fprintln(w, "Nothing to change: the files say what runs.")
		return
	case len(r.Steps) == 0:
		fmt.Fprintln(w, "Reloaded: nothing changed.")
		return
	case r.DryRun:
		fmt.Fprintln(w, "A reload would:")
	default:
		fmt.Fprintln(w, "Reloaded:")
	}
	for _, s := range r.Steps {
		fmt.Fprintf(w, "  %s\n", s)
	}
}

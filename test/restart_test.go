package test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/t5gw/t5gw/test/lab"
)

// restartLabFile reads a file of test/restart-lab.
func restartLabFile(t *testing.T, name string) string { return fileOf(t, "restart-lab", name) }

// restartLabTemplate fills in a template of test/restart-lab.
func restartLabTemplate(t *testing.T, name string, values map[string]any) string {
	return templateOf(t, "restart-lab", name, values)
}

// restartLab is the lab of graceful restart: gobgpd as the fabric peer that
// helps t5gw restart (fab), t5gwd (gw) and a BIRD worker with graceful
// restart on (w1), with a capture of the fabric link.
type restartLab struct {
	fab, gw, w1 *lab.Node
	cfg         string // t5gwd's global config
	stateFile   string // <state-dir>/restart.json
	capture     string // the fabric link, on fab's side
	runs        int    // t5gwd processes started so far
}

// The fabric link and what the worker announces.
const (
	restartFab  = "10.0.0.1"
	restartT5gw = "10.0.0.3"
)

var workerPrefixes = []string{"10.244.1.0/24", "10.96.0.10/32"}

// workerWait is restart-lab/gw/t5gw.yaml's graceful-restart.worker-wait: how
// long a restarted t5gwd waits at most for its worker.
const workerWait = 10 * time.Second

// restartWait bounds a restart: t5gwd waits at most workerWait for its
// worker, gobgpd takes 5 s after a session ends to accept the next.
const restartWait = workerWait + wait

// TestGracefulRestartKeepsRoutesAtAHelper restarts t5gwd under a fabric peer
// that is a graceful-restart helper (RFC 4724) for l2vpn-evpn. After SIGTERM
// or SIGKILL the helper keeps t5gw's Type-5 routes, stale, the whole time
// t5gwd is down; the restarted t5gwd waits for its worker, then refreshes
// them unchanged with End-of-RIB, having withdrawn nothing. SIGUSR2 stops
// it for good: the helper loses the routes at once and the next start is a
// cold one. A worker that does not come back is waited for worker-wait, and
// its routes stay at the helper until then.
func TestGracefulRestartKeepsRoutesAtAHelper(t *testing.T) {
	rl := newRestartLab(t)
	run := rl.startT5gwd(t)
	run.waitReady(t, wait)
	before := rl.waitRoutesFresh(t, "the worker's routes at fab")

	for _, c := range []struct {
		name   string
		sig    syscall.Signal
		status int // of t5gwd as sh reports it: 128+n for a death by signal n
	}{
		{"SIGTERM then start again", syscall.SIGTERM, 0},
		{"SIGKILL then start again", syscall.SIGKILL, 128 + int(syscall.SIGKILL)},
	} {
		t.Run(c.name, func(t *testing.T) {
			rib := watchRIB(rl.fab, before)
			run.signal(t, c.sig)
			if status := run.waitExit(t); status != c.status {
				t.Errorf("t5gwd exit status %d, want %d\n%s", status, c.status, run.proc.Tail(10))
			}
			if workers, err := rl.savedWorkers(); err != nil || !cmp.Equal(workers, map[string][]string{"blue": {w1Addr}}) {
				t.Errorf("restart state after %s: %v %v; want blue: [%s]", c.name, workers, err, w1Addr)
			}
			lab.WaitFor(t, "fab keeps t5gw's routes stale while t5gwd is down", wait, func() (bool, string) {
				return rib.sawAllStale() || !rib.firstMissing().IsZero(), rib.last()
			})
			if _, missing := rib.result(); len(missing) > 0 {
				t.Fatalf("fab lost t5gw's routes while t5gwd was down:\n%s", strings.Join(missing, "\n"))
			}

			run = rl.startT5gwd(t)
			took := run.waitReady(t, restartWait)
			t.Logf("%s: /readyz 200 %s after the start", c.name, took.Round(time.Millisecond))
			after := rl.waitRoutesFresh(t, "the routes refreshed at End-of-RIB")
			rib.stop()

			if polls, missing := rib.result(); polls == 0 || len(missing) > 0 {
				t.Errorf("fab's RIB polled %d times during the restart; %d polls lacked t5gw's routes:\n%s",
					polls, len(missing), strings.Join(missing, "\n"))
			} else {
				t.Logf("%s: fab's RIB polled %d times during the restart, every time with both routes", c.name, polls)
			}
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("t5gw's routes at fab changed across the restart (-before +after):\n%s", diff)
			}
			opens, sent := rl.resync(t, run)
			expectRestartBits(t, run, opens, true)
			expectNoWithdrawal(t, sent)
			lab.WaitFor(t, "t5gwd's metrics after the restart", wait, func() (bool, string) {
				m := scrapeMetrics(t, rl.gw)
				return m[`t5gw_vrf_fabric_updates_total{op="withdraw",vrf="blue"}`] == 0 &&
					m[`t5gw_vrf_routes_advertised{vrf="blue"}`] == 2 && m["t5gw_ready"] == 1, fmt.Sprint(m)
			})
			log := run.log()
			for _, line := range []string{
				`msg="restarting: waiting for the workers that were up before sending End-of-RIB to the fabric" workers=map[blue:[192.168.10.11]]`,
				`msg="restarting: every worker is back"`,
				`msg="fabric neighbors added" neighbors=1 restarting=true`,
			} {
				if !strings.Contains(log, line) {
					t.Errorf("t5gwd's log lacks %s:\n%s", line, log)
				}
			}
		})
	}

	t.Run("SIGUSR2 stops for good", func(t *testing.T) {
		run.signal(t, syscall.SIGUSR2)
		lab.WaitFor(t, "fab has none of t5gw's routes", 10*time.Second, func() (bool, string) {
			paths, last := gobgpEVPN(rl.fab, "global", "rib")
			return paths != nil && len(paths) == 0, last
		})
		if status := run.waitExit(t); status != 0 {
			t.Errorf("t5gwd exit status %d, want 0\n%s", status, run.proc.Tail(10))
		}
		if workers, err := rl.savedWorkers(); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("restart state after SIGUSR2: %v %v; want none", workers, err)
		}
		lab.WaitFor(t, "t5gw's withdrawals in the capture", wait, func() (bool, string) {
			sent, err := tsharkUpdates(rl.fab, rl.capture, restartT5gw)
			if err != nil {
				return false, err.Error()
			}
			var withdrawn []string
			for _, u := range sent {
				withdrawn = append(withdrawn, u.Withdrawn...)
			}
			return len(withdrawn) == len(workerPrefixes), describeUpdates(sent)
		})

		run = rl.startT5gwd(t)
		took := run.waitReady(t, wait)
		rl.waitRoutesFresh(t, "the worker's routes back after a cold start")
		t.Logf("cold start: /readyz 200 %s after the start", took.Round(time.Millisecond))
		opens, _ := rl.resync(t, run)
		expectRestartBits(t, run, opens, false)
		log := run.log()
		if strings.Contains(log, `msg="restarting:`) {
			t.Errorf("t5gwd's log speaks of restarting after a stop for good:\n%s", log)
		}
		if !strings.Contains(log, `msg="fabric neighbors added" neighbors=1 restarting=false`) {
			t.Errorf("t5gwd's log lacks the fabric neighbors added without restarting:\n%s", log)
		}
	})

	t.Run("SIGTERM again while waiting for the worker", func(t *testing.T) {
		before := rl.waitRoutesFresh(t, "the worker's routes at fab")
		rib := watchRIB(rl.fab, before)
		// The worker is away, so the next start waits for it: t5gwd is
		// stopped again during that wait, as a crash loop or a second
		// upgrade would. fab still holds the worker's routes from before
		// the first stop, so the next start must wait for it too.
		run = rl.restartWithoutWorker(t, run)
		run.signal(t, syscall.SIGTERM)
		if status := run.waitExit(t); status != 0 {
			t.Errorf("t5gwd exit status %d, want 0\n%s", status, run.proc.Tail(10))
		}
		if workers, err := rl.savedWorkers(); err != nil || !cmp.Equal(workers, map[string][]string{"blue": {w1Addr}}) {
			t.Errorf("restart state after a stop during the restart wait: %v %v; want blue: [%s], "+
				"the worker whose routes fab still holds from before the first stop", workers, err, w1Addr)
		}

		if out, err := rl.w1.Birdc("enable", "t5gw"); err != nil {
			t.Fatalf("birdc enable t5gw: %v\n%s", err, out)
		}
		run = rl.startT5gwd(t)
		run.waitReady(t, restartWait)
		after := rl.waitRoutesFresh(t, "the routes refreshed at End-of-RIB")
		rib.stop()
		if _, missing := rib.result(); len(missing) > 0 {
			t.Errorf("%d polls of fab's RIB lacked t5gw's routes:\n%s", len(missing), strings.Join(missing, "\n"))
		}
		if diff := cmp.Diff(before, after); diff != "" {
			t.Errorf("t5gw's routes at fab changed across the restarts (-before +after):\n%s", diff)
		}
		if log, line := run.log(), `msg="restarting: waiting for the workers that were up before sending End-of-RIB to the fabric" workers=map[blue:[192.168.10.11]]`; !strings.Contains(log, line) {
			t.Errorf("t5gwd's log lacks %s:\n%s", line, log)
		}
	})

	t.Run("a worker that does not come back is waited for worker-wait", func(t *testing.T) {
		before := rl.waitRoutesFresh(t, "the worker's routes at fab")
		since := time.Now()
		rib := watchRIB(rl.fab, before)
		run = rl.restartWithoutWorker(t, run)
		lab.WaitFor(t, "fab loses t5gw's routes at End-of-RIB, once worker-wait is over", restartWait, func() (bool, string) {
			return !rib.firstMissing().IsZero(), rib.last()
		})
		rib.stop()
		lab.WaitFor(t, "fab holds nothing of t5gw's", wait, func() (bool, string) {
			paths, last := gobgpEVPN(rl.fab, "global", "rib")
			return paths != nil && len(paths) == 0, last
		})
		opens, sent := rl.resync(t, run)
		expectRestartBits(t, run, opens, true)
		expectNoWithdrawal(t, updatesSince(sent, since))
		connected := opens[0].Time.Sub(run.started)
		if connected < workerWait {
			t.Errorf("t5gw connected to the fabric %s after its start, before worker-wait (%s) was over", connected, workerWait)
		}
		if lost := rib.firstMissing(); lost.Before(opens[0].Time) {
			t.Errorf("fab had lost t5gw's routes by %s, before t5gw connected to it at %s",
				lost.Format(time.StampMilli), opens[0].Time.Format(time.StampMilli))
		}
		t.Logf("t5gw connected to the fabric %s after its start; fab kept the routes until then", connected.Round(time.Millisecond))
		if log := run.log(); !strings.Contains(log, `msg="restarting: worker-wait is over; going on without these workers" missing=[192.168.10.11]`) {
			t.Errorf("t5gwd's log does not say it gave up waiting for the worker:\n%s", log)
		}
		run.waitReady(t, wait)

		if out, err := rl.w1.Birdc("enable", "t5gw"); err != nil {
			t.Fatalf("birdc enable t5gw: %v\n%s", err, out)
		}
		rl.waitRoutesFresh(t, "the worker's routes back with the worker")
	})
}

// restartWithoutWorker stops run with SIGTERM, takes the worker's session
// down, and starts t5gwd again: it waits until /readyz says the new run
// waits for the worker, and returns the new run.
func (rl *restartLab) restartWithoutWorker(t *testing.T, run *daemonRun) *daemonRun {
	t.Helper()
	run.signal(t, syscall.SIGTERM)
	if status := run.waitExit(t); status != 0 {
		t.Errorf("t5gwd exit status %d, want 0\n%s", status, run.proc.Tail(10))
	}
	if out, err := rl.w1.Birdc("disable", "t5gw"); err != nil {
		t.Fatalf("birdc disable t5gw: %v\n%s", err, out)
	}
	run = rl.startT5gwd(t)
	lab.WaitFor(t, "/readyz says t5gwd waits for its worker", workerWait/2, func() (bool, string) {
		code, body := readyz(rl.gw)
		return code == "503" && body == "waiting for the workers that were up before the restart", code + " " + body
	})
	return run
}

func newRestartLab(t *testing.T) *restartLab {
	lab.Require(t, "ip", "sh", "bird", "birdc", "gobgpd", "gobgp", "tshark", "curl")
	l := lab.New(t)
	rl := &restartLab{fab: l.Node("fab"), gw: l.Node("gw"), w1: l.Node("w1")}
	l.Link(rl.fab, "eth0", rl.gw, "eth0")
	l.Link(rl.w1, "eth0", rl.gw, "eth1")
	rl.fab.MustRun("ip", "addr", "add", restartFab+"/24", "dev", "eth0")
	rl.gw.MustRun("ip", "addr", "add", restartT5gw+"/24", "dev", "eth0")
	rl.w1.MustRun("ip", "addr", "add", w1Addr+"/24", "dev", "eth0")
	rl.gw.MustRun("ip", "addr", "add", "192.168.10.3/24", "dev", "eth1")

	rl.capture = startCapture(t, rl.fab, "eth0")
	rl.fab.GoBGPd(restartLabFile(t, "fab/gobgpd.toml"))
	waitGoBGPd(t, rl.fab)
	rl.w1.BIRD(restartLabFile(t, "w1/bird.conf"))
	rl.gw.Write("vrfs.d/blue.yaml", restartLabFile(t, "gw/vrfs.d/blue.yaml"))
	rl.cfg = rl.gw.Write("t5gw.yaml", restartLabFile(t, "gw/t5gw.yaml"))
	rl.stateFile = filepath.Join(rl.gw.Dir, "state", "restart.json")
	return rl
}

// daemonRun is one t5gwd process. It runs under sh, which logs its PID and
// its exit status, which the lab harness does not give.
type daemonRun struct {
	name    string
	gw      *lab.Node
	proc    *lab.Proc // sh
	pid     int       // t5gwd
	started time.Time
}

var (
	rePID    = regexp.MustCompile(`(?m)^t5gwd pid (\d+)$`)
	reStatus = regexp.MustCompile(`(?m)^t5gwd exit status (\d+)$`)
)

// startT5gwd starts t5gwd on the lab's config, under a name of its own so
// that every run keeps its log.
func (rl *restartLab) startT5gwd(t *testing.T) *daemonRun {
	t.Helper()
	rl.runs++
	r := &daemonRun{name: fmt.Sprintf("t5gwd-%d", rl.runs), gw: rl.gw, started: time.Now()}
	r.proc = rl.gw.Start(r.name, "sh", "-c", `"$@" & echo "t5gwd pid $!"; wait $!; echo "t5gwd exit status $?"`,
		"sh", t5gwd, "--config", rl.cfg)
	lab.WaitFor(t, r.name+": its PID", 10*time.Second, func() (bool, string) {
		m := rePID.FindStringSubmatch(r.log())
		if m == nil {
			return false, r.proc.Tail(5)
		}
		r.pid, _ = strconv.Atoi(m[1])
		return true, ""
	})
	return r
}

func (r *daemonRun) log() string {
	b, _ := os.ReadFile(r.proc.Log)
	return string(b)
}

func (r *daemonRun) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(r.pid, sig); err != nil {
		t.Fatalf("%s: %v: %v", r.name, sig, err)
	}
}

// waitExit waits until t5gwd has ended and returns its exit status.
func (r *daemonRun) waitExit(t *testing.T) int {
	t.Helper()
	var status int
	lab.WaitFor(t, r.name+" exits", wait, func() (bool, string) {
		m := reStatus.FindStringSubmatch(r.log())
		if m == nil {
			return false, r.proc.Tail(10)
		}
		status, _ = strconv.Atoi(m[1])
		return true, ""
	})
	return status
}

// waitReady waits until /readyz answers 200 "ready" and returns how long
// after the start that was.
func (r *daemonRun) waitReady(t *testing.T, timeout time.Duration) time.Duration {
	t.Helper()
	var ready time.Duration
	lab.WaitFor(t, r.name+": /readyz 200", timeout, func() (bool, string) {
		code, body := readyz(r.gw)
		ready = time.Since(r.started)
		return code == "200" && body == "ready", fmt.Sprintf("/readyz: %s %s\n%s", code, body, r.proc.Tail(10))
	})
	return ready
}

// readyz asks t5gwd's /readyz in gw: its status code ("000" when nothing
// answers) and body.
func readyz(gw *lab.Node) (code, body string) {
	out, _ := gw.Output("curl", "-s", "-m", "2", "-w", "\n%{http_code}", "http://127.0.0.1:9179/readyz")
	out = strings.TrimSpace(out)
	i := strings.LastIndexByte(out, '\n')
	if i < 0 {
		return out, ""
	}
	return out[i+1:], strings.TrimSpace(out[:i])
}

// savedWorkers reads t5gwd's restart state: the workers that were up, by VRF.
func (rl *restartLab) savedWorkers() (map[string][]string, error) {
	b, err := os.ReadFile(rl.stateFile)
	if err != nil {
		return nil, err
	}
	var s struct {
		Workers map[string][]string `json:"workers"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", b, err)
	}
	return s.Workers, nil
}

// isT5gwRoute tells whether a path at fab is one of t5gw's Type-5 routes for
// the worker's prefixes, as t5gw advertises them.
func isT5gwRoute(p evpnPath) bool {
	return p.Type == 5 && p.Neighbor == restartT5gw && p.RD == t5gwRD && p.Gateway == w1Addr &&
		p.Label == 4001 && p.NextHop == restartT5gw
}

// waitRoutesFresh waits until fab holds exactly t5gw's routes for the
// worker's prefixes, none stale, and returns them by prefix.
func (rl *restartLab) waitRoutesFresh(t *testing.T, what string) map[string]evpnPath {
	t.Helper()
	var routes map[string]evpnPath
	lab.WaitFor(t, what, restartWait, func() (bool, string) {
		paths, last := gobgpEVPN(rl.fab, "global", "rib")
		routes = map[string]evpnPath{}
		for _, p := range paths {
			if !isT5gwRoute(p) || p.Stale {
				return false, last
			}
			routes[p.Prefix] = p
		}
		for _, prefix := range workerPrefixes {
			if _, ok := routes[prefix]; !ok {
				return false, last
			}
		}
		return len(paths) == len(workerPrefixes), last
	})
	return routes
}

// ribWatch polls fab's EVPN RIB in the background, every 50 ms, and notes
// each poll that lacks one of the routes it was started with, or holds it
// changed.
type ribWatch struct {
	done, stopped chan struct{}

	mu       sync.Mutex
	polls    int
	missing  []string  // one line per poll that lacked a route
	lost     time.Time // when the first of them had its answer
	allStale bool      // some poll found every route stale
	lastSeen string
}

func watchRIB(fab *lab.Node, want map[string]evpnPath) *ribWatch {
	w := &ribWatch{done: make(chan struct{}), stopped: make(chan struct{})}
	go func() {
		defer close(w.stopped)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-w.done:
				return
			case <-tick.C:
			}
			paths, last := gobgpEVPN(fab, "global", "rib")
			polled := time.Now() // the RIB was as seen at the latest then
			var lacks []string
			stale := paths != nil
			for prefix, r := range want {
				found := false
				for _, p := range paths {
					if p.Prefix == prefix && isT5gwRoute(p) && p.Gateway == r.Gateway && p.Label == r.Label && p.RD == r.RD {
						found = true
						stale = stale && p.Stale
					}
				}
				if !found {
					lacks = append(lacks, prefix)
				}
			}
			w.mu.Lock()
			w.polls++
			w.lastSeen = last
			if len(lacks) > 0 && w.lost.IsZero() {
				w.lost = polled
			}
			if len(lacks) > 0 {
				w.missing = append(w.missing, fmt.Sprintf("%s: lacks %v; %s", polled.Format(time.StampMilli), lacks, last))
			} else if stale {
				w.allStale = true
			}
			w.mu.Unlock()
		}
	}()
	return w
}

func (w *ribWatch) sawAllStale() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.allStale
}

func (w *ribWatch) last() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastSeen
}

// firstMissing is when the first poll that lacked a route had its answer:
// the route was gone by then. Zero if no poll lacked one.
func (w *ribWatch) firstMissing() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lost
}

func (w *ribWatch) stop() {
	close(w.done)
	<-w.stopped
}

// result is how many polls were made and a line for each that lacked a route.
func (w *ribWatch) result() (int, []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.polls, w.missing
}

// openMsg is an OPEN as tshark decodes it: when it was captured, and the
// graceful restart capability's Restart State (R) bit and l2vpn-evpn
// Forwarding State (F) bit.
type openMsg struct {
	Frame                       int
	Time                        time.Time
	RestartState, ForwardingSet bool
}

// tsharkOpens decodes the OPENs src sent in capture.
func tsharkOpens(n *lab.Node, capture, src string) ([]openMsg, error) {
	out, err := n.Output("tshark", "-r", capture, "-Y", "bgp.type == 1 && ip.src == "+src, "-T", "fields",
		"-e", "frame.number", "-e", "frame.time_epoch", "-e", "bgp.cap.gr.timers.restart_flag", "-e", "bgp.cap.gr.flag.pfs")
	if err != nil {
		return nil, err
	}
	var opens []openMsg
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			continue
		}
		frame, _ := strconv.Atoi(f[0])
		epoch, _ := strconv.ParseFloat(f[1], 64)
		set := func(s string) bool { return s == "1" || s == "True" }
		opens = append(opens, openMsg{Frame: frame, Time: time.UnixMicro(int64(epoch * 1e6)),
			RestartState: set(f[2]), ForwardingSet: set(f[3])})
	}
	return opens, nil
}

// resync waits until the capture holds the OPEN that run sent and an
// End-of-RIB after it, and returns run's OPENs and every UPDATE t5gw has
// sent.
func (rl *restartLab) resync(t *testing.T, run *daemonRun) ([]openMsg, []capturedUpdate) {
	t.Helper()
	var sent []capturedUpdate
	var opens []openMsg
	lab.WaitFor(t, run.name+"'s OPEN and End-of-RIB in the capture", wait, func() (bool, string) {
		all, err := tsharkOpens(rl.fab, rl.capture, restartT5gw)
		if err != nil {
			return false, err.Error()
		}
		if sent, err = tsharkUpdates(rl.fab, rl.capture, restartT5gw); err != nil {
			return false, err.Error()
		}
		opens = nil
		for _, o := range all {
			if o.Time.After(run.started) {
				opens = append(opens, o)
			}
		}
		if len(opens) == 0 {
			return false, fmt.Sprintf("no OPEN from t5gw since %s\n%s", run.started.Format(time.StampMicro), describeUpdates(sent))
		}
		for _, u := range sent {
			if f, _ := strconv.Atoi(u.Frame); f > opens[0].Frame && u.EndOfRIB {
				return true, ""
			}
		}
		return false, fmt.Sprintf("no End-of-RIB after the OPEN in frame %d\n%s", opens[0].Frame, describeUpdates(sent))
	})
	return opens, sent
}

// expectRestartBits checks that every OPEN of run told the fabric peer
// whether t5gw restarted: the R bit and l2vpn-evpn's F bit set after a
// restart, clear after a cold start.
func expectRestartBits(t *testing.T, run *daemonRun, opens []openMsg, restarting bool) {
	t.Helper()
	for _, o := range opens {
		if o.RestartState != restarting || o.ForwardingSet != restarting {
			t.Errorf("%s's OPEN in frame %d: restart state %v, forwarding state %v; want both %v",
				run.name, o.Frame, o.RestartState, o.ForwardingSet, restarting)
		}
	}
}

// updatesSince keeps the UPDATEs captured after since.
func updatesSince(updates []capturedUpdate, since time.Time) []capturedUpdate {
	var out []capturedUpdate
	for _, u := range updates {
		if u.Time.After(since) {
			out = append(out, u)
		}
	}
	return out
}

// expectNoWithdrawal checks that t5gw never withdrew anything: no UPDATE
// with an NLRI in its MP_UNREACH_NLRI, every MP_UNREACH_NLRI an End-of-RIB
// marker.
func expectNoWithdrawal(t *testing.T, sent []capturedUpdate) {
	t.Helper()
	unreach := 0
	for _, u := range sent {
		if u.Unreach {
			unreach++
		}
		if len(u.Withdrawn) > 0 || u.Unreach && !u.EndOfRIB {
			t.Errorf("t5gw sent a withdrawal in frame %s:\n%s", u.Frame, describeUpdates([]capturedUpdate{u}))
		}
	}
	t.Logf("t5gw has sent %d UPDATEs, %d with MP_UNREACH_NLRI, each an End-of-RIB marker", len(sent), unreach)
}

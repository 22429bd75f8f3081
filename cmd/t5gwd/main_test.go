package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/t5gw/t5gw/test/poll"
)

// syncBuffer is a log sink the daemon writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// loopbackConfig writes a config whose speakers listen on free loopback ports
// and whose fabric neighbor does not exist; it returns the global file and the
// metrics address.
func loopbackConfig(t *testing.T) (string, string) {
	dir := t.TempDir()
	metrics := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	writeFile(t, filepath.Join(dir, "t5gw.yaml"), fmt.Sprintf(`
router-id: 10.0.0.3
asn: 65000
fabric:
  neighbors: [{address: 127.0.0.2, asn: 65000, port: %d}]
metrics: %s
state-dir: %s
`, freePort(t), metrics, filepath.Join(dir, "state")))
	writeFile(t, filepath.Join(dir, "vrfs.d", "blue.yaml"), vrfFile("blue", 4001, freePort(t)))
	return filepath.Join(dir, "t5gw.yaml"), metrics
}

func vrfFile(name string, vni, port int) string {
	return fmt.Sprintf(`
name: %s
l3vni: %d
workers:
  listen: [127.0.0.1]
  port: %d
  peers: [{range: 127.0.0.0/24, asn: 65011}]
  accept: ["10.244.0.0/16 le 32"]
`, name, vni, port)
}

func scrape(addr string) string {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return b.String()
}

func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	poll.Until(t, what, 10*time.Second, cond)
}

// startRun runs the daemon on global until the test ends, when it must
// return without error; it returns the reload channel and the log.
func startRun(t *testing.T, global string) (chan<- os.Signal, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	reload := make(chan os.Signal, 1)
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"--config", global}, logs, reload) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return reload, logs
}

func TestCheckConfig(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--check-config", "../../examples/t5gw.yaml"}, &out, nil); err != nil {
		t.Fatalf("valid example: %v", err)
	}
	if !strings.Contains(out.String(), "valid, 1 VRF(s)") {
		t.Errorf("output %q does not say the config is valid", out.String())
	}
	global, _ := loopbackConfig(t)
	vrf := filepath.Join(filepath.Dir(global), "vrfs.d", "blue.yaml")
	writeFile(t, vrf, strings.Replace(vrfFile("blue", 4001, 1179), "l3vni: 4001", "l3vni: 0", 1))
	err := run(context.Background(), []string{"--check-config", global}, &out, nil)
	if err == nil || !strings.Contains(err.Error(), vrf+`: l3vni: "0" is outside 1..16777215`) {
		t.Errorf("broken config: got %v, want an error naming file, field and value", err)
	}
	err = run(context.Background(), []string{"--config", global}, &out, nil)
	if err == nil || !strings.Contains(err.Error(), "nothing started") {
		t.Errorf("starting with a broken config: got %v, want a refusal", err)
	}
}

func TestReloadKeepsRunningConfigOnError(t *testing.T) {
	global, metrics := loopbackConfig(t)
	dir := filepath.Dir(global)
	reload, logs := startRun(t, global)
	waitFor(t, "daemon up", func() (bool, string) {
		m := scrape(metrics)
		return strings.Contains(m, `t5gw_vrf_routes_advertised{vrf="blue"} 0`), m + logs.String()
	})

	// A broken VRF file: the reload is refused, blue keeps running.
	writeFile(t, filepath.Join(dir, "vrfs.d", "red.yaml"), "name: red\nl3vni: 99999999\n")
	reload <- nil
	waitFor(t, "reload refused", func() (bool, string) {
		m := scrape(metrics)
		return strings.Contains(m, `t5gw_config_reloads_total{result="failure"} 1`), m
	})
	if m := scrape(metrics); !strings.Contains(m, `vrf="blue"`) || strings.Contains(m, `vrf="red"`) {
		t.Errorf("after a refused reload the metrics show:\n%s", m)
	}
	if !strings.Contains(logs.String(), `red.yaml: l3vni: \"99999999\" is outside 1..16777215`) {
		t.Errorf("log does not name the bad field:\n%s", logs.String())
	}

	// Fixed: red starts, blue is untouched.
	writeFile(t, filepath.Join(dir, "vrfs.d", "red.yaml"), vrfFile("red", 4002, freePort(t)))
	reload <- nil
	waitFor(t, "reload applied", func() (bool, string) {
		m := scrape(metrics)
		return strings.Contains(m, `t5gw_config_reloads_total{result="success"} 1`) &&
			strings.Contains(m, `t5gw_vrf_routes_advertised{vrf="red"} 0`), m
	})
	// blue started once, at the start, and was not started again.
	if n := strings.Count(logs.String(), `msg="vrf started" vrf=blue`); n != 1 {
		t.Errorf("blue started %d times, want once:\n%s", n, logs.String())
	}
}

func TestMetricNames(t *testing.T) {
	global, metrics := loopbackConfig(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"--config", global}, &syncBuffer{}, nil) }()
	defer func() { cancel(); <-done }()
	var body string
	waitFor(t, "metrics", func() (bool, string) {
		body = scrape(metrics)
		return strings.Contains(body, "t5gw_vrf_routes_refused") && strings.Contains(body, "bgp_peer_state{") &&
			strings.Contains(body, "t5gw_vrf_reconcile_duration_seconds_bucket"), body
	})
	for _, name := range []string{"go_memstats_heap_alloc_bytes", "process_resident_memory_bytes", "process_cpu_seconds_total"} {
		if !strings.Contains(body, "\n"+name+" ") {
			t.Errorf("metrics lack %s", name)
		}
	}
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		// GoBGP's own collector (bgp_*) types its gauges as counters; it is
		// taken as it is (docs/upstream/gobgp-collector-types.md).
		if !strings.HasPrefix(p.Metric, "bgp_") {
			t.Errorf("metric %s: %s", p.Metric, p.Text)
		}
	}
	for _, want := range []string{`bgp_peer_state{admin_state=`, `speaker="fabric"`, "t5gw_vrf_reconcile_duration_seconds_bucket"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// A VRF whose device is missing waits for it, and neither stops the daemon
// nor keeps the other VRFs from running; /readyz says why t5gwd is not ready.
func TestMissingVRFDeviceWaitsAndOthersRun(t *testing.T) {
	global, metrics := loopbackConfig(t)
	dir := filepath.Dir(global)
	vrfPath := filepath.Join(dir, "vrfs.d", "blue.yaml")
	writeFile(t, vrfPath, "device: vrf-t5gw-none\n"+vrfFile("blue", 4001, freePort(t)))
	writeFile(t, filepath.Join(dir, "vrfs.d", "red.yaml"), vrfFile("red", 4002, freePort(t)))
	_, logs := startRun(t, global)
	waitFor(t, "red runs, blue waits", func() (bool, string) {
		m := scrape(metrics)
		return strings.Contains(m, `t5gw_vrf_running{vrf="red"} 1`) && strings.Contains(m, `t5gw_vrf_running{vrf="blue"} 0`), m + logs.String()
	})
	want := "vrf blue (" + vrfPath + "): device vrf-t5gw-none: not found"
	waitFor(t, "/readyz names the missing device", func() (bool, string) {
		code, body := get(metrics, "/readyz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, want), fmt.Sprint(code, " ", body)
	})
	if !strings.Contains(logs.String(), "vrf cannot start yet; retrying") {
		t.Errorf("log does not say the VRF is retried:\n%s", logs.String())
	}
}

func get(addr, path string) (int, string) {
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

func TestReloadThatCannotStartRestoresRunningConfig(t *testing.T) {
	global, metrics := loopbackConfig(t)
	reload, logs := startRun(t, global)
	waitFor(t, "daemon up", func() (bool, string) {
		m := scrape(metrics)
		return strings.Contains(m, `t5gw_vrf_routes_advertised{vrf="blue"} 0`), m + logs.String()
	})

	// A valid config whose fabric listener cannot bind: an address this host does not have.
	body, err := os.ReadFile(global)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, global, strings.Replace(string(body), "fabric:\n", "fabric:\n  listen: [192.0.2.1]\n", 1))
	reload <- nil
	waitFor(t, "failed reload counted", func() (bool, string) {
		m := scrape(metrics)
		return strings.Contains(m, `t5gw_config_reloads_total{result="failure"} 1`), m
	})
	waitFor(t, "running config restored", func() (bool, string) {
		m := scrape(metrics)
		return strings.Contains(m, `t5gw_vrf_routes_advertised{vrf="blue"} 0`), m + logs.String()
	})
	if !strings.Contains(logs.String(), "went back to the running one") {
		t.Errorf("log does not say it went back:\n%s", logs.String())
	}
}

// A new router-id restarts everything; when the new config then does not
// start, the running one starts again.
func TestRestartThatCannotStartGoesBack(t *testing.T) {
	global, metrics := loopbackConfig(t)
	reload, logs := startRun(t, global)
	waitFor(t, "daemon up", func() (bool, string) {
		m := scrape(metrics)
		return strings.Contains(m, `t5gw_vrf_running{vrf="blue"} 1`), m + logs.String()
	})
	body, err := os.ReadFile(global)
	if err != nil {
		t.Fatal(err)
	}
	next := strings.Replace(string(body), "router-id: 10.0.0.3", "router-id: 10.0.0.4", 1)
	writeFile(t, global, strings.Replace(next, "fabric:\n", "fabric:\n  listen: [192.0.2.1]\n", 1))
	reload <- syscall.SIGHUP
	waitFor(t, "failed reload counted, blue running again", func() (bool, string) {
		m := scrape(metrics)
		return strings.Contains(m, `t5gw_config_reloads_total{result="failure"} 1`) &&
			strings.Contains(m, `t5gw_vrf_running{vrf="blue"} 1`), m + logs.String()
	})
	if !strings.Contains(logs.String(), "restarting every speaker gracefully") || !strings.Contains(logs.String(), "went back to the running one") {
		t.Errorf("log does not say it restarted and went back:\n%s", logs.String())
	}
}

// TestHelpAndVersion: --help and --version exit 0 with text a person can
// start from; an unknown flag is an error.
func TestHelpAndVersion(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
		ok   bool
	}{
		{[]string{"--help"}, []string{"Usage: t5gwd", "--check-config", "SIGHUP", "-state-dir"}, true},
		{[]string{"-h"}, []string{"Usage: t5gwd"}, true},
		{[]string{"--version"}, []string{"t5gwd ", "GoBGP v4.", "go1."}, true},
		{[]string{"--bogus"}, []string{"flag provided but not defined"}, false},
	} {
		var out syncBuffer
		err := run(context.Background(), tc.args, &out, nil)
		if (err == nil) != tc.ok {
			t.Errorf("%v: err %v, want ok %v", tc.args, err, tc.ok)
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%v: output lacks %q:\n%s", tc.args, w, out.String())
			}
		}
	}
}

// metricRef finds the metric names a PromQL expression uses.
var metricRef = regexp.MustCompile(`\b(?:t5gw|bgp|process|go)_[a-z0-9_]+\b`)

// TestDashboardUsesOnlyExposedMetrics loads the Grafana dashboard and checks
// that every metric its panels query is one a running t5gwd exposes.
func TestDashboardUsesOnlyExposedMetrics(t *testing.T) {
	b, err := os.ReadFile("../../docs/grafana/t5gw-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	global, metrics := loopbackConfig(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"--config", global}, &syncBuffer{}, nil) }()
	defer func() { cancel(); <-done }()
	exposed := map[string]bool{}
	waitFor(t, "metrics with a reconcile and the fabric speaker's sessions", func() (bool, string) {
		body := scrape(metrics)
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, "# TYPE ") {
				f := strings.Fields(line)
				exposed[f[2]] = true
				if f[3] == "histogram" {
					exposed[f[2]+"_bucket"], exposed[f[2]+"_sum"], exposed[f[2]+"_count"] = true, true, true
				}
			}
		}
		return exposed["t5gw_vrf_reconcile_duration_seconds"] && exposed["bgp_peer_state"], body
	})
	used := 0
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q queries nothing", p.Title)
		}
		for _, tg := range p.Targets {
			for _, name := range metricRef.FindAllString(tg.Expr, -1) {
				used++
				if !exposed[name] {
					t.Errorf("panel %q uses %s, which t5gwd does not expose", p.Title, name)
				}
			}
		}
	}
	if used < 15 {
		t.Errorf("the dashboard uses only %d metrics", used)
	}
}

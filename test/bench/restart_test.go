package bench

import (
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/t5gw/t5gw/test/lab"
)

// helperRestart, when set, makes the monitor a graceful-restart helper with
// that restart time.
var helperRestart time.Duration

// BenchmarkRestart measures what a restart of t5gwd costs the fabric at
// 100 workers x 1,000 prefixes: the monitor is a graceful-restart helper;
// t5gwd is stopped with SIGTERM (as systemctl restart does) and started
// again, the workers connect again and send their routes, and the monitor
// counts, from the new start until t5gwd's End-of-RIB, the UPDATEs, the
// routes announced again unchanged or changed, and the stale routes dropped.
// Writes docs/restart.md.
func BenchmarkRestart(b *testing.B) {
	lab.Require(b, "ip")
	sc := scale{100, 1000}
	helperRestart = 120 * time.Second
	defer func() { helperRestart = 0 }()
	var doc string
	b.Run("t5gw/100x1000", func(b *testing.B) {
		e := setup(b, sysT5GW, sc)
		_, converged := e.connect(b)
		e.m.ResetRestart()
		before, _ := e.m.Updates()
		d := e.sut[0]
		if err := d.Signal(syscall.SIGTERM); err != nil {
			b.Fatal(err)
		}
		lab.WaitFor(b, "t5gwd stopped", time.Minute, func() (bool, string) { return d.Exited(), d.Tail(5) })
		for i, w := range e.workers {
			if w != nil {
				w.Close()
				e.workers[i] = nil
			}
		}
		held := e.m.Held()
		start := time.Now()
		e.sut[0] = d.Restart()
		e.before, _ = UsageOf(e.sut[0].Pid())
		lab.WaitFor(b, "t5gwd listening for workers again", time.Minute, func() (bool, string) {
			err := inNetns(e.inj.NS, func() error {
				c, err := net.DialTimeout("tcp", e.remote.String(), time.Second)
				if err == nil {
					c.Close()
				}
				return err
			})
			return err == nil, fmt.Sprint(err, e.sut[0].Tail(5))
		})
		up, _ := e.connect(b) // the workers come back; the helper still holds every route
		var eor time.Time
		lab.WaitFor(b, "t5gwd's End-of-RIB at the helper", 5*time.Minute, func() (bool, string) {
			_, _, _, eor = e.m.RestartSeen()
			return !eor.IsZero(), e.sut[0].Tail(5)
		})
		after, _ := e.m.Updates()
		same, changed, swept, _ := e.m.RestartSeen()
		usage, _ := UsageOf(e.sut[0].Pid())
		if e.m.Held() != sc.N*sc.M {
			b.Errorf("the helper holds %d routes after the restart, want %d", e.m.Held(), sc.N*sc.M)
		}
		doc = fmt.Sprintf("# What a restart of t5gwd costs the fabric\n\nWritten by `make bench` (BenchmarkRestart) on %s.\n\n"+
			"%d workers x %d prefixes (%d routes) converged in %s through t5gwd, its one fabric peer a graceful-restart "+
			"helper (the bench's monitor, restart time %s). t5gwd is stopped with SIGTERM (what `systemctl restart` does), "+
			"the helper keeps its %d routes, stale; t5gwd starts again from its restart state, its workers connect again "+
			"and send their routes, and it opens the fabric session once they are back.\n\n"+
			"| from t5gwd's start | |\n|---|---|\n"+
			"| worker sessions up again | %s |\n| End-of-RIB at the helper | %s |\n"+
			"| UPDATEs the helper received | %d |\n| routes announced again, unchanged | %d |\n"+
			"| routes announced again, changed | %d |\n| stale routes dropped at End-of-RIB | %d |\n"+
			"| routes the helper held throughout | %d of %d |\n| t5gwd CPU until then | %.1f s |\n\n"+
			"A change is any difference in the route's NLRI (RD, gateway IP, label) or attributes; the target is none. "+
			"RFC 4724 has the restarting speaker send every route again, so the UPDATEs are the table's worth; "+
			"a helper that compares them with what it kept changes nothing in its forwarding.\n",
			machine(), sc.N, sc.M, sc.N*sc.M, converged.Round(time.Millisecond), helperRestart, held,
			up.Round(time.Millisecond), eor.Sub(start).Round(time.Millisecond), after-before, same, changed, swept,
			held, sc.N*sc.M, usage.CPUSeconds-e.before.CPUSeconds)
	})
	if doc != "" {
		if err := os.WriteFile(docPath("restart.md"), []byte(doc), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

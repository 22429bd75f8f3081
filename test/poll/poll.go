// Package poll waits for an expected state in tests: it polls a condition
// until it holds or a deadline passes, then fails with the last state seen.
package poll

import (
	"fmt"
	"testing"
	"time"
)

// Until polls cond until it reports true or timeout passes; then it fails the
// test, saying what was awaited and the last state cond reported. It polls
// every timeout/200, between 10 and 100 ms, so a condition that runs a
// command is not run more often than it needs.
func Until[S any](t testing.TB, what string, timeout time.Duration, cond func() (bool, S)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	every := min(max(timeout/200, 10*time.Millisecond), 100*time.Millisecond)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached in %s; last state:\n%s", what, timeout, fmt.Sprint(last))
		}
		time.Sleep(every)
	}
}

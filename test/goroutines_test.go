package test

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/t5gw/t5gw/test/lab"
)

// goroutineCount is t5gwd's goroutines, from its goroutine profile on the
// API socket: in all, and those that run a GoBGP session's outgoing-message
// buffer: one per session, and those GoBGP leaves behind when a session
// ends (docs/upstream/gobgp-fsm-channel-leak.md).
type goroutineCount struct{ all, buffers int }

func (g goroutineCount) String() string {
	return fmt.Sprintf("%d goroutines (%d of them GoBGP session buffers)", g.all, g.buffers)
}

// goroutines reads the goroutine profile of the t5gwd whose API is socket.
func goroutines(gw *lab.Node, socket string) (goroutineCount, error) {
	out, err := gw.Output("curl", "-sf", "--unix-socket", socket, "http://t5gwd/debug/pprof/goroutine?debug=1")
	if err != nil {
		return goroutineCount{}, fmt.Errorf("goroutine profile: %v %s", err, out)
	}
	return parseGoroutines(out)
}

// parseGoroutines reads a goroutine profile in its debug=1 text form: groups
// of "N @ addresses" followed by their stack's "#" lines.
func parseGoroutines(profile string) (goroutineCount, error) {
	var g goroutineCount
	n := 0
	for _, line := range strings.Split(profile, "\n") {
		switch {
		case strings.Contains(line, " @ "):
			var err error
			if n, err = strconv.Atoi(strings.Fields(line)[0]); err != nil {
				return g, fmt.Errorf("goroutine profile line %q: %v", line, err)
			}
			g.all += n
		case strings.HasPrefix(line, "#") && strings.Contains(line, "channels.(*InfiniteChannel).infiniteBuffer"):
			g.buffers += n
		}
	}
	if g.all == 0 {
		return g, fmt.Errorf("no goroutines in the profile:\n%.300s", profile)
	}
	return g, nil
}

package bench

import (
	"net"
	"net/netip"
	"sync"
	"time"

	bgppkt "github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// Monitor is a lean BGP receiver: it accepts sessions, decodes UPDATEs with
// GoBGP's packet library and keeps only the set of prefixes it holds (IPv4
// unicast, or the prefixes of EVPN Type-5 routes). No RIB, no best path.
type Monitor struct {
	ln  net.Listener
	asn uint32
	id  netip.Addr

	mu       sync.Mutex
	held     map[netip.Prefix]int // prefix -> how many sessions announce it
	sessions int
	watch    map[netip.Prefix]chan time.Time
	errs     []error
	updates  int       // UPDATE messages received, over every session
	last     time.Time // when the last one came
	help     *helper   // set: a graceful-restart helper (helper.go)
}

// Listen starts a monitor on addr in namespace ns.
func Listen(ns string, addr netip.AddrPort, asn uint32) (*Monitor, error) {
	m := &Monitor{asn: asn, id: addr.Addr(), held: map[netip.Prefix]int{}, watch: map[netip.Prefix]chan time.Time{}}
	err := inNetns(ns, func() error {
		var err error
		m.ln, err = net.Listen("tcp", addr.String())
		return err
	})
	if err != nil {
		return nil, err
	}
	go m.accept()
	return m, nil
}

// Close stops accepting; sessions end with their peers.
func (m *Monitor) Close() { m.ln.Close() }

func (m *Monitor) accept() {
	for {
		c, err := m.ln.Accept()
		if err != nil {
			return
		}
		go m.session(c)
	}
}

func (m *Monitor) session(c net.Conn) {
	defer c.Close()
	caps := []bgppkt.ParameterCapabilityInterface{
		bgppkt.NewCapMultiProtocol(bgppkt.RF_IPv4_UC), bgppkt.NewCapMultiProtocol(bgppkt.RF_EVPN),
		bgppkt.NewCapFourOctetASNumber(m.asn)}
	if m.help != nil {
		caps = append(caps, m.help.capability())
	}
	open, _ := bgppkt.NewBGPOpenMessage(uint16(m.asn), ourHold, m.id,
		[]bgppkt.OptionParameterInterface{bgppkt.NewOptionParameterCapability(caps)})
	ka, _ := bgppkt.NewBGPKeepAliveMessage().Serialize()
	ob, _ := open.Serialize()
	var wmu sync.Mutex
	write := func(b []byte) { wmu.Lock(); _, _ = c.Write(b); wmu.Unlock() }
	write(ob)
	write(ka)
	done := make(chan struct{})
	defer close(done)
	first, err := readMessage(c)
	if err != nil || first[18] != bgppkt.BGP_MSG_OPEN {
		return
	}
	go func() {
		t := time.NewTicker(negotiatedHold(first) / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				write(ka)
			}
		}
	}()
	counted := false
	mine := map[netip.Prefix]bool{}
	defer func() {
		m.mu.Lock()
		for p := range mine {
			if m.help != nil {
				m.help.stale[p] = true // kept, as a helper does
				continue
			}
			m.drop(p)
		}
		if counted {
			m.sessions--
		}
		m.mu.Unlock()
	}()
	for {
		b, err := readMessage(c)
		if err != nil {
			return
		}
		switch b[18] {
		case bgppkt.BGP_MSG_KEEPALIVE:
			if !counted {
				counted = true
				m.mu.Lock()
				m.sessions++
				m.mu.Unlock()
			}
		case bgppkt.BGP_MSG_UPDATE:
			msg, err := bgppkt.ParseBGPMessage(b)
			if err != nil {
				m.mu.Lock()
				m.errs = append(m.errs, err)
				m.mu.Unlock()
				continue
			}
			u := msg.Body.(*bgppkt.BGPUpdate)
			m.update(u, mine, time.Now())
			if eor, _ := u.IsEndOfRib(); eor && m.help != nil {
				m.mu.Lock()
				m.help.endOfRIB(m, time.Now())
				m.mu.Unlock()
			}
		}
	}
}

func (m *Monitor) update(u *bgppkt.BGPUpdate, mine map[netip.Prefix]bool, at time.Time) {
	var add, del []netip.Prefix
	for _, n := range u.WithdrawnRoutes {
		del = append(del, prefixOf(n.NLRI))
	}
	for _, n := range u.NLRI {
		add = append(add, prefixOf(n.NLRI))
	}
	for _, a := range u.PathAttributes {
		switch a := a.(type) {
		case *bgppkt.PathAttributeMpReachNLRI:
			for _, n := range a.Value {
				add = append(add, prefixOf(n.NLRI))
			}
		case *bgppkt.PathAttributeMpUnreachNLRI:
			for _, n := range a.Value {
				del = append(del, prefixOf(n.NLRI))
			}
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.updates++
	m.last = at
	for _, p := range del {
		if mine[p] {
			delete(mine, p)
			m.drop(p)
		}
	}
	if m.help != nil {
		m.help.fingerprints(u)
	}
	for _, p := range add {
		if !p.IsValid() || mine[p] {
			continue // an implicit replace
		}
		mine[p] = true
		if m.help != nil && m.help.stale[p] {
			delete(m.help.stale, p) // announced again after the restart: still held once
			continue
		}
		m.held[p]++
		if ch, ok := m.watch[p]; ok {
			delete(m.watch, p)
			ch <- at
		}
	}
}

func (m *Monitor) drop(p netip.Prefix) {
	if m.held[p] <= 1 {
		delete(m.held, p)
	} else {
		m.held[p]--
	}
}

func prefixOf(n bgppkt.NLRI) netip.Prefix {
	switch n := n.(type) {
	case *bgppkt.IPAddrPrefix:
		return n.Prefix
	case *bgppkt.EVPNNLRI:
		if r, ok := n.RouteTypeData.(*bgppkt.EVPNIPPrefixRoute); ok {
			return netip.PrefixFrom(r.IPPrefix, int(r.IPPrefixLength))
		}
	}
	return netip.Prefix{}
}

// Held is how many distinct prefixes the monitor holds.
func (m *Monitor) Held() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.held)
}

// Updates is how many UPDATE messages the monitor has received, and when
// the last one came.
func (m *Monitor) Updates() (int, time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.updates, m.last
}

// WaitQuiet polls until the monitor holds n prefixes and has received no
// UPDATE for quiet, and returns when the last one came, or false at the
// deadline.
func (m *Monitor) WaitQuiet(n int, quiet time.Duration, deadline time.Time) (time.Time, bool) {
	for {
		_, last := m.Updates()
		if m.Held() == n && time.Since(last) >= quiet {
			return last, true
		}
		if time.Now().After(deadline) {
			return time.Time{}, false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Sessions is how many sessions are established.
func (m *Monitor) Sessions() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sessions
}

// Errors returns the UPDATEs it could not decode.
func (m *Monitor) Errors() []error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]error(nil), m.errs...)
}

// Watch returns a channel that receives the time p arrives.
func (m *Monitor) Watch(p netip.Prefix) <-chan time.Time {
	ch := make(chan time.Time, 1)
	m.mu.Lock()
	m.watch[p] = ch
	m.mu.Unlock()
	return ch
}

// WaitHeld polls until the monitor holds n prefixes and returns when that was
// seen, or false at the deadline.
func (m *Monitor) WaitHeld(n int, deadline time.Time) (time.Time, bool) {
	for {
		if m.Held() == n {
			return time.Now(), true
		}
		if time.Now().After(deadline) {
			return time.Time{}, false
		}
		time.Sleep(2 * time.Millisecond)
	}
}

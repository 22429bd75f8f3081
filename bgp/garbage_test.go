package bgp

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	bgppkt "github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// rawSession is a hand-driven BGP session, for sending what no real router
// would send.
type rawSession struct {
	t    *testing.T
	conn net.Conn
}

func dialRaw(t *testing.T, local string, port uint16, asn uint16) *rawSession {
	t.Helper()
	s, first := tryRaw(t, local, port, asn)
	if first.Header.Type != bgppkt.BGP_MSG_OPEN {
		t.Fatalf("expected OPEN, got type %d (%+v)", first.Header.Type, first.Body)
	}
	s.send(bgppkt.NewBGPKeepAliveMessage())
	return s
}

// tryRaw connects from local and sends an OPEN; it returns the session and
// the first message t5gw answers with (Type 0 when it closed the connection).
func tryRaw(t *testing.T, local string, port uint16, asn uint16) (*rawSession, *bgppkt.BGPMessage) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return &rawSession{t: t, conn: nopConn{}}, &bgppkt.BGPMessage{}
	}
	t.Cleanup(func() { conn.Close() })
	s := &rawSession{t: t, conn: conn}
	caps := []bgppkt.ParameterCapabilityInterface{
		bgppkt.NewCapMultiProtocol(bgppkt.RF_IPv4_UC), bgppkt.NewCapFourOctetASNumber(uint32(asn)),
	}
	open, _ := bgppkt.NewBGPOpenMessage(asn, 90, netip.MustParseAddr(local),
		[]bgppkt.OptionParameterInterface{bgppkt.NewOptionParameterCapability(caps)})
	if b, err := open.Serialize(); err == nil {
		_, _ = conn.Write(b)
	}
	return s, s.read()
}

// nopConn stands for a connection that was refused.
type nopConn struct{ net.Conn }

func (nopConn) Read([]byte) (int, error)        { return 0, io.EOF }
func (nopConn) SetReadDeadline(time.Time) error { return nil }
func (nopConn) Close() error                    { return nil }

// announce sends one UPDATE with prefixes, next hop local and AS path asn.
func (s *rawSession) announce(asn uint16, nexthop string, prefixes ...string) {
	nh, _ := bgppkt.NewPathAttributeNextHop(netip.MustParseAddr(nexthop))
	attrs := []bgppkt.PathAttributeInterface{bgppkt.NewPathAttributeOrigin(0),
		bgppkt.NewPathAttributeAsPath([]bgppkt.AsPathParamInterface{bgppkt.NewAs4PathParam(bgppkt.BGP_ASPATH_ATTR_TYPE_SEQ, []uint32{uint32(asn)})}), nh}
	var nlri []bgppkt.PathNLRI
	for _, p := range prefixes {
		n, _ := bgppkt.NewIPAddrPrefix(netip.MustParsePrefix(p))
		nlri = append(nlri, bgppkt.PathNLRI{NLRI: n})
	}
	s.send(bgppkt.NewBGPUpdateMessage(nil, attrs, nlri))
}

// notification reads until a NOTIFICATION or the end of the session.
func (s *rawSession) notification() *bgppkt.BGPNotification {
	for m := s.read(); m.Header.Type != 0; m = s.read() {
		if n, ok := m.Body.(*bgppkt.BGPNotification); ok {
			return n
		}
	}
	return nil
}

func (s *rawSession) send(m *bgppkt.BGPMessage) {
	b, err := m.Serialize()
	if err != nil {
		s.t.Fatal(err)
	}
	s.write(b)
}

func (s *rawSession) write(b []byte) {
	if _, err := s.conn.Write(b); err != nil {
		s.t.Fatal(err)
	}
}

// read returns the next message, or a zero message with Type 0 at EOF.
func (s *rawSession) read() *bgppkt.BGPMessage {
	_ = s.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	hdr := make([]byte, bgppkt.BGP_HEADER_LENGTH)
	if _, err := io.ReadFull(s.conn, hdr); err != nil {
		return &bgppkt.BGPMessage{}
	}
	body := make([]byte, int(binary.BigEndian.Uint16(hdr[16:18]))-bgppkt.BGP_HEADER_LENGTH)
	if _, err := io.ReadFull(s.conn, body); err != nil {
		return &bgppkt.BGPMessage{}
	}
	m, err := bgppkt.ParseBGPMessage(append(hdr, body...))
	if err != nil {
		s.t.Fatalf("parse: %v", err)
	}
	return m
}

// malformedUpdate claims 255 bytes of path attributes and carries 4.
func malformedUpdate() []byte {
	body := []byte{0, 0, 0, 255, 0x40, 1, 1, 0}
	msg := make([]byte, 16, 19+len(body))
	for i := range msg {
		msg[i] = 0xff
	}
	msg = binary.BigEndian.AppendUint16(msg, uint16(19+len(body)))
	msg = append(msg, bgppkt.BGP_MSG_UPDATE)
	return append(msg, body...)
}

func TestGarbageFromOneWorkerHarmsNoOther(t *testing.T) {
	fp, fport := startFabricPeer(t)
	wport := freePort(t)
	gw := startGateway(t, fport, wport, 0, time.Hour)
	good := worker(t, "127.0.0.11", 65011, wport)
	announce(t, good, "10.244.1.0/24", "127.0.0.11", false)
	waitFor(t, "good worker's route", func() (bool, any) { got := type5s(fp); return len(got) == 1, got })

	bad := dialRaw(t, "127.0.0.14", wport, 65012)
	bad.write(malformedUpdate())
	if notification := bad.notification(); notification == nil || notification.ErrorCode != bgppkt.BGP_ERROR_UPDATE_MESSAGE_ERROR {
		t.Fatalf("garbage answered with %+v, want an UPDATE Message Error notification", notification)
	}
	// The good worker, its route and the fabric session are untouched.
	announce(t, good, "10.244.2.0/24", "127.0.0.11", false)
	waitFor(t, "good worker still followed", func() (bool, any) {
		got := type5s(fp)
		return len(got) == 2 && strings.Contains(strings.Join(got, " "), "10.244.1.0/24 gw=127.0.0.11"), got
	})
	if up := gw.workers.SessionsUp(); up != 1 {
		t.Errorf("worker sessions up = %d, want the good worker's 1", up)
	}
	if up := gw.fabric.SessionsUp(); up != 1 {
		t.Errorf("fabric sessions up = %d, want 1", up)
	}
}

// updateWithEmptyCommunities announces prefix (a /24) with next hop nexthop
// and AS path asn, and a COMMUNITIES attribute of length zero.
func updateWithEmptyCommunities(asn uint32, nexthop string, prefix string) []byte {
	nh := netip.MustParseAddr(nexthop).As4()
	p := netip.MustParsePrefix(prefix)
	attrs := []byte{0x40, 1, 1, 0} // ORIGIN IGP
	attrs = append(attrs, 0x40, 2, 6, 2, 1)
	attrs = binary.BigEndian.AppendUint32(attrs, asn) // AS_PATH, one AS_SEQUENCE
	attrs = append(append(attrs, 0x40, 3, 4), nh[:]...)
	attrs = append(attrs, 0xC0, 8, 0) // COMMUNITIES, length 0
	a := p.Addr().As4()
	body := binary.BigEndian.AppendUint16([]byte{0, 0}, uint16(len(attrs)))
	body = append(append(body, attrs...), byte(p.Bits()), a[0], a[1], a[2])
	msg := make([]byte, 16, 19+len(body))
	for i := range msg {
		msg[i] = 0xff
	}
	msg = binary.BigEndian.AppendUint16(msg, uint16(19+len(body)))
	return append(append(msg, bgppkt.BGP_MSG_UPDATE), body...)
}

// TestEmptyCommunitiesIsTreatAsWithdraw: an UPDATE whose COMMUNITIES has
// length zero withdraws its prefix (RFC 7606 section 7.8) and keeps the
// session; the worker's next UPDATE is followed as usual.
func TestEmptyCommunitiesIsTreatAsWithdraw(t *testing.T) {
	fp, fport := startFabricPeer(t)
	wport := freePort(t)
	gw := startGateway(t, fport, wport, 0, time.Hour)
	w := dialRaw(t, "127.0.0.14", wport, 65012)
	w.announce(65012, "127.0.0.14", "10.244.5.0/24")
	waitFor(t, "the worker's route", func() (bool, any) { got := type5s(fp); return len(got) == 1, got })
	w.write(updateWithEmptyCommunities(65012, "127.0.0.14", "10.244.5.0/24"))
	w.announce(65012, "127.0.0.14", "10.244.6.0/24") // marks the case as processed
	waitFor(t, "10.244.5.0/24 withdrawn, 10.244.6.0/24 advertised", func() (bool, any) {
		got := type5s(fp)
		return len(got) == 1 && strings.HasPrefix(got[0], "10.244.6.0/24 "), got
	})
	if up := gw.workers.SessionsUp(); up != 1 {
		t.Errorf("worker sessions up = %d, want 1: treat-as-withdraw keeps the session", up)
	}
}

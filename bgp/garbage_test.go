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
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	s := &rawSession{t: t, conn: conn}
	caps := []bgppkt.ParameterCapabilityInterface{
		bgppkt.NewCapMultiProtocol(bgppkt.RF_IPv4_UC), bgppkt.NewCapFourOctetASNumber(uint32(asn)),
	}
	open, _ := bgppkt.NewBGPOpenMessage(asn, 90, netip.MustParseAddr(local),
		[]bgppkt.OptionParameterInterface{bgppkt.NewOptionParameterCapability(caps)})
	s.send(open)
	if m := s.read(); m.Header.Type != bgppkt.BGP_MSG_OPEN {
		t.Fatalf("expected OPEN, got type %d", m.Header.Type)
	}
	s.send(bgppkt.NewBGPKeepAliveMessage())
	return s
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
	gw := startGateway(t, fport, wport, 0)
	good := worker(t, "127.0.0.11", 65011, wport)
	announce(t, good, "10.244.1.0/24", "127.0.0.11", false)
	waitFor(t, "good worker's route", func() (bool, any) { got := type5s(fp); return len(got) == 1, got })

	bad := dialRaw(t, "127.0.0.14", wport, 65012)
	bad.write(malformedUpdate())
	var notification *bgppkt.BGPNotification
	for m := bad.read(); m.Header.Type != 0; m = bad.read() {
		if n, ok := m.Body.(*bgppkt.BGPNotification); ok {
			notification = n
			break
		}
	}
	if notification == nil || notification.ErrorCode != bgppkt.BGP_ERROR_UPDATE_MESSAGE_ERROR {
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

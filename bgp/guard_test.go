package bgp

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	bgppkt "github.com/osrg/gobgp/v4/pkg/packet/bgp"
	"github.com/t5gw/t5gw/config"
	"github.com/t5gw/t5gw/evpn"
	"github.com/t5gw/t5gw/evpn/rib"
	"golang.org/x/sys/unix"
)

// dialWith connects from local to t5gw's worker port, with control run on
// the socket before it connects (to set TTL or an MD5 key), and sends an
// OPEN in asn; it reports whether t5gw took it (answered with a KEEPALIVE).
func dialWith(t *testing.T, local string, asn uint16, port uint16, control func(fd int) error) bool {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 2 * time.Second,
		Control: func(_, _ string, c syscall.RawConn) error {
			var err error
			if cerr := c.Control(func(fd uintptr) {
				if control != nil {
					err = control(int(fd))
				}
			}); cerr != nil {
				return cerr
			}
			return err
		}}
	conn, err := d.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	defer conn.Close()
	s := &rawSession{t: t, conn: conn}
	caps := []bgppkt.ParameterCapabilityInterface{bgppkt.NewCapMultiProtocol(bgppkt.RF_IPv4_UC), bgppkt.NewCapFourOctetASNumber(uint32(asn))}
	open, _ := bgppkt.NewBGPOpenMessage(asn, 90, netip.MustParseAddr(local),
		[]bgppkt.OptionParameterInterface{bgppkt.NewOptionParameterCapability(caps)})
	b, _ := open.Serialize()
	// t5gw's OPEN first: by then its side of the connection is set up (the
	// minimum TTL of GTSM among it), as with a real worker's round trip.
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	if m := s.read(); m.Header.Type != bgppkt.BGP_MSG_OPEN {
		return false
	}
	if _, err := conn.Write(b); err != nil {
		return false
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		_ = conn.SetReadDeadline(deadline)
		m := s.read()
		switch m.Header.Type {
		case 0, bgppkt.BGP_MSG_NOTIFICATION:
			return false
		case bgppkt.BGP_MSG_KEEPALIVE:
			return true
		}
	}
	return false
}

// md5Key sets the TCP MD5 key (RFC 2385) for talking to 127.0.0.1.
func md5Key(key string) func(fd int) error {
	return func(fd int) error {
		sig := unix.TCPMD5Sig{Keylen: uint16(len(key))}
		sig.Addr.Family = unix.AF_INET
		copy(sig.Addr.Data[2:], []byte{127, 0, 0, 1})
		copy(sig.Key[:], key)
		return unix.SetsockoptTCPMD5Sig(fd, unix.IPPROTO_TCP, unix.TCP_MD5SIG, &sig)
	}
}

// TestWorkerGuards: a worker t5gw does not know is not answered; a worker
// with a password is refused without it (TCP MD5 drops the segments) and
// answered with it; a worker with ttl-security (GTSM, RFC 5082) is refused at
// TTL 64 and answered at 255.
func TestWorkerGuards(t *testing.T) {
	if syscall.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("TCP MD5 and GTSM sockets need root")
		}
		t.Skip("TCP MD5 and GTSM sockets need root")
	}
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	log := testLog(t)
	pipe := rib.NewVRF(evpn.VRF{Name: "blue", RD: evpn.RD{Kind: evpn.AdminIPv4, IP: netip.MustParseAddr("10.0.0.3"), Number: 4001},
		VTEP: netip.MustParseAddr("10.0.0.3")}, &nopFabric{}, log)
	done := make(chan struct{})
	go func() { pipe.Run(ctx); close(done) }()
	workers, err := NewWorkers(ctx, WorkersOptions{
		VRF: "blue", RouterID: netip.MustParseAddr("10.0.0.3"), ASN: 65000,
		Listen: []netip.Addr{netip.MustParseAddr("127.0.0.1")}, Port: port, Families: evpn.IPv4,
		Peers: []config.Peer{
			{Address: netip.MustParseAddr("127.0.0.21"), ASN: 65021, Passive: true, Password: "s3cret", Timers: config.DefaultTimers},
			{Address: netip.MustParseAddr("127.0.0.22"), ASN: 65022, Passive: true, TTLSecurity: 1, Timers: config.DefaultTimers},
			{Address: netip.MustParseAddr("127.0.0.23"), ASN: 65023, Passive: true, Timers: config.DefaultTimers},
			{Address: netip.MustParseAddr("127.0.0.24"), ASN: 65024, Passive: true, TTLSecurity: 1, Timers: config.DefaultTimers},
		},
		Log: log,
	}, pipe)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { workers.Stop(false); cancel(); <-done })
	ttl := func(v int) func(fd int) error {
		return func(fd int) error { return unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_TTL, v) }
	}
	for _, c := range []struct {
		name     string
		local    string
		asn      uint16
		control  func(fd int) error
		answered bool
	}{
		{"a configured worker is answered", "127.0.0.23", 65023, nil, true},
		{"a worker t5gw does not know is not", "127.0.1.5", 65099, nil, false},
		{"a password worker without its key is not", "127.0.0.21", 65021, nil, false},
		{"a password worker with a wrong key is not", "127.0.0.21", 65021, md5Key("wrong"), false},
		{"a password worker with its key is", "127.0.0.21", 65021, md5Key("s3cret"), true},
		{"a GTSM worker at TTL 64 is not", "127.0.0.24", 65024, ttl(64), false},
		{"a GTSM worker at TTL 255 is", "127.0.0.22", 65022, ttl(255), true},
	} {
		if got := dialWith(t, c.local, c.asn, port, c.control); got != c.answered {
			t.Errorf("%s: answered %v, want %v", c.name, got, c.answered)
		}
	}
}

package bench

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	bgppkt "github.com/osrg/gobgp/v4/pkg/packet/bgp"
)

// Worker is one injected worker session: a raw BGP speaker that sends
// pre-encoded UPDATEs and keeps its session alive, nothing more.
type Worker struct {
	Addr netip.Addr
	asn  uint32
	conn net.Conn
	wmu  sync.Mutex
	done chan struct{}
	hold time.Duration // negotiated hold time
}

// ourHold is the hold time the injector and the monitor offer.
const ourHold = 180

// negotiatedHold reads the hold time from a peer's OPEN and returns the
// smaller of it and ours (RFC 4271 section 4.2).
func negotiatedHold(open []byte) time.Duration {
	peer := binary.BigEndian.Uint16(open[22:24])
	if peer == 0 || peer > ourHold {
		peer = ourHold
	}
	return time.Duration(peer) * time.Second
}

// DialWorker opens a session from local (in namespace ns) to remote and
// returns once it is established.
func DialWorker(ns string, local netip.Addr, remote netip.AddrPort, asn uint32) (*Worker, error) {
	var conn net.Conn
	err := inNetns(ns, func() error {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: local.AsSlice()}, Timeout: 30 * time.Second}
		var err error
		conn, err = d.Dial("tcp", remote.String())
		return err
	})
	if err != nil {
		return nil, err
	}
	w := &Worker{Addr: local, asn: asn, conn: conn, done: make(chan struct{})}
	myAS := uint16(23456) // AS_TRANS, RFC 6793
	if asn <= 65535 {
		myAS = uint16(asn)
	}
	open, _ := bgppkt.NewBGPOpenMessage(myAS, ourHold, local,
		[]bgppkt.OptionParameterInterface{bgppkt.NewOptionParameterCapability([]bgppkt.ParameterCapabilityInterface{
			bgppkt.NewCapMultiProtocol(bgppkt.RF_IPv4_UC), bgppkt.NewCapFourOctetASNumber(asn)})})
	if err := w.send(open); err != nil {
		conn.Close()
		return nil, err
	}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	for established := false; !established; {
		m, err := readMessage(conn)
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("%s: %w", local, err)
		}
		switch m[18] {
		case bgppkt.BGP_MSG_OPEN:
			w.hold = negotiatedHold(m)
			if err := w.send(bgppkt.NewBGPKeepAliveMessage()); err != nil {
				conn.Close()
				return nil, err
			}
		case bgppkt.BGP_MSG_KEEPALIVE:
			established = true
		case bgppkt.BGP_MSG_NOTIFICATION:
			conn.Close()
			return nil, fmt.Errorf("%s: notification %v", local, m[19:])
		}
	}
	_ = conn.SetReadDeadline(time.Time{})
	go w.discard()
	go w.keepalive()
	return w, nil
}

func (w *Worker) send(m *bgppkt.BGPMessage) error {
	b, err := m.Serialize()
	if err != nil {
		return err
	}
	return w.Write(b)
}

// Write sends pre-encoded messages.
func (w *Worker) Write(b []byte) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	_, err := w.conn.Write(b)
	return err
}

func (w *Worker) discard() {
	_, _ = io.Copy(io.Discard, w.conn)
}

func (w *Worker) keepalive() {
	ka, _ := bgppkt.NewBGPKeepAliveMessage().Serialize()
	t := time.NewTicker(w.hold / 3) // FRR's datacenter defaults make it 3 s
	defer t.Stop()
	for {
		select {
		case <-w.done:
			return
		case <-t.C:
			_ = w.Write(ka)
		}
	}
}

// Close ends the session without a NOTIFICATION, as a crashed worker does.
func (w *Worker) Close() {
	close(w.done)
	w.conn.Close()
}

// Updates encodes UPDATEs from a worker at addr in asn announcing (or, with
// withdraw, withdrawing) prefixes with next hop addr, in as few messages as
// fit in 4096 bytes.
func Updates(addr netip.Addr, asn uint32, prefixes []netip.Prefix, withdraw bool) []byte {
	nh, _ := bgppkt.NewPathAttributeNextHop(addr)
	attrs := []bgppkt.PathAttributeInterface{bgppkt.NewPathAttributeOrigin(0),
		bgppkt.NewPathAttributeAsPath([]bgppkt.AsPathParamInterface{
			bgppkt.NewAs4PathParam(bgppkt.BGP_ASPATH_ATTR_TYPE_SEQ, []uint32{asn})}), nh}
	var out []byte
	const perMessage = 700 // /32s: 5 bytes each
	for start := 0; start < len(prefixes); start += perMessage {
		var nlri []bgppkt.PathNLRI
		for _, p := range prefixes[start:min(start+perMessage, len(prefixes))] {
			n, _ := bgppkt.NewIPAddrPrefix(p)
			nlri = append(nlri, bgppkt.PathNLRI{NLRI: n})
		}
		var m *bgppkt.BGPMessage
		if withdraw {
			m = bgppkt.NewBGPUpdateMessage(nlri, nil, nil)
		} else {
			m = bgppkt.NewBGPUpdateMessage(nil, attrs, nlri)
		}
		b, err := m.Serialize()
		if err != nil {
			panic(err)
		}
		out = append(out, b...)
	}
	return out
}

// readMessage reads one whole BGP message.
func readMessage(r io.Reader) ([]byte, error) {
	hdr := make([]byte, bgppkt.BGP_HEADER_LENGTH)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(hdr[16:18]))
	if n < bgppkt.BGP_HEADER_LENGTH || n > 65535 {
		return nil, fmt.Errorf("bad message length %d", n)
	}
	msg := make([]byte, n)
	copy(msg, hdr)
	_, err := io.ReadFull(r, msg[bgppkt.BGP_HEADER_LENGTH:])
	return msg, err
}

// WorkerPrefix is the j-th /32 of worker i when each announces m.
func WorkerPrefix(i, j, m int) netip.Prefix {
	k := i*m + j
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(k >> 16), byte(k >> 8), byte(k)}), 32)
}

// WorkerAddr is worker i's address in 192.168.0.0/16 (192.168.0.1 is the
// system under test).
func WorkerAddr(i int) netip.Addr {
	k := i + 10
	return netip.AddrFrom4([4]byte{192, 168, byte(k >> 8), byte(k)})
}

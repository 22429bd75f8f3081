// Command rawbgp is a BGP speaker for robustness tests: it opens one session,
// writes the messages given as hex arguments byte for byte, however
// malformed, and then only keeps the session alive, printing every
// NOTIFICATION it receives. It exits when the peer closes the session.
//
//	rawbgp -local 192.168.10.141 -peer 192.168.10.3 -as 65013 HEX...
//
// Its output, one line per event, is what the tests read:
//
//	established
//	sent 45 bytes
//	notification 3 1 0a0b
//	closed
package main

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"time"
)

const (
	typeOpen         = 1
	typeNotification = 3
	typeKeepalive    = 4
	holdTime         = 30 // seconds, offered in the OPEN
)

func main() {
	local := flag.String("local", "", "address to connect from, also the BGP identifier")
	peer := flag.String("peer", "", "address of the BGP speaker under test")
	asn := flag.Uint("as", 65013, "own AS number (2 or 4 octets)")
	flag.Parse()
	if err := run(*local, *peer, uint32(*asn), flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "rawbgp:", err)
		os.Exit(1)
	}
}

func run(local, peer string, asn uint32, hexMsgs []string) error {
	id, err := netip.ParseAddr(local)
	if err != nil || !id.Is4() {
		return fmt.Errorf("-local %q: an IPv4 address is needed", local)
	}
	var msgs [][]byte
	for _, h := range hexMsgs {
		b, err := hex.DecodeString(h)
		if err != nil {
			return fmt.Errorf("message %q: %w", h, err)
		}
		msgs = append(msgs, b)
	}
	conn, hold, err := establish(id, peer, asn)
	if err != nil {
		return err
	}
	defer conn.Close()
	fmt.Println("established")
	go keepalive(conn, hold)
	for _, m := range msgs {
		if _, err := conn.Write(m); err != nil {
			fmt.Println("closed")
			return nil
		}
		fmt.Printf("sent %d bytes\n", len(m))
	}
	for {
		typ, body, err := readMessage(conn)
		if err != nil {
			fmt.Println("closed")
			return nil
		}
		if typ == typeNotification && len(body) >= 2 {
			fmt.Printf("notification %d %d %x\n", body[0], body[1], body[2:])
		}
	}
}

// establish connects until the peer answers the OPEN with its own OPEN and a
// KEEPALIVE, for up to 20 s: a peer that has just reset the previous session
// may refuse the next connection for a moment. It returns the negotiated
// hold time.
func establish(id netip.Addr, peer string, asn uint32) (net.Conn, time.Duration, error) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		conn, hold, err := handshake(id, peer, asn)
		if err == nil {
			return conn, hold, nil
		}
		if time.Now().After(deadline) {
			return nil, 0, err
		}
		fmt.Println("retrying:", err)
		time.Sleep(250 * time.Millisecond) // a reconnect back-off, as any speaker has
	}
}

func handshake(id netip.Addr, peer string, asn uint32) (net.Conn, time.Duration, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: id.AsSlice()}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", net.JoinHostPort(peer, "179"))
	if err != nil {
		return nil, 0, err
	}
	if _, err := conn.Write(open(id, asn)); err != nil {
		conn.Close()
		return nil, 0, err
	}
	hold := time.Duration(holdTime) * time.Second
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer func() { _ = conn.SetReadDeadline(time.Time{}) }()
	for {
		typ, body, err := readMessage(conn)
		switch {
		case err != nil:
			conn.Close()
			return nil, 0, err
		case typ == typeOpen && len(body) >= 5:
			if h := time.Duration(binary.BigEndian.Uint16(body[3:5])) * time.Second; h < hold {
				hold = h
			}
			if _, err := conn.Write(message(typeKeepalive, nil)); err != nil {
				conn.Close()
				return nil, 0, err
			}
		case typ == typeKeepalive:
			return conn, hold, nil
		case typ == typeNotification && len(body) >= 2:
			conn.Close()
			return nil, 0, fmt.Errorf("notification %d %d during the handshake", body[0], body[1])
		}
	}
}

// open is an OPEN offering IPv4 and IPv6 unicast and 4-octet AS numbers.
func open(id netip.Addr, asn uint32) []byte {
	caps := []byte{
		1, 4, 0, 1, 0, 1, // multiprotocol IPv4 unicast
		1, 4, 0, 2, 0, 1, // multiprotocol IPv6 unicast
		65, 4, // 4-octet AS number
	}
	caps = binary.BigEndian.AppendUint32(caps, asn)
	myAS := uint16(23456) // AS_TRANS
	if asn <= 0xffff {
		myAS = uint16(asn)
	}
	body := []byte{4}
	body = binary.BigEndian.AppendUint16(body, myAS)
	body = binary.BigEndian.AppendUint16(body, holdTime)
	ip := id.As4()
	body = append(body, ip[:]...)
	body = append(body, byte(len(caps)+2), 2, byte(len(caps)))
	return message(typeOpen, append(body, caps...))
}

// message frames body with the marker, length and type.
func message(typ byte, body []byte) []byte {
	m := make([]byte, 16, 19+len(body))
	for i := range m {
		m[i] = 0xff
	}
	m = binary.BigEndian.AppendUint16(m, uint16(19+len(body)))
	return append(append(m, typ), body...)
}

func readMessage(r io.Reader) (byte, []byte, error) {
	hdr := make([]byte, 19)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return 0, nil, err
	}
	n := int(binary.BigEndian.Uint16(hdr[16:18]))
	if n < 19 {
		return 0, nil, errors.New("message shorter than its header")
	}
	body := make([]byte, n-19)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, err
	}
	return hdr[18], body, nil
}

// keepalive sends a KEEPALIVE every third of the hold time until the
// connection fails.
func keepalive(conn net.Conn, hold time.Duration) {
	if hold == 0 {
		return
	}
	for range time.Tick(hold / 3) {
		if _, err := conn.Write(message(typeKeepalive, nil)); err != nil {
			return
		}
	}
}

package netio

import (
	"net/netip"
	"testing"
	"time"
)

// An address announced by one host and then another follows the last
// announcement, as neighbours follow gratuitous ARP; before any, nobody
// receives for it.
func TestMemNetworkAnnounceMovesAnAddress(t *testing.T) {
	p := newMemPair(t)
	c, err := p.net.AddHost(netip.MustParseAddr("198.51.100.3"))
	if err != nil {
		t.Fatal(err)
	}
	cUDP, err := c.ListenUDP(4, 4500)
	if err != nil {
		t.Fatal(err)
	}
	defer cUDP.Close()
	send := func(data string) {
		t.Helper()
		pkt := udpPacket(t, netip.AddrPortFrom(addrA4, 4500), netip.AddrPortFrom(other4, 4500), 0, []byte(data))
		if n, err := p.send4.WriteBatch([][]byte{pkt}); n != 1 || err != nil {
			t.Fatalf("WriteBatch = %d, %v", n, err)
		}
	}
	expect := func(r Receiver, data string) {
		t.Helper()
		msgs, _ := collect(t, r, 1, 5*time.Second)
		if got := string(msgs[0].Buf[:msgs[0].N]); got != data || msgs[0].Dst != other4 {
			t.Fatalf("received %q to %s, want %q to %s", got, msgs[0].Dst, data, other4)
		}
	}

	before := p.net.Stats()
	send("before")
	if d := diffStats(p.net.Stats(), before); d.NoListener != 1 {
		t.Fatalf("a packet to an address nobody announced: %+v", d)
	}
	if err := p.b.Announce(other4); err != nil {
		t.Fatal(err)
	}
	send("to b")
	expect(p.udp4, "to b")
	if err := c.Announce(other4); err != nil {
		t.Fatal(err)
	}
	send("to c")
	expect(cUDP, "to c")
	if err := p.b.Announce(other4); err != nil {
		t.Fatal(err)
	}
	send("to b again")
	expect(p.udp4, "to b again")
	if err := c.Announce(netip.Addr{}); err == nil {
		t.Fatal("announcing the zero address succeeded")
	}
}

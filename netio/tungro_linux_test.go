package netio

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"ipsecgw/header"
	"ipsecgw/test/netns"
)

// TestKernelTUNCoalescesTCP: consecutive TCP segments of one flow handed
// to Write in one batch reach the kernel as one GRO super-packet (the
// inner side of the data plane keeps the TUN offloads), so the kernel
// counts far fewer packets received than were written.
func TestKernelTUNCoalescesTCP(t *testing.T) {
	netns.RequireRoot(t)
	n, dev := newKernelTUN(t)
	const segments, payload = 16, 1000
	bufs := make([][]byte, segments)
	for i := range bufs {
		tcp := make([]byte, 20+payload)
		binary.BigEndian.PutUint16(tcp[0:], 5000)
		binary.BigEndian.PutUint16(tcp[2:], 6000)
		binary.BigEndian.PutUint32(tcp[4:], uint32(1+i*payload)) // sequence
		binary.BigEndian.PutUint32(tcp[8:], 1)                   // acknowledgement
		tcp[12] = 5 << 4
		tcp[13] = 0x10 // ACK
		binary.BigEndian.PutUint16(tcp[14:], 65535)
		for j := 20; j < len(tcp); j++ {
			tcp[j] = byte(i + j)
		}
		sum := ^header.PartialChecksum(tcp, header.PseudoHeaderChecksum(header.IPProtoTCP, tunPeer, tunLocal, uint32(len(tcp))))
		binary.BigEndian.PutUint16(tcp[16:], sum)
		// Room after each packet: Write coalesces into the first buffer.
		b := make([]byte, TUNHeadroom+20+len(tcp), 1<<16)
		header.EncodeIPv4(b[TUNHeadroom:], header.IPv4Fields{TotalLength: uint16(20 + len(tcp)), ID: uint16(100 + i),
			DontFragment: true, TTL: 64, Protocol: header.IPProtoTCP, Source: tunPeer, Destination: tunLocal})
		copy(b[TUNHeadroom+20:], tcp)
		bufs[i] = b
	}
	rx := func(stat string) uint64 { return tunStat(t, n, stat) }
	packets0, bytes0 := rx("rx_packets"), rx("rx_bytes")
	if w, err := dev.Write(bufs, TUNHeadroom); err != nil || w != segments {
		t.Fatalf("Write: %d, %v", w, err)
	}
	packets, bytes := rx("rx_packets")-packets0, rx("rx_bytes")-bytes0
	t.Logf("%d segments written, the kernel received %d packets, %d octets", segments, packets, bytes)
	if packets == 0 || packets > 2 || bytes < segments*payload {
		t.Fatalf("the kernel received %d packets (%d octets) for %d segments of one flow; want them coalesced into one or two", packets, bytes, segments)
	}
}

// TestKernelTUNCoalescesAroundABadChecksum: a segment with a bad TCP
// checksum in the middle of a flow is written alone, splitting the flow
// in two groups: the kernel receives three packets, all the octets, and
// counts the bad one as a checksum error when TCP sees it (there is no
// socket, so it is dropped either way, but never as part of a good
// super-packet).
func TestKernelTUNCoalescesAroundABadChecksum(t *testing.T) {
	netns.RequireRoot(t)
	for _, v6 := range []bool{false, true} {
		n, dev := newKernelTUN(t)
		src, dst := tunPeer, tunLocal
		if v6 {
			src, dst = netip.MustParseAddr("2001:db8:7::2"), netip.MustParseAddr("2001:db8:7::1")
			n.Exec("a", "ip", "addr", "add", dst.String()+"/64", "dev", "st0-test", "nodad")
		}
		segs := flow(t, src, dst, 12, 1000, 0)
		segs[5].badSum = true
		bufs := make([][]byte, len(segs))
		for i, s := range segs {
			bufs[i] = append(make([]byte, TUNHeadroom), s.build(t)...)
		}
		rx := func(stat string) uint64 { return tunStat(t, n, stat) }
		packets0, bytes0 := rx("rx_packets"), rx("rx_bytes")
		if w, err := dev.Write(bufs, TUNHeadroom); err != nil || w != len(segs) {
			t.Fatalf("IPv6 %v: Write: %d, %v", v6, w, err)
		}
		packets, bytes := rx("rx_packets")-packets0, rx("rx_bytes")-bytes0
		if packets != 3 || bytes < 12*1000 {
			t.Errorf("IPv6 %v: the kernel received %d packets (%d octets) for 12 segments with a bad one in the middle; want 3", v6, packets, bytes)
		}
	}
}

// The MTU follows the interface: a change made with ip link shows in MTU.
func TestKernelTUNMTUChange(t *testing.T) {
	n, dev := newKernelTUN(t)
	n.Exec("a", "ip", "link", "set", "st0-test", "mtu", "1300")
	for deadline := time.Now().Add(5 * time.Second); dev.MTU() != 1300; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("MTU %d after ip link set mtu 1300", dev.MTU())
		}
	}
}

// IPSECGW_TUN selects the implementation, and refuses what it does not
// know before creating anything.
func TestKernelTUNSelect(t *testing.T) {
	for env, want := range map[string]string{"": "ipsecgw vnet", "vnet": "ipsecgw vnet", "wireguard": "wireguard-go"} {
		t.Setenv(tunEnv, env)
		_, dev := newKernelTUN(t)
		if got := TUNIO(dev); !strings.HasPrefix(got, want) {
			t.Errorf("%s=%q: TUNIO %q; want %q…", tunEnv, env, got, want)
		}
		dev.Close()
	}
	t.Setenv(tunEnv, "tap")
	if dev, err := CreateTUN("st0-x", 1400); err == nil {
		dev.Close()
		t.Fatalf("%s=tap: created a TUN; want an error", tunEnv)
	}
}

// TestKernelTUNCoalescesUDP: UDP datagrams of one flow go to the kernel
// as one USO super-packet where the kernel takes USO from the TUN.
func TestKernelTUNCoalescesUDP(t *testing.T) {
	netns.RequireRoot(t)
	n, dev := newKernelTUN(t)
	if !strings.Contains(TUNIO(dev), "USO") {
		t.Skipf("the TUN is %q: this kernel takes no USO from it", TUNIO(dev))
	}
	segs := flow(t, tunPeer, tunLocal, 8, 1200, 0)
	bufs := make([][]byte, len(segs))
	for i := range segs {
		segs[i].udp = true
		bufs[i] = append(make([]byte, TUNHeadroom), segs[i].build(t)...)
	}
	read := func() uint64 { return tunStat(t, n, "rx_packets") }
	before := read()
	if w, err := dev.Write(bufs, TUNHeadroom); err != nil || w != len(segs) {
		t.Fatalf("Write: %d, %v", w, err)
	}
	if got := read() - before; got != 1 {
		t.Errorf("the kernel received %d packets for 8 datagrams of one flow; want one super-packet", got)
	}
}

// tunStat reads one of st0-test's interface statistics in namespace a.
func tunStat(t *testing.T, n *netns.Net, stat string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(strings.TrimSpace(n.Exec("a", "cat", "/sys/class/net/st0-test/statistics/"+stat)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

package dataplane

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"ipsecgw/esp"
	"ipsecgw/header"
	"ipsecgw/netio"
)

// sealFor seals inner for SA spi (gcmConfig's key) with sequence number
// seq.
func sealFor(t *testing.T, spi uint32, seq uint64, inner []byte) []byte {
	t.Helper()
	out, err := esp.NewOutbound(gcmConfig(t, spi))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, headroom+len(inner), bufSize)
	copy(buf[headroom:], inner)
	pkt, err := out.SealWithSequence(seq, buf, headroom, header.IPProtoIPv4)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(pkt)
}

// TestInboundBatchModesAgree sends batches that mix two SAs, copies of a
// packet within a batch and across batches, forgeries of a sequence
// number before and after the real packet in the same batch, an unknown
// SPI and a truncated packet, through the inline and the parallel
// pipeline: both deliver the same packets in the same order and count
// the same drops, which are what checking a whole batch before moving
// the replay window gives (a forgery sent after its real packet in one
// batch is an authentication failure, not a replay).
func TestInboundBatchModesAgree(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	type result struct {
		got  []uint32
		stat Stats
		a, b Stats
	}
	run := func(t *testing.T, mode PipelineMode) result {
		e := New(Config{Send4: &recordSender{}, Pipeline: mode})
		defer e.Close()
		tun := netio.NewMemTUN("st0.1", 1400)
		if _, err := e.AddTunnel(tun, nil); err != nil {
			t.Fatal(err)
		}
		saA, err := e.InstallInbound("st0.1", InboundParams{ESP: gcmConfig(t, 0x1234), Local: outerB, Remote: outerA})
		if err != nil {
			t.Fatal(err)
		}
		saB, err := e.InstallInbound("st0.1", InboundParams{ESP: gcmConfig(t, 0x5678), Local: outerB, Remote: outerA})
		if err != nil {
			t.Fatal(err)
		}
		r := newChanReceiver()
		if err := e.AddReceiver(r, 4, 0); err != nil {
			t.Fatal(err)
		}
		a := func(seq uint64, n int) []byte { return sealFor(t, 0x1234, seq, numbered(n)) }
		b := func(seq uint64, n int) []byte { return sealFor(t, 0x5678, seq, numbered(n)) }
		forged := func(p []byte) []byte {
			p = bytes.Clone(p)
			p[len(p)-1] ^= 1
			return p
		}
		a6 := a(6, 6)
		unknown := a(7, 99)
		binary.BigEndian.PutUint32(unknown, 0x9999)
		first := [][]byte{
			a(1, 1), b(1, 2), a(2, 3), a(2, 3), // a copy in the batch: a replay
			b(2, 4), forged(a6), a6, forged(a6), // forgeries before and after
			unknown, a(3, 5)[:6], // no SA, too short
			a(4, 7), a(4, 7), b(2, 4), a(5, 8),
		}
		second := [][]byte{a(2, 3), b(3, 9), forged(b(4, 10)), a(1, 1), a(9, 11), b(1, 2)}
		r.batches <- first
		r.batches <- second
		const delivered = 9 // 1, 2, 3, 4, 6, 7, 8, 9, 11
		var res result
		for range delivered {
			p, err := tun.Receive(5 * time.Second)
			if err != nil {
				t.Fatalf("%v: after %v: %v %+v", mode, res.got, err, e.Stats.Snapshot())
			}
			res.got = append(res.got, binary.BigEndian.Uint32(p[28:]))
		}
		waitFor(t, func() bool {
			s := e.Stats.Snapshot()
			return s.ReplayErrors+s.AuthFailures+s.NoSA+s.BadHeaders >= 11
		})
		if _, err := tun.Receive(50 * time.Millisecond); err == nil {
			t.Fatalf("%v: more than %d packets delivered", mode, delivered)
		}
		res.stat, res.a, res.b = e.Stats.Snapshot(), saA.Counters.Snapshot(), saB.Counters.Snapshot()
		return res
	}
	inline, parallel := run(t, PipelineInline), run(t, PipelineParallel)
	want := []uint32{1, 2, 3, 4, 6, 7, 8, 9, 11}
	for _, r := range []result{inline, parallel} {
		if !slicesEqual(r.got, want) {
			t.Fatalf("delivered %v, want %v", r.got, want)
		}
	}
	wantStats := Stats{DecryptedPackets: 9, DecryptedBytes: 9 * 200, ReplayErrors: 6, AuthFailures: 3, NoSA: 1, BadHeaders: 1}
	if inline.stat != wantStats || parallel.stat != wantStats {
		t.Fatalf("counters\ninline   %+v\nparallel %+v\nwant     %+v", inline.stat, parallel.stat, wantStats)
	}
	if inline.a != parallel.a || inline.b != parallel.b {
		t.Fatalf("per-SA counters differ:\ninline   %+v %+v\nparallel %+v %+v", inline.a, inline.b, parallel.a, parallel.b)
	}
	if inline.a.ReplayErrors != 4 || inline.a.AuthFailures != 2 || inline.b.ReplayErrors != 2 || inline.b.AuthFailures != 1 {
		t.Fatalf("per-SA counters %+v %+v", inline.a, inline.b)
	}
}

func slicesEqual(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestWildcardAgreesWithSelectors: whenever wildcardOf says a family
// passes whole, selectorsAllow lets every address pair of that family
// through (IPv4, IPv6 and IPv4-mapped IPv6 addresses, as inner headers
// give them), over random selector lists with /0 prefixes of both
// families, longer prefixes and invalid ones; and the lists that must
// give a wildcard do.
func TestWildcardAgreesWithSelectors(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 16))
	prefixes := []netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0"),
		netip.MustParsePrefix("::ffff:0.0.0.0/0"), netip.MustParsePrefix("::ffff:0.0.0.0/96"),
		netip.MustParsePrefix("198.18.0.0/15"), netip.MustParsePrefix("2001:db8::/32"),
		netip.MustParsePrefix("128.0.0.0/1"), {},
	}
	addr := func() netip.Addr {
		var b [16]byte
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		switch rng.IntN(3) {
		case 0:
			return netip.AddrFrom4([4]byte(b[:4]))
		case 1:
			return netip.AddrFrom16(b)
		}
		return netip.AddrFrom16(netip.AddrFrom4([4]byte(b[:4])).As16()) // IPv4-mapped
	}
	seen := wildcard{}
	for round := 0; round < 3000; round++ {
		sels := make([]Selector, rng.IntN(4))
		for i := range sels {
			sels[i] = Selector{Local: prefixes[rng.IntN(len(prefixes))], Remote: prefixes[rng.IntN(len(prefixes))]}
		}
		w := wildcardOf(sels)
		seen.v4, seen.v6 = seen.v4 || w.v4, seen.v6 || w.v6
		for range 20 {
			src, dst := addr(), addr()
			if dst.Is4() != src.Is4() {
				continue // one header gives one family
			}
			if (src.Is4() && w.v4 || !src.Is4() && w.v6) && !selectorsAllow(sels, src, dst) {
				t.Fatalf("selectors %v: wildcard %+v, but %v → %v is refused", sels, w, src, dst)
			}
		}
	}
	if !seen.v4 || !seen.v6 {
		t.Fatal("no random list gave a wildcard")
	}
	if w := wildcardOf(AnySelectors); !w.v4 || !w.v6 {
		t.Fatalf("AnySelectors: %+v", w)
	}
	narrow := []Selector{{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("198.18.0.0/15")}, {netip.MustParsePrefix("::/0"), netip.Prefix{}}}
	if w := wildcardOf(narrow); w.v4 || w.v6 {
		t.Fatalf("%v: %+v", narrow, w)
	}
}

// TestSelectorsStillChecked: an SA whose selectors pass all of IPv4 but
// only one IPv6 prefix pair delivers any IPv4 packet and refuses an
// IPv6 packet outside its pair, counted.
func TestSelectorsStillChecked(t *testing.T) {
	p := newPair(t, pairOptions{})
	p.b.RemoveInbound(0x1234)
	in, err := p.b.InstallInbound("st0.1", InboundParams{ESP: gcmConfig(t, 0x1234), Local: outerB, Remote: outerA, Selectors: []Selector{
		{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("0.0.0.0/0")},
		{netip.MustParsePrefix("2001:db8:2::/48"), netip.MustParsePrefix("2001:db8:1::/48")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !in.wildcard.v4 || in.wildcard.v6 {
		t.Fatalf("wildcard %+v", in.wildcard)
	}
	deliver(p, sealFor(t, 0x1234, 1, icmpEcho(netip.MustParseAddr("203.0.113.9"), hostB, 100, false, 0)), 0)
	if _, err := p.tunB.Receive(time.Second); err != nil {
		t.Fatalf("IPv4 packet not delivered: %v %+v", err, p.b.Stats.Snapshot())
	}
	out, _ := esp.NewOutbound(gcmConfig(t, 0x1234))
	for i, src := range []string{"2001:db8:1::5", "2001:db8:9::5"} {
		inner := ipv6Packet(netip.MustParseAddr(src), netip.MustParseAddr("2001:db8:2::7"))
		buf := make([]byte, headroom+len(inner), bufSize)
		copy(buf[headroom:], inner)
		pkt, err := out.SealWithSequence(uint64(2+i), buf, headroom, header.IPProtoIPv6)
		if err != nil {
			t.Fatal(err)
		}
		deliver(p, bytes.Clone(pkt), 0)
	}
	if _, err := p.tunB.Receive(time.Second); err != nil {
		t.Fatalf("IPv6 packet inside the selectors not delivered: %v %+v", err, p.b.Stats.Snapshot())
	}
	if s := in.Counters.Snapshot(); s.SelectorMismatch != 1 || s.DecryptedPackets != 2 {
		t.Fatalf("counters %+v", s)
	}
}

// ipv6Packet is an IPv6 packet carrying an empty UDP datagram.
func ipv6Packet(src, dst netip.Addr) []byte {
	p := make([]byte, 48)
	p[0] = 6 << 4
	binary.BigEndian.PutUint16(p[4:], 8)
	p[6], p[7] = 17, 64
	s, d := src.As16(), dst.As16()
	copy(p[8:], s[:])
	copy(p[24:], d[:])
	binary.BigEndian.PutUint16(p[40:], 9)
	binary.BigEndian.PutUint16(p[42:], 9)
	binary.BigEndian.PutUint16(p[44:], 8)
	return p
}

// TestSPICache: a lookup through the reader's cache answers as the table
// does while SAs come and go in the same shard and in others.
func TestSPICache(t *testing.T) {
	tb := newSATable()
	var c spiCache
	one, two, other := uint32(0x100), uint32(0x200), uint32(0x101) // one and two share a shard
	saOne, saTwo := &InboundSA{}, &InboundSA{}
	check := func(what string) {
		t.Helper()
		for _, spi := range []uint32{one, one, two, one, other, other, one} {
			if got, want := tb.lookup(spi, &c), tb.get(spi); got != want {
				t.Fatalf("%s: SPI %#x: cached %p, table %p", what, spi, got, want)
			}
		}
	}
	check("empty")
	tb.put(one, saOne)
	check("one installed")
	tb.put(two, saTwo)
	check("two installed in the same shard")
	tb.remove(func(k uint32, _ *InboundSA) bool { return k == one }, &one)
	if tb.lookup(one, &c) != nil {
		t.Fatal("a removed SA still found through the cache")
	}
	check("one removed")
	tb.put(one, &InboundSA{})
	check("one installed again")
	if tb.lookup(two, nil) != saTwo {
		t.Fatal("lookup without a cache")
	}
}

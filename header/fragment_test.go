package header

import (
	"bytes"
	"errors"
	"testing"
)

// fragmentAll runs a fragmenter to the end into fresh buffers.
func fragmentAll(t testing.TB, pkt IPv4, mtu int) ([]IPv4, error) {
	fr, err := NewIPv4Fragmenter(pkt, mtu)
	if err != nil {
		return nil, err
	}
	count := fr.Count()
	var frags []IPv4
	for fr.More() {
		n := fr.NextLength()
		frag, err := fr.Next(make([]byte, n+3))
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if len(frag) != n {
			t.Fatalf("Next wrote %d octets, NextLength said %d", len(frag), n)
		}
		frags = append(frags, frag)
	}
	if count != len(frags) {
		t.Fatalf("Count said %d fragments, Next wrote %d", count, len(frags))
	}
	if _, err := fr.Next(make([]byte, 1500)); !errors.Is(err, ErrNoMoreFragments) {
		t.Fatalf("Next after the last fragment: %v, want ErrNoMoreFragments", err)
	}
	return frags, nil
}

func TestFragmentUDP1500To576(t *testing.T) {
	pkt := udp4Packet(t, 4500, 4500, pattern(1472))
	frags, err := fragmentAll(t, pkt, 576)
	if err != nil {
		t.Fatal(err)
	}
	// 1480 octets of IP payload: 552 + 552 + 376 (552 = 556 rounded
	// down to a multiple of 8).
	wantLens := []int{572, 572, 396}
	wantOffsets := []int{0, 552, 1104}
	if len(frags) != len(wantLens) {
		t.Fatalf("%d fragments, want %d", len(frags), len(wantLens))
	}
	for i, f := range frags {
		if len(f) != wantLens[i] || f.FragmentOffset() != wantOffsets[i] || f.MoreFragments() != (i < 2) || f.DontFragment() {
			t.Errorf("fragment %d: len %d offset %d MF %v DF %v; want len %d offset %d MF %v DF false",
				i, len(f), f.FragmentOffset(), f.MoreFragments(), f.DontFragment(), wantLens[i], wantOffsets[i], i < 2)
		}
	}
	got, err := reassembleIPv4(frags)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, pkt) {
		t.Errorf("reassembled packet differs from the original")
	}
}

func TestFragmentOptionsCopiedByFlag(t *testing.T) {
	opts := []byte{
		0x83, 7, 4, 192, 0, 2, 9, // loose source route: copied
		0x01,                                // NOP: not copied
		0x07, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, // record route: not copied
		0x82, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, // security: copied
		0x44, 4, 5, 0, // timestamp: not copied
		0x00, 0, 0, 0, 0, 0, // end of list and padding
	}
	if len(opts) != 40 {
		t.Fatalf("test options are %d octets", len(opts))
	}
	pkt := ipv4Packet(t, IPv4Fields{TTL: 64, ID: 77, Protocol: IPProtoUDP, Source: hostA4, Destination: hostB4, Options: opts}, pattern(2000))
	frags, err := fragmentAll(t, pkt, 1000)
	if err != nil {
		t.Fatal(err)
	}
	wantLater := []byte{0x83, 7, 4, 192, 0, 2, 9, 0x82, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0} // 18 padded to 20
	for i, f := range frags {
		if len(f) > 1000 {
			t.Errorf("fragment %d is %d octets, over the MTU", i, len(f))
		}
		want := wantLater
		if i == 0 {
			want = opts
		}
		if !bytes.Equal(f.Options(), want) {
			t.Errorf("fragment %d options % x, want % x", i, f.Options(), want)
		}
	}
	got, err := reassembleIPv4(frags)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, pkt) {
		t.Error("reassembled packet differs from the original")
	}
}

func TestFragmentAFragment(t *testing.T) {
	for _, mf := range []bool{true, false} {
		pkt := ipv4Packet(t, IPv4Fields{TTL: 9, ID: 5, Protocol: IPProtoUDP, MoreFragments: mf, FragmentOffset: 1480,
			Source: hostA4, Destination: hostB4}, pattern(1000))
		frags, err := fragmentAll(t, pkt, 300)
		if err != nil {
			t.Fatal(err)
		}
		if frags[0].FragmentOffset() != 1480 || frags[len(frags)-1].MoreFragments() != mf {
			t.Errorf("MF=%v: first offset %d, last MF %v", mf, frags[0].FragmentOffset(), frags[len(frags)-1].MoreFragments())
		}
		got, err := reassembleIPv4(frags)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, pkt) {
			t.Errorf("MF=%v: reassembled fragment differs from the original", mf)
		}
	}
}

func TestFragmentEveryMTU(t *testing.T) {
	for _, size := range []int{24, 25, 31, 32, 33, 100, 577, 1500} {
		pkt := ipv4Packet(t, IPv4Fields{TTL: 1, ID: uint16(size), Protocol: IPProtoTCP, Source: hostA4, Destination: hostB4,
			Options: []byte{0x83, 3, 4, 0}}, pattern(size-24))
		for mtu := 32; mtu <= size+1; mtu++ {
			frags, err := fragmentAll(t, pkt, mtu)
			if err != nil {
				t.Fatalf("size %d mtu %d: %v", size, mtu, err)
			}
			for i, f := range frags {
				if len(f) > mtu {
					t.Fatalf("size %d mtu %d: fragment %d is %d octets", size, mtu, i, len(f))
				}
			}
			got, err := reassembleIPv4(frags)
			if err != nil {
				t.Fatalf("size %d mtu %d: %v", size, mtu, err)
			}
			if !bytes.Equal(got, pkt) {
				t.Fatalf("size %d mtu %d: reassembly differs", size, mtu)
			}
		}
	}
}

func TestFragmentWholePacketIsCopied(t *testing.T) {
	pkt := ipv4Packet(t, IPv4Fields{TTL: 64, DontFragment: true, Protocol: IPProtoUDP, Source: hostA4, Destination: hostB4}, pattern(100))
	frags, err := fragmentAll(t, pkt, 120)
	if err != nil {
		t.Fatal(err)
	}
	if len(frags) != 1 || !bytes.Equal(frags[0], pkt) {
		t.Errorf("a packet that fits gave %d fragments, want one exact copy", len(frags))
	}
}

func TestFragmentRefuses(t *testing.T) {
	df := ipv4Packet(t, IPv4Fields{TTL: 64, DontFragment: true, Protocol: IPProtoUDP, Source: hostA4, Destination: hostB4}, pattern(1480))
	longOpts := ipv4Packet(t, IPv4Fields{TTL: 64, Protocol: IPProtoUDP, Source: hostA4, Destination: hostB4, Options: make([]byte, 40)}, pattern(100))
	badOpt := ipv4Packet(t, IPv4Fields{TTL: 64, Protocol: IPProtoUDP, Source: hostA4, Destination: hostB4, Options: []byte{0x83, 1, 0, 0}}, pattern(100))
	pastEnd := ipv4Packet(t, IPv4Fields{TTL: 64, Protocol: IPProtoUDP, Source: hostA4, Destination: hostB4, Options: []byte{0x01, 0x83, 9, 0}}, pattern(100))
	lonelyType := ipv4Packet(t, IPv4Fields{TTL: 64, Protocol: IPProtoUDP, Source: hostA4, Destination: hostB4, Options: []byte{1, 1, 1, 0x83}}, pattern(100))
	tooFar := ipv4Packet(t, IPv4Fields{TTL: 64, Protocol: IPProtoUDP, MoreFragments: true, FragmentOffset: 65528 - 64,
		Source: hostA4, Destination: hostB4}, pattern(100))
	for _, c := range []struct {
		name string
		pkt  IPv4
		mtu  int
		want error
	}{
		{"DF set", df, 1400, ErrDontFragment},
		{"MTU below header+8", longOpts, 67, ErrMTUTooSmall},
		{"option length 1", badOpt, 64, ErrBadIPv4Options},
		{"option past the header", pastEnd, 64, ErrBadIPv4Options},
		{"option type without length", lonelyType, 64, ErrBadIPv4Options},
		{"offset beyond 65535", tooFar, 64, ErrFragmentTooLong},
	} {
		if _, err := NewIPv4Fragmenter(c.pkt, c.mtu); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := NewIPv4Fragmenter(longOpts, 68); err != nil {
		t.Errorf("MTU of exactly header+8 refused: %v", err)
	}
}

func TestFragmentShortBufferKeepsState(t *testing.T) {
	pkt := udp4Packet(t, 1, 2, pattern(1000))
	fr, err := NewIPv4Fragmenter(pkt, 576)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fr.Next(make([]byte, fr.NextLength()-1)); !errors.Is(err, ErrShortBuffer) {
		t.Fatalf("Next into a short buffer: %v, want ErrShortBuffer", err)
	}
	f, err := fr.Next(make([]byte, 576))
	if err != nil || f.FragmentOffset() != 0 || len(f) != 572 {
		t.Errorf("retry after a short buffer: %v, offset %d, len %d", err, f.FragmentOffset(), len(f))
	}
	var zero IPv4Fragmenter
	if zero.More() || zero.Count() != 0 || zero.NextLength() != 0 {
		t.Error("the zero IPv4Fragmenter claims to have fragments")
	}
	if _, err := zero.Next(make([]byte, 100)); !errors.Is(err, ErrNoMoreFragments) {
		t.Errorf("zero IPv4Fragmenter Next: %v", err)
	}
}

// FuzzFragment splits whatever ParseIPv4 accepts at whatever MTU, and
// checks that the fragments fit and reassemble to the packet.
func FuzzFragment(f *testing.F) {
	f.Add([]byte(udp4Packet(f, 4500, 4500, pattern(200))), uint16(68))
	f.Add([]byte(ipv4Packet(f, IPv4Fields{TTL: 1, Protocol: IPProtoUDP, MoreFragments: true, FragmentOffset: 64,
		Source: hostA4, Destination: hostB4, Options: []byte{0x83, 7, 4, 192, 0, 2, 9, 0}}, pattern(90))), uint16(50))
	f.Fuzz(func(t *testing.T, b []byte, mtu uint16) {
		pkt, ok := ParseIPv4(b)
		if !ok {
			return
		}
		frags, err := fragmentAll(t, pkt, int(mtu))
		switch {
		case errors.Is(err, ErrDontFragment):
			if !pkt.DontFragment() || len(pkt) <= int(mtu) {
				t.Fatalf("ErrDontFragment for DF=%v len %d mtu %d", pkt.DontFragment(), len(pkt), mtu)
			}
			return
		case err != nil:
			return
		}
		if len(frags) == 1 && len(pkt) <= int(mtu) {
			if !bytes.Equal(frags[0], pkt) {
				t.Fatal("a packet that fits was not copied exactly")
			}
			return
		}
		for i, fr := range frags {
			if len(fr) > int(mtu) {
				t.Fatalf("fragment %d is %d octets, mtu %d", i, len(fr), mtu)
			}
		}
		got, err := reassembleIPv4(frags)
		if err != nil {
			t.Fatal(err)
		}
		// The reassembly is the packet with the reserved bit cleared
		// and the checksum made right.
		want := IPv4(bytes.Clone(pkt))
		want.setFlagsOffset(false, pkt.MoreFragments(), pkt.FragmentOffset())
		want.UpdateChecksum()
		if !bytes.Equal(got, want) {
			t.Fatalf("reassembly\n% x\nwant\n% x", got, want)
		}
	})
}

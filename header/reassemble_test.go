package header

import (
	"fmt"
	"slices"
)

// reassembleIPv4 is a receiver's reassembly (RFC 791 §3.2), for tests
// only: it takes the fragments of one datagram (or of one fragment that
// was split again) in any order, checks what a receiver relies on, and
// returns the datagram they make, its header taken from the fragment at
// the lowest offset with MF from the one at the highest, and a fresh
// checksum.
func reassembleIPv4(frags []IPv4) (IPv4, error) {
	if len(frags) == 0 {
		return nil, fmt.Errorf("no fragments")
	}
	sorted := slices.Clone(frags)
	slices.SortFunc(sorted, func(a, b IPv4) int { return a.FragmentOffset() - b.FragmentOffset() })
	first, last := sorted[0], sorted[len(sorted)-1]
	var data []byte
	for i, f := range sorted {
		if g, ok := ParseIPv4(f); !ok || len(g) != len(f) {
			return nil, fmt.Errorf("fragment %d does not parse as itself", i)
		}
		if !f.ChecksumValid() {
			return nil, fmt.Errorf("fragment %d has a bad header checksum", i)
		}
		if f.ID() != first.ID() || f.Source() != first.Source() || f.Destination() != first.Destination() ||
			f.Protocol() != first.Protocol() || f.TTL() != first.TTL() || f.TOS() != first.TOS() {
			return nil, fmt.Errorf("fragment %d does not belong with fragment 0", i)
		}
		if want := first.FragmentOffset() + len(data); f.FragmentOffset() != want {
			return nil, fmt.Errorf("fragment %d at offset %d, want %d (gap or overlap)", i, f.FragmentOffset(), want)
		}
		if i < len(sorted)-1 {
			if !f.MoreFragments() {
				return nil, fmt.Errorf("fragment %d of %d has MF clear", i, len(sorted))
			}
			if len(f.Payload())%8 != 0 || len(f.Payload()) == 0 {
				return nil, fmt.Errorf("fragment %d carries %d octets, want a positive multiple of 8", i, len(f.Payload()))
			}
		}
		data = append(data, f.Payload()...)
	}
	hlen := first.HeaderLength()
	out := make([]byte, hlen+len(data))
	copy(out, first[:hlen])
	copy(out[hlen:], data)
	d := IPv4(out)
	d.SetTotalLength(uint16(len(out)))
	d.setFlagsOffset(first.DontFragment(), last.MoreFragments(), first.FragmentOffset())
	d.UpdateChecksum()
	return d, nil
}

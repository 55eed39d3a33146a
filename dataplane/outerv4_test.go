package dataplane

import (
	"bytes"
	"net/netip"
	"testing"

	"ipsecgw/header"
)

// TestOuterV4MatchesEncode builds outer headers from the SA's template and
// with header.EncodeIPv4 for the values that change per packet, including
// those whose checksum sum carries: the octets must be the same.
func TestOuterV4MatchesEncode(t *testing.T) {
	addrs := [][2]netip.Addr{
		{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")},
		{netip.MustParseAddr("203.0.113.255"), netip.MustParseAddr("198.51.100.254")},
		{netip.MustParseAddr("255.255.255.254"), netip.MustParseAddr("255.255.255.255")},
	}
	for _, a := range addrs {
		for _, proto := range []byte{header.IPProtoESP, header.IPProtoUDP} {
			o := newOuterV4(a[0], a[1], proto)
			for _, tos := range []uint8{0, 0x02, 0xb8, 0xff} {
				for _, total := range []uint16{20, 1500, 0xffff} {
					for _, id := range []uint16{0, 1, 0x8000, 0xffff} {
						for _, df := range []bool{false, true} {
							got := make([]byte, total)
							o.write(got, tos, total, id, df)
							want := make([]byte, total)
							if _, ok := header.EncodeIPv4(want, header.IPv4Fields{TOS: tos, TotalLength: total, ID: id, DontFragment: df,
								TTL: outerTTL, Protocol: proto, Source: a[0], Destination: a[1]}); !ok {
								t.Fatal("EncodeIPv4 refused")
							}
							if !bytes.Equal(got[:20], want[:20]) {
								t.Fatalf("%v→%v proto %d tos %#x len %d id %d df %v:\n got %x\nwant %x", a[0], a[1], proto, tos, total, id, df, got[:20], want[:20])
							}
						}
					}
				}
			}
		}
	}
}

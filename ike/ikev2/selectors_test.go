package ikev2

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"ipsecgw/config/schema"
	"ipsecgw/ike/wire"
)

func sel(prefix string) wire.TrafficSelector { return PrefixSelector(netip.MustParsePrefix(prefix)) }

func sels(prefixes ...string) []wire.TrafficSelector {
	out := make([]wire.TrafficSelector, len(prefixes))
	for i, p := range prefixes {
		out[i] = sel(p)
	}
	return out
}

func rangeSel(start, end string) wire.TrafficSelector {
	return wire.TrafficSelector{EndPort: 65535, Start: netip.MustParseAddr(start), End: netip.MustParseAddr(end)}
}

func TestVPNSelectors(t *testing.T) {
	pfx := netip.MustParsePrefix
	ike := func(pid schema.TrafficSelector) *schema.VPNIKE { return &schema.VPNIKE{ProxyIdentity: pid} }
	for _, tc := range []struct {
		name string
		vpn  *schema.VPN
		want []Selectors
		err  string
	}{
		{"route-based default: both families", &schema.VPN{Name: "v", IKE: ike(schema.TrafficSelector{Service: "any"})},
			[]Selectors{{Local: sels("0.0.0.0/0", "::/0"), Remote: sels("0.0.0.0/0", "::/0")}}, ""},
		{"traffic selectors: one Child SA each", &schema.VPN{Name: "v", IKE: ike(schema.TrafficSelector{Service: "any"}),
			TrafficSelectors: []schema.TrafficSelector{
				{Name: "ts1", Local: pfx("10.1.0.0/16"), Remote: pfx("10.2.0.0/16"), Service: "any"},
				{Name: "ts2", Local: pfx("2001:db8:1::/48"), Remote: pfx("2001:db8:2::/48"), Service: "any"},
			}},
			[]Selectors{
				{Local: sels("10.1.0.0/16"), Remote: sels("10.2.0.0/16")},
				{Local: sels("2001:db8:1::/48"), Remote: sels("2001:db8:2::/48")},
			}, ""},
		{"proxy-identity", &schema.VPN{Name: "v", IKE: ike(schema.TrafficSelector{Local: pfx("192.0.2.0/24"), Remote: pfx("198.51.100.0/24"), Service: "any"})},
			[]Selectors{{Local: sels("192.0.2.0/24"), Remote: sels("198.51.100.0/24")}}, ""},
		{"proxy-identity local only", &schema.VPN{Name: "v", IKE: ike(schema.TrafficSelector{Local: pfx("192.0.2.0/24"), Service: "any"})},
			[]Selectors{{Local: sels("192.0.2.0/24"), Remote: sels("0.0.0.0/0")}}, ""},
		{"proxy-identity remote only, IPv6", &schema.VPN{Name: "v", IKE: ike(schema.TrafficSelector{Remote: pfx("2001:db8::/32")})},
			[]Selectors{{Local: sels("::/0"), Remote: sels("2001:db8::/32")}}, ""},
		{"named service", &schema.VPN{Name: "v", IKE: ike(schema.TrafficSelector{Local: pfx("192.0.2.0/24"), Service: "junos-http"})},
			nil, "service junos-http is not implemented"},
		{"mixed families", &schema.VPN{Name: "v", IKE: ike(schema.TrafficSelector{}),
			TrafficSelectors: []schema.TrafficSelector{{Name: "ts1", Local: pfx("10.1.0.0/16"), Remote: pfx("2001:db8::/32")}}},
			nil, "traffic-selector ts1 mixes"},
		{"manual", &schema.VPN{Name: "m", Manual: &schema.ManualSA{}}, nil, "VPN m has no ike stanza"},
	} {
		got, err := vpnSelectorsOf(tc.vpn)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v\n got %+v\nwant %+v", tc.name, err, got, tc.want)
		}
	}
	// Seed 004 is route-based with neither traffic-selector nor
	// proxy-identity.
	got, err := vpnSelectorsOf(seed004(t).IPsec.VPNs[0])
	if err != nil || len(got) != 1 || len(got[0].Local) != 2 {
		t.Errorf("seed 004: %v %+v", err, got)
	}
}

func TestPrefixSelector(t *testing.T) {
	for _, tc := range []struct{ prefix, start, end string }{
		{"10.1.2.3/16", "10.1.0.0", "10.1.255.255"},
		{"0.0.0.0/0", "0.0.0.0", "255.255.255.255"},
		{"192.0.2.7/32", "192.0.2.7", "192.0.2.7"},
		{"192.0.2.0/25", "192.0.2.0", "192.0.2.127"},
		{"::/0", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"2001:db8::/35", "2001:db8::", "2001:db8:1fff:ffff:ffff:ffff:ffff:ffff"},
		{"::ffff:10.0.0.0/104", "10.0.0.0", "10.255.255.255"},
	} {
		got := sel(tc.prefix)
		if got != rangeSel(tc.start, tc.end) {
			t.Errorf("%s: %v, want %s-%s", tc.prefix, got, tc.start, tc.end)
		}
	}
}

func TestSelectorPrefixes(t *testing.T) {
	for _, tc := range []struct {
		start, end string
		want       []string
	}{
		{"10.0.0.0", "10.0.0.255", []string{"10.0.0.0/24"}},
		{"10.0.0.1", "10.0.0.6", []string{"10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"}},
		{"0.0.0.0", "255.255.255.255", []string{"0.0.0.0/0"}},
		{"255.255.255.255", "255.255.255.255", []string{"255.255.255.255/32"}},
		{"::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", []string{"::/0"}},
		{"2001:db8::ffff", "2001:db8::1:0", []string{"2001:db8::ffff/128", "2001:db8::1:0/128"}},
		{"10.0.0.2", "10.0.0.1", nil},
		{"10.0.0.1", "::1", nil},
	} {
		var want []netip.Prefix
		for _, p := range tc.want {
			want = append(want, netip.MustParsePrefix(p))
		}
		if got := SelectorPrefixes(rangeSel(tc.start, tc.end)); !reflect.DeepEqual(got, want) {
			t.Errorf("%s-%s: %v, want %v", tc.start, tc.end, got, want)
		}
	}
	// A prefix is a range, and the range comes back as that prefix.
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		var a [16]byte
		for i := range a {
			a[i] = byte(r.Uint32())
		}
		addr := netip.AddrFrom16(a)
		if r.IntN(2) == 0 {
			addr = netip.AddrFrom4([4]byte(a[:4]))
		}
		p := netip.PrefixFrom(addr, r.IntN(addr.BitLen()+1)).Masked()
		if got := SelectorPrefixes(PrefixSelector(p)); len(got) != 1 || got[0] != p {
			t.Fatalf("%v: %v", p, got)
		}
	}
}

func TestIntersect(t *testing.T) {
	ports := func(ts wire.TrafficSelector, proto uint8, start, end uint16) wire.TrafficSelector {
		ts.Protocol, ts.StartPort, ts.EndPort = proto, start, end
		return ts
	}
	net := sel("10.0.0.0/8")
	for _, tc := range []struct {
		name string
		a, b wire.TrafficSelector
		want wire.TrafficSelector
		ok   bool
	}{
		{"subnet of any", sel("0.0.0.0/0"), sel("10.1.0.0/16"), sel("10.1.0.0/16"), true},
		{"overlapping ranges", rangeSel("10.0.0.10", "10.0.0.20"), rangeSel("10.0.0.15", "10.0.0.30"), rangeSel("10.0.0.15", "10.0.0.20"), true},
		{"disjoint", sel("10.1.0.0/16"), sel("10.2.0.0/16"), wire.TrafficSelector{}, false},
		{"families", sel("0.0.0.0/0"), sel("::/0"), wire.TrafficSelector{}, false},
		{"protocol any meets TCP", net, ports(net, 6, 0, 65535), ports(net, 6, 0, 65535), true},
		{"TCP meets UDP", ports(net, 6, 0, 65535), ports(net, 17, 0, 65535), wire.TrafficSelector{}, false},
		{"port ranges", ports(net, 6, 1000, 2000), ports(net, 0, 1500, 65535), ports(net, 6, 1500, 2000), true},
		{"disjoint ports", ports(net, 6, 1, 10), ports(net, 6, 11, 20), wire.TrafficSelector{}, false},
		{"OPAQUE meets all ports", ports(net, 17, 65535, 0), net, ports(net, 17, 65535, 0), true},
		{"OPAQUE meets OPAQUE", ports(net, 17, 65535, 0), ports(net, 17, 65535, 0), ports(net, 17, 65535, 0), true},
		{"OPAQUE meets a port", ports(net, 17, 65535, 0), ports(net, 17, 53, 53), wire.TrafficSelector{}, false},
		{"inverted ports", ports(net, 6, 20, 10), net, wire.TrafficSelector{}, false},
		{"inverted addresses", rangeSel("10.0.0.2", "10.0.0.1"), net, wire.TrafficSelector{}, false},
	} {
		got, ok := Intersect(tc.a, tc.b)
		if ok != tc.ok || got != tc.want {
			t.Errorf("%s: %v %v, want %v %v", tc.name, got, ok, tc.want, tc.ok)
		}
		if back, okBack := Intersect(tc.b, tc.a); okBack != ok || back != got {
			t.Errorf("%s: not symmetric: %v %v", tc.name, back, okBack)
		}
	}
}

func TestNarrow(t *testing.T) {
	anyBoth := Selectors{Local: sels("0.0.0.0/0", "::/0"), Remote: sels("0.0.0.0/0", "::/0")}
	subnets := Selectors{Local: sels("10.2.0.0/16"), Remote: sels("10.1.0.0/16")}
	for _, tc := range []struct {
		name     string
		tsi, tsr []wire.TrafficSelector
		policy   []Selectors
		want     Narrowed
		err      bool
	}{
		{"0/0 proposed, subnets allowed: narrowed to the subnets",
			sels("0.0.0.0/0"), sels("0.0.0.0/0"), []Selectors{subnets},
			Narrowed{TSi: sels("10.1.0.0/16"), TSr: sels("10.2.0.0/16")}, false},
		{"subnets proposed, 0/0 allowed: unchanged",
			sels("10.1.0.0/16"), sels("10.2.0.0/16"), []Selectors{anyBoth},
			Narrowed{TSi: sels("10.1.0.0/16"), TSr: sels("10.2.0.0/16")}, false},
		{"route-based both ways", sels("0.0.0.0/0", "::/0"), sels("0.0.0.0/0", "::/0"), []Selectors{anyBoth},
			Narrowed{TSi: sels("0.0.0.0/0", "::/0"), TSr: sels("0.0.0.0/0", "::/0")}, false},
		{"disjoint: TS_UNACCEPTABLE",
			sels("172.16.0.0/12"), sels("10.2.0.0/16"), []Selectors{subnets}, Narrowed{}, true},
		{"one side disjoint is enough",
			sels("10.1.0.0/16"), sels("10.3.0.0/16"), []Selectors{subnets}, Narrowed{}, true},
		// The tunnel runs over IPv4 (IKE_SA_INIT between IPv4 addresses):
		// nothing ties the selectors' family to it.
		{"IPv6 selectors over an IPv4 tunnel",
			sels("::/0"), sels("::/0"), []Selectors{anyBoth},
			Narrowed{TSi: sels("::/0"), TSr: sels("::/0")}, false},
		{"IPv6 subnets over an IPv4 tunnel, second policy entry",
			sels("2001:db8:1::/48"), sels("2001:db8:2::/64"),
			[]Selectors{subnets, {Local: sels("2001:db8:2::/48"), Remote: sels("2001:db8:1::/48")}},
			Narrowed{TSi: sels("2001:db8:1::/48"), TSr: sels("2001:db8:2::/64"), Policy: 1}, false},
		{"families on one side only are dropped",
			sels("10.1.0.0/16", "2001:db8:1::/48"), sels("10.2.0.0/16"), []Selectors{anyBoth},
			Narrowed{TSi: sels("10.1.0.0/16"), TSr: sels("10.2.0.0/16")}, false},
		{"no common family",
			sels("0.0.0.0/0"), sels("::/0"), []Selectors{anyBoth}, Narrowed{}, true},
		// §2.9: the first selectors are the packet that triggered the
		// request; the policy entry that accepts it wins over an earlier
		// one that accepts only other traffic, and it comes first.
		{"the triggering packet picks the policy entry",
			[]wire.TrafficSelector{sel("10.1.1.5/32"), sel("10.1.0.0/16")},
			[]wire.TrafficSelector{sel("10.2.2.9/32"), sel("10.2.0.0/16")},
			[]Selectors{
				{Local: sels("10.2.128.0/17"), Remote: sels("10.1.0.0/16")},
				{Local: sels("10.2.2.0/24"), Remote: sels("10.1.1.0/24")},
			},
			Narrowed{TSi: sels("10.1.1.5/32", "10.1.1.0/24"), TSr: sels("10.2.2.9/32", "10.2.2.0/24"), Policy: 1}, false},
		{"without the triggering packet, the first entry that fits",
			[]wire.TrafficSelector{sel("10.1.1.5/32"), sel("10.1.0.0/16")},
			[]wire.TrafficSelector{sel("10.2.2.9/32"), sel("10.2.0.0/16")},
			[]Selectors{{Local: sels("10.2.128.0/17"), Remote: sels("10.1.0.0/16")}},
			Narrowed{TSi: sels("10.1.1.5/32", "10.1.0.0/16"), TSr: sels("10.2.128.0/17")}, false},
		{"nothing proposed", nil, sels("0.0.0.0/0"), []Selectors{anyBoth}, Narrowed{}, true},
		{"no policy", sels("0.0.0.0/0"), sels("0.0.0.0/0"), nil, Narrowed{}, true},
	} {
		got, err := Narrow(tc.tsi, tc.tsr, tc.policy)
		if tc.err {
			if !errors.Is(err, ErrTSUnacceptable) || NotifyFor(err) != wire.TS_UNACCEPTABLE {
				t.Errorf("%s: %v %+v, want TS_UNACCEPTABLE", tc.name, err, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v\n got %+v\nwant %+v", tc.name, err, got, tc.want)
			continue
		}
		// What the responder answers, the initiator accepts.
		if err := CheckNarrowed(tc.tsi, tc.tsr, got.TSi, got.TSr); err != nil {
			t.Errorf("%s: the initiator refuses the answer: %v", tc.name, err)
		}
	}
	_, err := Narrow(sels("172.16.0.0/12"), sels("10.2.0.0/16"), []Selectors{subnets})
	for _, want := range []string{"TSi [172.16.0.0-172.31.255.255", "local policy local [10.2.0.0-10.2.255.255"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q: %v", want, err)
		}
	}
}

func TestCheckNarrowed(t *testing.T) {
	sent := sels("10.1.0.0/16")
	for _, tc := range []struct {
		name string
		got  []wire.TrafficSelector
		ok   bool
	}{
		{"same", sels("10.1.0.0/16"), true},
		{"narrower", sels("10.1.2.0/24", "10.1.3.4/32"), true},
		{"wider", sels("10.0.0.0/8"), false},
		{"elsewhere", sels("10.2.0.0/24"), false},
		{"empty", nil, false},
	} {
		err := CheckNarrowed(sent, sent, tc.got, sent)
		if (err == nil) != tc.ok || err != nil && NotifyFor(err) != wire.TS_UNACCEPTABLE {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

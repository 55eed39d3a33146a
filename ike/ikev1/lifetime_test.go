package ikev1

import (
	"net/netip"
	"testing"
	"time"

	"ipsecgw/clock"
	"ipsecgw/ike"
	"ipsecgw/ike/iketest"
	v1 "ipsecgw/ike/wire/v1"
	"ipsecgw/transform"
)

// TestLifetimesByType: each Life Duration belongs to the Life Type before
// it, in whichever order a peer sends the two (RFC 2407 §4.5). Reading
// "the first duration" took a kilobytes lifetime sent first for seconds.
func TestLifetimesByType(t *testing.T) {
	for _, tc := range []struct {
		name  string
		attrs []v1.Attribute
		secs  time.Duration
		kb    uint64
	}{
		{"seconds only", []v1.Attribute{v1.Basic(v1.IPsecLifeType, v1.LifeSeconds), v1.Variable(v1.IPsecLifeDuration, 3600)}, time.Hour, 0},
		{"seconds then kilobytes", []v1.Attribute{
			v1.Basic(v1.IPsecLifeType, v1.LifeSeconds), v1.Variable(v1.IPsecLifeDuration, 3600),
			v1.Basic(v1.IPsecLifeType, v1.LifeKilobytes), v1.Variable(v1.IPsecLifeDuration, 4608000)}, time.Hour, 4608000},
		{"kilobytes then seconds", []v1.Attribute{
			v1.Basic(v1.IPsecLifeType, v1.LifeKilobytes), v1.Variable(v1.IPsecLifeDuration, 3072),
			v1.Basic(v1.IPsecEncapsulationMode, v1.EncapTunnel),
			v1.Basic(v1.IPsecLifeType, v1.LifeSeconds), v1.Variable(v1.IPsecLifeDuration, 28800)}, 8 * time.Hour, 3072},
		{"kilobytes only", []v1.Attribute{v1.Basic(v1.IPsecLifeType, v1.LifeKilobytes), v1.Variable(v1.IPsecLifeDuration, 100000)}, 0, 100000},
		{"a duration with no type", []v1.Attribute{v1.Variable(v1.IPsecLifeDuration, 60)}, 0, 0},
		{"none", nil, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			secs, kb := lifetimes(tc.attrs, v1.IPsecLifeType, v1.IPsecLifeDuration)
			if secs != tc.secs || kb != tc.kb {
				t.Fatalf("lifetimes = %v, %d KB; want %v, %d KB", secs, kb, tc.secs, tc.kb)
			}
		})
	}
}

// TestESPOfferLifeKilobytes: lifetime-kilobytes is offered as a second
// Life Type/Life Duration pair after the seconds, and read back as such.
func TestESPOfferLifeKilobytes(t *testing.T) {
	enc, _ := transform.LookupKeyword(transform.IPsec, transform.TypeENCR, "aes-256-cbc")
	integ, _ := transform.LookupKeyword(transform.IPsec, transform.TypeINTEG, "hmac-sha-256-128")
	props := []ike.ESPProposal{{Name: "p", Encryption: enc, Integrity: integ, Lifetime: 3600 * time.Second, LifeKilobytes: 3072}}
	sa, err := espOffer(props, nil, 0x1234, true, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	s, err := espOf(sa.Proposals[0].Transforms[0])
	if err != nil {
		t.Fatal(err)
	}
	if s.Lifetime != time.Hour || s.LifeKilobytes != 3072 || !s.UDP {
		t.Fatalf("offered %+v", s)
	}
	props[0].LifeKilobytes = 0
	sa, _ = espOffer(props, nil, 0x1234, false, 0, 0)
	if s, _ := espOf(sa.Proposals[0].Transforms[0]); s.LifeKilobytes != 0 {
		t.Fatalf("offered %d KB without lifetime-kilobytes", s.LifeKilobytes)
	}
	for _, a := range sa.Proposals[0].Transforms[0].Attributes {
		if v, _ := a.Uint(); a.Type == v1.IPsecLifeType && v == v1.LifeKilobytes {
			t.Fatal("a kilobytes Life Type without lifetime-kilobytes")
		}
	}
}

// TestByteLifetimes: the shorter lifetime in bytes applies; the soft one
// comes at 85-90 % on the side that negotiated the SA, 92-97 % on the
// other.
func TestByteLifetimes(t *testing.T) {
	if s, h := byteLifetimes(0, 0, true); s != 0 || h != 0 {
		t.Fatalf("no lifetime: %d, %d", s, h)
	}
	for _, tc := range []struct {
		negotiated, configured uint64
		initiated              bool
		lo, hi                 float64
	}{
		{3072, 0, true, 0.85, 0.90},
		{0, 3072, false, 0.92, 0.97},
		{4096, 3072, true, 0.85, 0.90},
		{3072, 4096, false, 0.92, 0.97},
	} {
		for range 20 {
			soft, hard := byteLifetimes(tc.negotiated, tc.configured, tc.initiated)
			if hard != 3072*1024 || soft < uint64(tc.lo*float64(hard))-1 || soft > uint64(tc.hi*float64(hard)) {
				t.Fatalf("%+v: soft %d, hard %d", tc, soft, hard)
			}
		}
	}
}

// TestQuickModeByteLifetime: with lifetime-kilobytes on one side, both
// install the pair with that lifetime in bytes (the initiator offered it,
// the responder took it from the offer), and a soft limit reported by the
// data plane makes the side that reached it rekey.
func TestQuickModeByteLifetime(t *testing.T) {
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	kb := "set security ipsec proposal ip1 lifetime-kilobytes 3072\n"
	a, ia := newSide(t, side{1, 2, "group14", "sha1", "aes-128-cbc", "k", "aes-128-cbc", "hmac-sha1-96", kb, nil}, p)
	b, ib := newSide(t, side{2, 1, "group14", "sha1", "aes-128-cbc", "k", "aes-128-cbc", "hmac-sha1-96", "", nil}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	eventually(t, "up", func() bool { return up(a) && up(b) })
	ca, cb := ia.get()[0], ib.get()[0]
	if ca.HardBytes != 3072*1024 || cb.HardBytes != 3072*1024 || ca.SoftBytes == 0 || cb.SoftBytes == 0 {
		t.Fatalf("byte lifetimes: initiator %d/%d, responder %d/%d", ca.SoftBytes, ca.HardBytes, cb.SoftBytes, cb.HardBytes)
	}
	b.ChildBytesReached(cb, false)
	eventually(t, "the rekeyed pair", func() bool { n, _ := ia.counts(); m, _ := ib.counts(); return n == 2 && m == 2 })
	a.Close()
	b.Close()
	p.wg.Wait()
}

// TestQuickModeLifetimesAreTheScheduledOnes: ChildLifetimes reports the
// moments an IPsec SA pair's timers are armed for (what Export hands a
// cluster peer too): the side that ran the Quick Mode rekeys at its RekeyAt
// (not a moment before), within 85-90 % of lifetime-seconds, the other
// side's at 92-97 %, the hard lifetime at 100 %; the pair a rekey makes
// counts from its own birth.
func TestQuickModeLifetimesAreTheScheduledOnes(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := clock.NewFake(start)
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	life := "set security ipsec proposal ip1 lifetime-seconds 180\n"
	a, ia := newSide(t, side{1, 2, "group14", "sha1", "aes-128-cbc", "k", "aes-128-cbc", "hmac-sha1-96", life, clk}, p)
	b, ib := newSide(t, side{2, 1, "group14", "sha1", "aes-128-cbc", "k", "aes-128-cbc", "hmac-sha1-96", life, clk}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	eventually(t, "up", func() bool { return up(a) && up(b) && len(a.ChildLifetimes()) == 1 && len(b.ChildLifetimes()) == 1 })

	within := func(who string, got ike.ScheduledChild, c *ike.ChildSA, born time.Time, lo, hi float64) {
		t.Helper()
		if err := iketest.CheckScheduled(got, c, "vpn1", born, 180*time.Second, lo, hi); err != nil {
			t.Fatalf("%s: %v", who, err)
		}
	}
	la, lb := a.ChildLifetimes(), b.ChildLifetimes()
	within("initiator", la[0], ia.get()[0], start, 0.85, 0.90)
	within("responder", lb[0], ib.get()[0], start, 0.92, 0.97)
	all := func(netip.Addr) bool { return true }
	if ex := a.Export(all); len(ex) != 1 || len(ex[0].Children) != 1 ||
		!ex[0].Children[0].RekeyAt.Equal(la[0].RekeyAt) || !ex[0].Children[0].ExpireAt.Equal(la[0].ExpireAt) {
		t.Fatalf("Export's deadlines differ from the reported ones %+v: %+v", la[0], ex)
	}

	rekeyAt := la[0].RekeyAt
	clk.Advance(rekeyAt.Sub(start) - time.Millisecond)
	time.Sleep(50 * time.Millisecond) // a Quick Mode started would complete
	if n, _ := ia.counts(); n != 1 {
		t.Fatalf("rekeyed before the reported moment: %d pairs installed", n)
	}
	clk.Advance(time.Millisecond)
	eventually(t, "the rekey at the reported moment", func() bool { n, _ := ib.counts(); m, _ := ia.counts(); return n == 2 && m == 2 })
	clk.Advance(2 * time.Second) // the old pair is deleted a second later
	eventually(t, "the old pair gone", func() bool {
		_, ra := ia.counts()
		_, rb := ib.counts()
		return ra == 1 && rb == 1 && len(a.ChildLifetimes()) == 1 && len(b.ChildLifetimes()) == 1
	})
	la, lb = a.ChildLifetimes(), b.ChildLifetimes()
	within("initiator's new pair", la[0], ia.get()[1], rekeyAt, 0.85, 0.90)
	within("responder's new pair", lb[0], ib.get()[1], rekeyAt, 0.92, 0.97)
	a.Close()
	b.Close()
	p.wg.Wait()
}

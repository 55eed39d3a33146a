package ikev1

import (
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"

	"ipsecgw/config"
	"ipsecgw/config/schema"
	"ipsecgw/daemon/resolve"
	"ipsecgw/ike"
)

// twoVPNConfig is a gateway to 192.0.2.%[2]d from 192.0.2.%[1]d with
// VPNs va (PFS group 14, AES-128) and vb (no PFS, AES-256) on it, each
// with its proxy identities (%[3]s/%[4]s: va's local and remote network,
// %[5]s/%[6]s: vb's) and st0 unit; %[7]s is more statements.
const twoVPNConfig = `set interfaces st0 unit 1 family inet
set interfaces st0 unit 2 family inet
set interfaces st0 unit 3 family inet
set security ike proposal p1 authentication-method pre-shared-keys
set security ike proposal p1 dh-group group14
set security ike proposal p1 authentication-algorithm sha-256
set security ike proposal p1 encryption-algorithm aes-256-cbc
set security ike policy pol mode main
set security ike policy pol proposals p1
set security ike policy pol pre-shared-key ascii-text "secret"
set security ike gateway gw ike-policy pol
set security ike gateway gw address 192.0.2.%[2]d
set security ike gateway gw version v1-only
set security ipsec proposal pa protocol esp
set security ipsec proposal pa encryption-algorithm aes-128-cbc
set security ipsec proposal pa authentication-algorithm hmac-sha-256-128
set security ipsec proposal pb protocol esp
set security ipsec proposal pb encryption-algorithm aes-256-cbc
set security ipsec proposal pb authentication-algorithm hmac-sha1-96
set security ipsec policy ipa proposals pa
set security ipsec policy ipa perfect-forward-secrecy keys group14
set security ipsec policy ipb proposals pb
set security ipsec vpn va bind-interface st0.1
set security ipsec vpn va ike gateway gw
set security ipsec vpn va ike ipsec-policy ipa
set security ipsec vpn va ike proxy-identity local %[3]s
set security ipsec vpn va ike proxy-identity remote %[4]s
set security ipsec vpn vb bind-interface st0.2
set security ipsec vpn vb ike gateway gw
set security ipsec vpn vb ike ipsec-policy ipb
set security ipsec vpn vb ike proxy-identity local %[5]s
set security ipsec vpn vb ike proxy-identity remote %[6]s
%[7]s`

// vpnInstalls records the IPsec SAs an engine holds, by VPN.
type vpnInstalls struct {
	mu   sync.Mutex
	next uint32
	in   map[*ike.ChildSA]string
}

func (i *vpnInstalls) AllocateSPI() (uint32, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.next++
	return i.next, nil
}

func (i *vpnInstalls) InstallChild(vpn string, c *ike.ChildSA) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.in[c] = vpn
	return nil
}

func (i *vpnInstalls) RemoveChild(vpn string, c *ike.ChildSA) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.in[c] == vpn {
		delete(i.in, c)
	}
}

// ResumeChild makes vpnInstalls a ResumeInstaller, for Import.
func (i *vpnInstalls) ResumeChild(vpn string, c *ike.ChildSA, _, _ uint64) error {
	return i.InstallChild(vpn, c)
}

// of is the IPsec SAs installed for vpn.
func (i *vpnInstalls) of(vpn string) []*ike.ChildSA {
	i.mu.Lock()
	defer i.mu.Unlock()
	var out []*ike.ChildSA
	for c, v := range i.in {
		if v == vpn {
			out = append(out, c)
		}
	}
	return out
}

// vpnSide is one engine of twoVPNConfig's, its peers and what it
// installed and reported.
type vpnSide struct {
	e      *Engine
	inst   *vpnInstalls
	peers  map[string]*ike.Peer
	local  netip.Addr
	mu     sync.Mutex
	events []ike.Event
}

// failed: the side reported a failed negotiation that match accepts.
func (s *vpnSide) failed(match func(ike.Event) bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.ContainsFunc(s.events, func(ev ike.Event) bool { return ev.Kind == ike.NegotiationFailed && match(ev) })
}

// keepBothUp has a side keep both VPNs up; the other side only answers.
const keepBothUp = "set security ipsec vpn va establish-tunnels immediately\nset security ipsec vpn vb establish-tunnels immediately\n"

// twoVPNSides is two engines with VPNs va and vb on one gateway each,
// a keeping both up, a's negotiation of va started; both are closed at
// the test's end.
func twoVPNSides(t *testing.T) (a, b *vpnSide) {
	t.Helper()
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a = newVPNSide(t, p, 1, 2, [4]string{"198.18.1.0/24", "198.18.2.0/24", "198.18.3.0/24", "198.18.4.0/24"}, keepBothUp)
	b = newVPNSide(t, p, 2, 1, [4]string{"198.18.2.0/24", "198.18.1.0/24", "198.18.4.0/24", "198.18.3.0/24"}, "")
	t.Cleanup(func() {
		a.e.Close()
		b.e.Close()
		p.wg.Wait()
	})
	if err := a.e.InitiateVPNFrom(a.local, b.local, "va", false); err != nil {
		t.Fatal(err)
	}
	return a, b
}

func newVPNSide(t *testing.T, p *pipe, me, other int, nets [4]string, extra string) *vpnSide {
	t.Helper()
	src := fmt.Sprintf(twoVPNConfig, me, other, nets[0], nets[1], nets[2], nets[3], extra)
	tr, err := config.Parse("gw.conf", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := schema.Build(tr, schema.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := &vpnSide{inst: &vpnInstalls{next: uint32(me) << 24, in: map[*ike.ChildSA]string{}}, peers: map[string]*ike.Peer{},
		local: netip.MustParseAddr(fmt.Sprintf("192.0.2.%d", me))}
	s.e = NewEngine(ike.Config{Transport: p, Installer: s.inst, Logger: testLogger(), Events: func(ev ike.Event) {
		s.mu.Lock()
		s.events = append(s.events, ev)
		s.mu.Unlock()
	}})
	for _, v := range cfg.IPsec.VPNs {
		peer, err := resolve.Peer(v, s.local)
		if err != nil {
			t.Fatal(err)
		}
		s.peers[v.Name] = peer
		if err := s.e.AddPeer(peer); err != nil {
			t.Fatal(err)
		}
	}
	p.mu.Lock()
	p.engines[s.local] = s.e
	p.mu.Unlock()
	return s
}

// isakmp is the side's one ISAKMP SA up, with how many IPsec SA pairs.
func (s *vpnSide) isakmp(t *testing.T) (ike.SAInfo, bool) {
	var up []ike.SAInfo
	for _, i := range s.e.SAs() {
		if i.State == "UP" {
			up = append(up, i)
		}
	}
	if len(up) > 1 {
		t.Fatalf("%d ISAKMP SAs up, want one: %+v", len(up), up)
	}
	if len(up) == 0 {
		return ike.SAInfo{}, false
	}
	return up[0], true
}

// paired checks that a's one pair of vpn is b's, with the proxy
// identities and ESP cipher of that VPN.
func paired(t *testing.T, a, b *vpnSide, vpn, local, remote, esp string, pfs int) *ike.ChildSA {
	t.Helper()
	ca, cb := a.inst.of(vpn), b.inst.of(vpn)
	if len(ca) != 1 || len(cb) != 1 {
		t.Fatalf("VPN %s: %d and %d IPsec SA pairs, want one each", vpn, len(ca), len(cb))
	}
	x, y := ca[0], cb[0]
	if x.OutboundSPI != y.InboundSPI || y.OutboundSPI != x.InboundSPI {
		t.Fatalf("VPN %s: SPIs do not pair: %x/%x and %x/%x", vpn, x.InboundSPI, x.OutboundSPI, y.InboundSPI, y.OutboundSPI)
	}
	if x.VPN != vpn || y.VPN != vpn {
		t.Fatalf("VPN %s: IPsec SAs say VPN %q and %q", vpn, x.VPN, y.VPN)
	}
	l, r := netip.MustParsePrefix(local), netip.MustParsePrefix(remote)
	if !slices.Equal(x.LocalTS, []netip.Prefix{l}) || !slices.Equal(x.RemoteTS, []netip.Prefix{r}) ||
		!slices.Equal(y.LocalTS, []netip.Prefix{r}) || !slices.Equal(y.RemoteTS, []netip.Prefix{l}) {
		t.Fatalf("VPN %s: proxy identities %v↔%v and %v↔%v, want %s↔%s", vpn, x.LocalTS, x.RemoteTS, y.LocalTS, y.RemoteTS, local, remote)
	}
	if x.Encryption.IPsecKeyword != esp || y.Encryption.IPsecKeyword != esp {
		t.Fatalf("VPN %s: ESP %s and %s, want %s", vpn, x.Encryption.IPsecKeyword, y.Encryption.IPsecKeyword, esp)
	}
	if x.PFSGroup != pfs || y.PFSGroup != pfs {
		t.Fatalf("VPN %s: PFS groups %d and %d, want %d", vpn, x.PFSGroup, y.PFSGroup, pfs)
	}
	return x
}

// TestTwoVPNsOnOneGateway: two VPNs on one IKEv1 gateway, each with its
// IPsec policy (one with PFS) and proxy identities: one ISAKMP SA on
// each side carries both Quick Mode pairs, each installed for its VPN
// with its identities and cipher. Removing one VPN deletes only its pair
// (the peer is told) and keeps the ISAKMP SA and the other pair; adding
// it back negotiates only its pair on the same ISAKMP SA, as does
// clearing its pairs; the exported ISAKMP SA resumes each pair for its
// VPN on another engine; a VPN whose
// proxy identities the peer has no VPN for is refused with
// INVALID_ID_INFORMATION, and the others stay.
func TestTwoVPNsOnOneGateway(t *testing.T) {
	a, b := twoVPNSides(t)
	both := func() bool {
		return len(a.inst.of("va")) == 1 && len(a.inst.of("vb")) == 1 && len(b.inst.of("va")) == 1 && len(b.inst.of("vb")) == 1
	}
	eventually(t, "both VPNs' pairs on both sides", both)
	sa, ok := a.isakmp(t)
	if !ok || sa.Children != 2 {
		t.Fatalf("a's ISAKMP SA %+v, want one up with two pairs", sa)
	}
	if sb, ok := b.isakmp(t); !ok || sb.Children != 2 || sb.InitiatorSPI != sa.InitiatorSPI {
		t.Fatalf("b's ISAKMP SA %+v, want a's with two pairs", sb)
	}
	va := paired(t, a, b, "va", "198.18.1.0/24", "198.18.2.0/24", "aes-128-cbc", 14)
	paired(t, a, b, "vb", "198.18.3.0/24", "198.18.4.0/24", "aes-256-cbc", 0)
	// The cluster's copy keeps each pair's VPN, and another node
	// resumes each pair for its VPN.
	sts := a.e.Export(func(netip.Addr) bool { return true })
	if len(sts) != 1 {
		t.Fatalf("%d ISAKMP SAs exported, want 1", len(sts))
	}
	var vpns []string
	for _, c := range sts[0].Children {
		vpns = append(vpns, c.VPN)
	}
	if slices.Sort(vpns); !slices.Equal(vpns, []string{"va", "vb"}) {
		t.Fatalf("exported pairs of VPNs %v, want va and vb", vpns)
	}
	other := &pipe{engines: map[netip.Addr]*Engine{}} // its messages go nowhere
	c := newVPNSide(t, other, 1, 2, [4]string{"198.18.1.0/24", "198.18.2.0/24", "198.18.3.0/24", "198.18.4.0/24"}, keepBothUp)
	if err := c.e.Import(sts[0]); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"va", "vb"} {
		got, want := c.inst.of(v), a.inst.of(v)
		if len(got) != 1 || got[0].InboundSPI != want[0].InboundSPI || got[0].VPN != v || got[0].PFSGroup != want[0].PFSGroup {
			t.Fatalf("VPN %s resumed as %+v, want the pair of inbound SPI %x", v, got, want[0].InboundSPI)
		}
	}
	c.e.Close()
	other.wg.Wait()

	// vb configured away on a: only its pairs go, on both sides.
	a.e.RemoveVPNFrom(a.local, b.local, "vb")
	eventually(t, "vb's pairs gone on both sides", func() bool { return len(a.inst.of("vb")) == 0 && len(b.inst.of("vb")) == 0 })
	if got := a.inst.of("va"); len(got) != 1 || got[0] != va {
		t.Fatalf("va's pairs after vb's removal: %v", got)
	}
	if s, ok := a.isakmp(t); !ok || s.InitiatorSPI != sa.InitiatorSPI || s.Children != 1 {
		t.Fatalf("a's ISAKMP SA after vb's removal: %+v, want %x with one pair", s, sa.InitiatorSPI)
	}
	if s, ok := b.isakmp(t); !ok || s.InitiatorSPI != sa.InitiatorSPI || s.Children != 1 {
		t.Fatalf("b's ISAKMP SA after vb's removal: %+v, want %x with one pair", s, sa.InitiatorSPI)
	}

	// vb back: its pair only, on the same ISAKMP SA.
	if err := a.e.AddPeer(a.peers["vb"]); err != nil {
		t.Fatal(err)
	}
	eventually(t, "vb's pair again", both)
	paired(t, a, b, "vb", "198.18.3.0/24", "198.18.4.0/24", "aes-256-cbc", 0)
	if got := a.inst.of("va"); len(got) != 1 || got[0] != va {
		t.Fatalf("va's pairs after vb came back: %v", got)
	}
	if s, ok := a.isakmp(t); !ok || s.InitiatorSPI != sa.InitiatorSPI || s.Children != 2 {
		t.Fatalf("a's ISAKMP SA after vb came back: %+v", s)
	}

	// vb's pairs cleared on a: only they go; kept up, vb gets a new pair.
	old := a.inst.of("vb")[0]
	if n := a.e.ClearVPN("vb"); n != 1 {
		t.Fatalf("ClearVPN cleared %d pairs, want 1", n)
	}
	eventually(t, "vb's new pair after the clear", func() bool {
		x, y := a.inst.of("vb"), b.inst.of("vb")
		return len(x) == 1 && x[0] != old && len(y) == 1 && y[0].InboundSPI == x[0].OutboundSPI
	})
	if got := a.inst.of("va"); len(got) != 1 || got[0] != va {
		t.Fatalf("va's pairs after vb's clear: %v", got)
	}

	// A third VPN on a whose identities b has no VPN for: b refuses it.
	vc := *a.peers["vb"]
	vc.VPN = "vc"
	vc.Selectors = []ike.Selectors{{Local: []netip.Prefix{netip.MustParsePrefix("198.18.5.0/24")},
		Remote: []netip.Prefix{netip.MustParsePrefix("198.18.6.0/24")}}}
	if err := a.e.AddPeer(&vc); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b's INVALID_ID_INFORMATION", func() bool {
		return b.failed(func(ev ike.Event) bool { return ev.Failure.Cause == ike.CauseSelectors })
	})
	eventually(t, "a told of vc's refusal", func() bool { return a.failed(func(ev ike.Event) bool { return ev.VPN == "vc" }) })
	if len(a.inst.of("vc")) != 0 || len(b.inst.of("vc")) != 0 {
		t.Fatal("a pair for vc was installed")
	}
	if s, ok := a.isakmp(t); !ok || s.InitiatorSPI != sa.InitiatorSPI || s.Children != 2 {
		t.Fatalf("a's ISAKMP SA after vc's refusal: %+v", s)
	}
}

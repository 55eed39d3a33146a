package ikev2

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"ipsecgw/config"
	"ipsecgw/config/schema"
	"ipsecgw/daemon/resolve"
	"ipsecgw/ike"
)

// twoVPNs puts a second VPN, vpn2, on gateway gw: its own IPsec policy
// (AES-128-GCM, where vpn1's is the side's espEnc) and traffic selectors
// 198.19.ME.0/24 ↔ 198.19.PEER.0/24 (vpn1's: 198.18). %[1]d is this side,
// %[2]d the peer, %[3]s both VPNs' establish-tunnels, %[4]s vpn2's remote
// selector's third octet.
const twoVPNs = `set interfaces st0 unit 2 family inet
set security ipsec vpn vpn1 traffic-selector t local-ip 198.18.%[1]d.0/24
set security ipsec vpn vpn1 traffic-selector t remote-ip 198.18.%[2]d.0/24
set security ipsec vpn vpn1 establish-tunnels %[3]s
set security ipsec proposal ip2 protocol esp
set security ipsec proposal ip2 encryption-algorithm aes-128-gcm
set security ipsec policy ipol2 proposals ip2
set security ipsec vpn vpn2 bind-interface st0.2
set security ipsec vpn vpn2 ike gateway gw
set security ipsec vpn vpn2 ike ipsec-policy ipol2
set security ipsec vpn vpn2 traffic-selector t local-ip 198.19.%[1]d.0/24
set security ipsec vpn vpn2 traffic-selector t remote-ip 198.19.%[4]s.0/24
set security ipsec vpn vpn2 establish-tunnels %[3]s
`

// newVPNSide is an engine at 192.0.2.ME with gatewayConfig, extra and
// every VPN of them on the engine (multiSide), closed at the end.
func newVPNSide(t *testing.T, me, peer int, extra string, p *pipe) (*Engine, *installs) {
	t.Helper()
	src := fmt.Sprintf(gatewayConfig, me, peer, "group19", "aes-256-gcm", "k", "aes-256-gcm") + extra +
		fmt.Sprintf("set security ike gateway gw local-address 192.0.2.%d\n", me)
	e, inst := multiSide(t, src, p)
	t.Cleanup(func() { e.Close(); p.wg.Wait() })
	return e, inst
}

// within polls cond for up to 20 s (the race detector and a loaded
// machine slow the engines down).
func within(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// liveSAs are the engine's IKE SAs up.
func liveSAs(e *Engine) []ike.SAInfo {
	var out []ike.SAInfo
	for _, sa := range e.SAs() {
		if sa.State == "UP" {
			out = append(out, sa)
		}
	}
	return out
}

// childrenOf lists the Child SAs of the engine's IKE SAs, by VPN.
func childrenOf(e *Engine) map[string][]*ike.ChildSA {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string][]*ike.ChildSA{}
	for spi, sa := range e.sas {
		if spi != sa.localSPI() {
			continue
		}
		for _, c := range sa.children {
			out[c.VPN] = append(out[c.VPN], c)
		}
	}
	return out
}

// oneSAWith waits until the engine has one IKE SA up carrying one Child
// SA of each named VPN and no other.
func oneSAWith(t *testing.T, e *Engine, who string, vpns ...string) ike.SAInfo {
	t.Helper()
	within(t, fmt.Sprintf("%s: one IKE SA with the Child SAs of %v", who, vpns), func() bool {
		up, cs := liveSAs(e), childrenOf(e)
		if len(up) != 1 || up[0].Children != len(vpns) || len(cs) != len(vpns) {
			return false
		}
		for _, v := range vpns {
			if len(cs[v]) != 1 {
				return false
			}
		}
		return true
	})
	return liveSAs(e)[0]
}

func prefixList(ps []netip.Prefix) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	return strings.Join(s, ",")
}

// TestTwoVPNsOnOneGateway: two VPNs on one gateway between two engines.
// The initiator's IKE_AUTH makes vpn1's Child SA and a CREATE_CHILD_SA
// vpn2's, on the one IKE SA; the responder puts each on the VPN its
// traffic selectors fit, with that VPN's IPsec proposal. Removing vpn1
// deletes its Child SA on both sides; the IKE SA and vpn2's Child SA stay.
func TestTwoVPNsOnOneGateway(t *testing.T) {
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, _ := newVPNSide(t, 1, 2, fmt.Sprintf(twoVPNs, 1, 2, "immediately", "2"), p)
	b, _ := newVPNSide(t, 2, 1, fmt.Sprintf(twoVPNs, 2, 1, "responder-only", "1"), p)
	if err := a.InitiateVPNFrom(netip.Addr{}, netip.MustParseAddr("192.0.2.2"), "vpn1", false); err != nil {
		t.Fatal(err)
	}
	sa := oneSAWith(t, a, "initiator", "vpn1", "vpn2")
	sb := oneSAWith(t, b, "responder", "vpn1", "vpn2")
	if sa.InitiatorSPI != sb.InitiatorSPI || sa.ResponderSPI != sb.ResponderSPI {
		t.Fatalf("different IKE SAs: %+v %+v", sa, sb)
	}
	ca, cb := childrenOf(a), childrenOf(b)
	for _, tc := range []struct{ vpn, enc, aLocal, aRemote string }{
		{"vpn1", "aes-256-gcm", "198.18.1.0/24", "198.18.2.0/24"},
		{"vpn2", "aes-128-gcm", "198.19.1.0/24", "198.19.2.0/24"},
	} {
		x, y := ca[tc.vpn][0], cb[tc.vpn][0]
		if x.OutboundSPI != y.InboundSPI || y.OutboundSPI != x.InboundSPI {
			t.Fatalf("%s: the Child SAs do not pair: %+v %+v", tc.vpn, x, y)
		}
		if x.Encryption.IPsecKeyword != tc.enc || y.Encryption.IPsecKeyword != tc.enc {
			t.Fatalf("%s: encryption %s/%s, want its policy's %s", tc.vpn, x.Encryption.IPsecKeyword, y.Encryption.IPsecKeyword, tc.enc)
		}
		if prefixList(x.LocalTS) != tc.aLocal || prefixList(x.RemoteTS) != tc.aRemote ||
			prefixList(y.LocalTS) != tc.aRemote || prefixList(y.RemoteTS) != tc.aLocal {
			t.Fatalf("%s: selectors %v↔%v and %v↔%v", tc.vpn, x.LocalTS, x.RemoteTS, y.LocalTS, y.RemoteTS)
		}
	}
	keep := ca["vpn2"][0]

	a.RemoveVPNFrom(netip.Addr{}, netip.MustParseAddr("192.0.2.2"), "vpn1")
	after := oneSAWith(t, b, "responder after vpn1 went", "vpn2")
	oneSAWith(t, a, "initiator after vpn1 went", "vpn2")
	if after.InitiatorSPI != sb.InitiatorSPI {
		t.Fatalf("the IKE SA changed: %+v, was %+v", after, sb)
	}
	if got := childrenOf(a)["vpn2"][0]; got != keep {
		t.Fatalf("vpn2's Child SA was replaced: %+v, was %+v", got, keep)
	}

	// A commit that brings vpn1 back makes its Child SA on the same IKE SA.
	tr, err := config.Parse("gw.conf", []byte(fmt.Sprintf(gatewayConfig, 1, 2, "group19", "aes-256-gcm", "k", "aes-256-gcm")+
		fmt.Sprintf(twoVPNs, 1, 2, "immediately", "2")), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := schema.Build(tr, schema.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v1, err := resolve.Peer(cfg.IPsec.VPNs[0], netip.MustParseAddr("192.0.2.1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.AddPeer(v1); err != nil {
		t.Fatal(err)
	}
	back := oneSAWith(t, b, "responder after vpn1 came back", "vpn1", "vpn2")
	if back.InitiatorSPI != sb.InitiatorSPI {
		t.Fatalf("the IKE SA changed: %+v, was %+v", back, sb)
	}
}

// TestVPNWithoutMatchingSelectors: a Child SA whose traffic selectors fit
// none of the responder's VPNs on the gateway is refused with
// TS_UNACCEPTABLE; the IKE SA and the other VPN's Child SA stay.
func TestVPNWithoutMatchingSelectors(t *testing.T) {
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, _ := newVPNSide(t, 1, 2, fmt.Sprintf(twoVPNs, 1, 2, "immediately", "2"), p)
	// b's vpn2 wants 198.19.9.0/24 behind a, where a has 198.19.1.0/24.
	b, _ := newVPNSide(t, 2, 1, fmt.Sprintf(twoVPNs, 2, 1, "responder-only", "9"), p)
	if err := a.InitiateVPNFrom(netip.Addr{}, netip.MustParseAddr("192.0.2.2"), "vpn1", false); err != nil {
		t.Fatal(err)
	}
	within(t, "the initiator's vpn2 refused", func() bool {
		up := liveSAs(a)
		return len(up) == 1 && strings.Contains(up[0].Failure.Message, "TS_UNACCEPTABLE")
	})
	oneSAWith(t, a, "initiator", "vpn1")
	oneSAWith(t, b, "responder", "vpn1")
	if f := liveSAs(b)[0].Failure.Message; !strings.Contains(f, "traffic selector") {
		t.Fatalf("responder's failure %q does not name the traffic selectors", f)
	}
}

// TestRekeyOneVPNsChildSA: a rekey of vpn2's Child SA keeps its VPN and
// its IPsec policy, and leaves vpn1's alone; the exported state names
// each Child SA's VPN.
func TestRekeyOneVPNsChildSA(t *testing.T) {
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, _ := newVPNSide(t, 1, 2, fmt.Sprintf(twoVPNs, 1, 2, "immediately", "2"), p)
	b, _ := newVPNSide(t, 2, 1, fmt.Sprintf(twoVPNs, 2, 1, "responder-only", "1"), p)
	if err := a.InitiateVPNFrom(netip.Addr{}, netip.MustParseAddr("192.0.2.2"), "vpn1", false); err != nil {
		t.Fatal(err)
	}
	oneSAWith(t, a, "initiator", "vpn1", "vpn2")
	oneSAWith(t, b, "responder", "vpn1", "vpn2")
	before := childrenOf(b)
	if n := b.RekeyChildren(func(v string) bool { return v == "vpn2" }); n != 1 {
		t.Fatalf("%d rekeys started, want 1", n)
	}
	within(t, "vpn2's Child SA rekeyed on both sides", func() bool {
		ca, cb := childrenOf(a), childrenOf(b)
		return len(ca["vpn2"]) == 1 && len(cb["vpn2"]) == 1 && cb["vpn2"][0] != before["vpn2"][0] &&
			ca["vpn2"][0].InboundSPI == cb["vpn2"][0].OutboundSPI
	})
	after := childrenOf(b)
	if after["vpn1"][0] != before["vpn1"][0] {
		t.Fatal("vpn1's Child SA changed in vpn2's rekey")
	}
	if enc := after["vpn2"][0].Encryption.IPsecKeyword; enc != "aes-128-gcm" {
		t.Fatalf("rekeyed vpn2 Child SA encryption %s, want its policy's aes-128-gcm", enc)
	}
	var vpns []string
	for _, st := range a.Export(func(netip.Addr) bool { return true }) {
		for _, c := range st.Children {
			vpns = append(vpns, c.VPN)
		}
	}
	slices.Sort(vpns)
	if !slices.Equal(vpns, []string{"vpn1", "vpn2"}) {
		t.Fatalf("exported Child SAs' VPNs %v", vpns)
	}
}

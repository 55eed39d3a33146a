package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"ipsecgw/test/netns"
)

// ikeConfig is gateway i's (0 or 1) configuration of a route-based VPN
// negotiated with IKEv2 and a pre-shared key, in the seed 004 shape.
func ikeConfig(i int, ikeEnc, group, espEnc, psk string) string {
	return ikeConfigAuth(i, ikeEnc, "sha-256", group, espEnc, "", psk)
}

// ikeConfigAuth is ikeConfig with the IKE authentication-algorithm and an
// IPsec authentication-algorithm ("" for AEAD).
func ikeConfigAuth(i int, ikeEnc, ikeAuth, group, espEnc, espAuth, psk string) string {
	me, peer := i+1, 2-i
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("set interfaces gw%d-h%d unit 0 family inet address 198.18.%d.1/24", me, me, me)
	w("set interfaces gw%d-h%d unit 0 family inet6 address 2001:db8:%d::1/64", me, me, me)
	w("set interfaces gw%d-gw%d unit 0 family inet address 192.0.2.%d/24", me, peer, me)
	w("set interfaces st0 unit 1 family inet")
	w("set interfaces st0 unit 1 family inet6")
	w("set routing-options static route 198.18.%d.0/24 next-hop st0.1", peer)
	w("set routing-options static route 2001:db8:%d::/64 next-hop st0.1", peer)
	w("set security ike proposal ike_prop authentication-method pre-shared-keys")
	w("set security ike proposal ike_prop dh-group %s", group)
	w("set security ike proposal ike_prop authentication-algorithm %s", ikeAuth)
	w("set security ike proposal ike_prop encryption-algorithm %s", ikeEnc)
	w("set security ike policy ike_policy mode main")
	w("set security ike policy ike_policy proposals ike_prop")
	w("set security ike policy ike_policy pre-shared-key ascii-text %q", psk)
	w("set security ike gateway ike_gw ike-policy ike_policy")
	w("set security ike gateway ike_gw address 192.0.2.%d", peer)
	w("set security ike gateway ike_gw external-interface gw%d-gw%d", me, peer)
	w("set security ike gateway ike_gw version v2-only")
	w("set security ipsec proposal ipsec_prop protocol esp")
	w("set security ipsec proposal ipsec_prop encryption-algorithm %s", espEnc)
	if espAuth != "" {
		w("set security ipsec proposal ipsec_prop authentication-algorithm %s", espAuth)
	}
	w("set security ipsec policy ipsec_policy proposals ipsec_prop")
	w("set security ipsec vpn ipsec_vpn bind-interface st0.1")
	w("set security ipsec vpn ipsec_vpn ike gateway ike_gw")
	w("set security ipsec vpn ipsec_vpn ike ipsec-policy ipsec_policy")
	if i == 0 {
		w("set security ipsec vpn ipsec_vpn establish-tunnels immediately")
	} else {
		w("set security ipsec vpn ipsec_vpn establish-tunnels responder-only")
	}
	return b.String()
}

// waitTunnel pings until the tunnel carries traffic (IKE needs a moment).
func (tp *topology) waitTunnel(from, to string) {
	t := tp.t
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := tp.net.Try(from, "ping", "-c", "1", "-W", "1", to); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no traffic through the tunnel after 10 s\ngw1:\n%s\ngw2:\n%s", tp.logOf(tp.gws[0]), tp.logOf(tp.gws[1]))
		}
	}
}

// TestIKEv2BetweenDaemons: two ipsecgw daemons negotiate IKEv2 (PSK) in the
// seed 004 shape, one initiating at start, the other responder-only; the
// negotiated Child SA carries ping and TCP both ways, with consistent
// counters.
func TestIKEv2BetweenDaemons(t *testing.T) {
	netns.RequireRoot(t)
	for _, tc := range []struct{ name, ikeEnc, group, espEnc string }{
		{"aes-256-gcm-group19", "aes-256-gcm", "group19", "aes-256-gcm"},
		{"aes-256-cbc-group14-esp-aes-128-gcm", "aes-256-cbc", "group14", "aes-128-gcm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := newTopology(t)
			tp.negotiated = true
			tp.startConfigs([2]string{ikeConfig(0, tc.ikeEnc, tc.group, tc.espEnc, "test123"), ikeConfig(1, tc.ikeEnc, tc.group, tc.espEnc, "test123")})
			tp.waitTunnel("h1", "198.18.2.2")
			tp.ping("h1", "198.18.2.2", 0)
			tp.ping("h2", "198.18.1.2", 0)
			tp.ping("h1", "2001:db8:2::2", 0)
			tp.tcp("h1", "h2", "198.18.2.2")
			tp.checkCounters()
		})
	}
}

// TestIKEv2WrongPSK: a wrong pre-shared key leaves no tunnel, and the
// daemons stay up and say why.
func TestIKEv2WrongPSK(t *testing.T) {
	netns.RequireRoot(t)
	tp := newTopology(t)
	tp.startConfigs([2]string{ikeConfig(0, "aes-256-gcm", "group19", "aes-256-gcm", "right"), ikeConfig(1, "aes-256-gcm", "group19", "aes-256-gcm", "wrong")})
	time.Sleep(time.Second)
	if _, err := tp.net.Try("h1", "ping", "-c", "1", "-W", "1", "198.18.2.2"); err == nil {
		t.Fatal("traffic crossed with mismatched pre-shared keys")
	}
	if !strings.Contains(tp.logOf(tp.gws[0]), "AUTHENTICATION_FAILED") && !strings.Contains(tp.logOf(tp.gws[0]), "authentication") {
		t.Fatalf("gw1 does not say why:\n%s", tp.logOf(tp.gws[0]))
	}
}

// TestIKEv2OnTraffic: with establish-tunnels on-traffic nothing is
// negotiated until a packet is routed into st0.1; that packet triggers
// IKEv2 and the tunnel then carries traffic.
func TestIKEv2OnTraffic(t *testing.T) {
	netns.RequireRoot(t)
	tp := newTopology(t)
	tp.negotiated = true
	cfg1 := strings.Replace(ikeConfig(0, "aes-256-gcm", "group19", "aes-256-gcm", "k"),
		"establish-tunnels immediately", "establish-tunnels on-traffic", 1)
	tp.startConfigs([2]string{cfg1, ikeConfig(1, "aes-256-gcm", "group19", "aes-256-gcm", "k")})
	time.Sleep(500 * time.Millisecond)
	if st := tp.status(tp.gws[0]); len(st.IKE) != 0 {
		t.Fatalf("an IKE SA was negotiated before any traffic: %+v", st.IKE)
	}
	tp.waitTunnel("h1", "198.18.2.2")
	tp.ping("h1", "198.18.2.2", 0)
	tp.ping("h2", "198.18.1.2", 0)
	if st := tp.status(tp.gws[0]); len(st.IKE) != 1 || st.IKE[0].State != "UP" || !st.IKE[0].Initiator {
		t.Fatalf("gw1 IKE SAs after traffic: %+v", st.IKE)
	}
}

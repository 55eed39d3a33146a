package daemon

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"ipsecgw/config/store"
	"ipsecgw/ike"
)

// oneIKEVPN is an IKEv2 VPN a (st0.1) between 192.0.2.ME and 192.0.2.PEER,
// brought up at once, and an unused st0.2.
const oneIKEVPN = `set interfaces eth1 unit 0 family inet address 192.0.2.%[1]d/24
set interfaces st0 unit 1 family inet
set interfaces st0 unit 2 family inet
set routing-options static route 198.18.%[2]d.0/24 next-hop st0.1
set security ike policy p proposal-set standard
set security ike policy p pre-shared-key ascii-text "secret-for-test"
set security ike gateway g ike-policy p
set security ike gateway g address 192.0.2.%[2]d
set security ike gateway g external-interface eth1
set security ike gateway g version v2-only
set security ipsec policy ip proposal-set standard
set security ipsec vpn a bind-interface st0.1
set security ipsec vpn a ike gateway g
set security ipsec vpn a ike ipsec-policy ip
set security ipsec vpn a traffic-selector t local-ip 198.18.%[1]d.0/24
set security ipsec vpn a traffic-selector t remote-ip 198.18.%[2]d.0/24
set security ipsec vpn a establish-tunnels immediately
`

// ikeSAs are gw's established IKEv2 SAs.
func ikeSAs(d *Daemon) []ike.SAInfo {
	var out []ike.SAInfo
	if e := d.ikeEngine(2); e != nil {
		for _, sa := range e.SAs() {
			if sa.State == "UP" {
				out = append(out, sa)
			}
		}
	}
	return out
}

// outboundOf counts gw's outbound SAs of a VPN.
func outboundOf(d *Daemon, vpn string) int {
	n := 0
	for _, sa := range d.Engine().OutboundSAs() {
		if sa.VPN == vpn {
			n++
		}
	}
	return n
}

// waitSettled polls, for up to 30 s, until the two daemons hold one IKEv2
// SA between them, the same one, up, and one outbound SA of each of vpns.
// With establish-tunnels immediately on both, both initiate. Mostly gw1's
// IKE_SA_INIT, sent before gw2 listens, is lost; gw2's IKE SA comes up
// with gw1 as its responder, and gw1 gives its own initiation up
// (ike/ikev2/abandoninit.go): one IKE SA from the start. But when the two
// IKE_SA_INITs cross, both IKE SAs may come up and the dedupe of
// simultaneous initiations (ike/ikev2/admin.go) deletes one with its Child
// SAs, or one side gives its own up and the other's half-open SA of it
// goes a few seconds later. A half-open IKE SA, or one whose DELETE is
// unanswered, is still listed, so one SA each is the settled state.
func waitSettled(t *testing.T, ds [2]*Daemon, vpns ...string) {
	t.Helper()
	var sas [2][]ike.SAInfo
	settled := func() bool {
		for i, d := range ds {
			sas[i] = nil
			if e := d.ikeEngine(2); e != nil {
				sas[i] = e.SAs()
			}
			if len(sas[i]) != 1 || sas[i][0].State != "UP" {
				return false
			}
			for _, v := range vpns {
				if outboundOf(d, v) != 1 {
					return false
				}
			}
		}
		return sas[0][0].InitiatorSPI == sas[1][0].InitiatorSPI && sas[0][0].ResponderSPI == sas[1][0].ResponderSPI
	}
	for deadline := time.Now().Add(30 * time.Second); !settled(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the IKE SAs never settled to one between the two, with one outbound SA of each of %q: gw1 %+v, gw2 %+v", vpns, sas[0], sas[1])
		}
	}
}

// waitCross polls until a packet crosses the tunnel, for up to 30 s.
func waitCross(t *testing.T, hosts [2]*MemHost, tunnel, src, dst string) bool {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if cross(t, hosts, tunnel, src, dst) {
			return true
		}
	}
	return false
}

// TestSecondVPNOnAGateway: a commit that adds a second VPN on the IKEv2
// gateway of a running VPN brings up its Child SA on the same IKE SA,
// with its own traffic selectors and st0 unit, and a's SAs stay; a commit
// that removes a then deletes only a's Child SA: b keeps the IKE SA and
// its traffic.
func TestSecondVPNOnAGateway(t *testing.T) {
	ds, hosts := startPair(t, oneIKEVPN)
	if !waitCross(t, hosts, "st0.1", "198.18.1.2", "198.18.2.2") {
		t.Fatal("VPN a does not carry traffic")
	}
	waitSettled(t, ds, "a")
	before := ikeSAs(ds[0])
	if len(before) != 1 {
		t.Fatalf("%d IKE SAs up, want 1", len(before))
	}
	outA := ds[0].Engine().OutboundSAs()
	for i, d := range ds {
		me, peer := i+1, 2-i
		edit(t, d.Store(),
			"set security ipsec vpn b bind-interface st0.2",
			"set security ipsec vpn b ike gateway g",
			"set security ipsec vpn b ike ipsec-policy ip",
			fmt.Sprintf("set security ipsec vpn b traffic-selector t local-ip 198.19.%d.0/24", me),
			fmt.Sprintf("set security ipsec vpn b traffic-selector t remote-ip 198.19.%d.0/24", peer),
			"set security ipsec vpn b establish-tunnels immediately",
			fmt.Sprintf("set routing-options static route 198.19.%d.0/24 next-hop st0.2", peer))
		if _, err := d.Store().Commit(store.CommitOptions{}); err != nil {
			t.Fatalf("gw%d: %v", me, err)
		}
	}
	if !waitCross(t, hosts, "st0.2", "198.19.1.2", "198.19.2.2") {
		t.Fatal("VPN b does not carry traffic")
	}
	if !cross(t, hosts, "st0.1", "198.18.1.2", "198.18.2.2") {
		t.Fatal("VPN a's traffic broken by adding b")
	}
	after := ikeSAs(ds[0])
	if len(after) != 1 || after[0].InitiatorSPI != before[0].InitiatorSPI || after[0].Children != 2 {
		t.Fatalf("IKE SAs after adding b: %+v, want the one before (%016x) with 2 Child SAs", after, before[0].InitiatorSPI)
	}
	for _, sa := range outA {
		if !slices.Contains(ds[0].Engine().OutboundSAs(), sa) {
			t.Fatalf("a's outbound SA %#08x was replaced by adding b", sa.SPI())
		}
	}

	// Clearing b's SAs (as vpn-monitor does) renegotiates b's Child SA
	// alone: a's SAs and the IKE SA stay.
	var outB []uint32
	for _, sa := range ds[0].Engine().OutboundSAs() {
		if sa.VPN == "b" {
			outB = append(outB, sa.SPI())
		}
	}
	if n := ds[0].ClearIPsec([]string{"b"}); n != 1 {
		t.Fatalf("clear of b cleared %d Child SAs, want 1", n)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var now []uint32
		for _, sa := range ds[0].Engine().OutboundSAs() {
			if sa.VPN == "b" {
				now = append(now, sa.SPI())
			}
		}
		if len(now) == 1 && !slices.Contains(outB, now[0]) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("b's outbound SAs %x after the clear, were %x", now, outB)
		}
	}
	if !waitCross(t, hosts, "st0.2", "198.19.1.2", "198.19.2.2") {
		t.Fatal("VPN b does not carry traffic after its clear")
	}
	for _, sa := range outA {
		if !slices.Contains(ds[0].Engine().OutboundSAs(), sa) {
			t.Fatalf("a's outbound SA %#08x was replaced by clearing b", sa.SPI())
		}
	}
	if now := ikeSAs(ds[0]); len(now) != 1 || now[0].InitiatorSPI != before[0].InitiatorSPI {
		t.Fatalf("IKE SAs after clearing b: %+v", now)
	}
	for i, d := range ds {
		edit(t, d.Store(), "delete security ipsec vpn a", "delete routing-options static route 198.18."+fmt.Sprint(2-i)+".0/24")
		if _, err := d.Store().Commit(store.CommitOptions{}); err != nil {
			t.Fatalf("gw%d: %v", i+1, err)
		}
	}
	for deadline := time.Now().Add(30 * time.Second); outboundOf(ds[1], "a") > 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if n := outboundOf(ds[1], "a"); n != 0 {
		t.Fatalf("gw2 still has %d SAs of the removed VPN a", n)
	}
	if !waitCross(t, hosts, "st0.2", "198.19.1.2", "198.19.2.2") {
		t.Fatal("VPN b's traffic broken by removing a")
	}
	last := ikeSAs(ds[0])
	if len(last) != 1 || last[0].InitiatorSPI != before[0].InitiatorSPI || last[0].Children != 1 {
		t.Fatalf("IKE SAs after removing a: %+v, want the first (%016x) with 1 Child SA", last, before[0].InitiatorSPI)
	}
}

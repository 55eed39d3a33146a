package e2e

import (
	"strings"
	"testing"
	"time"

	"ipsecgw/daemon"
	"ipsecgw/test/netns"
	"ipsecgw/test/strongswan"
)

// TestIKEv2WithStrongSwan: ipsecgw on gw1, strongSwan's charon (userspace
// ESP, kernel-libipsec) on gw2: an independent IKEv2 implementation and an
// independent ESP. Both roles. strongSwan's userspace ESP always claims a
// NAT, so this also proves ipsecgw's NAT traversal: IKE floats to 4500 and
// ESP goes in UDP.
func TestIKEv2WithStrongSwan(t *testing.T) {
	netns.RequireRoot(t)
	strongswan.Require(t)
	for _, tc := range []struct {
		name                   string
		ikeEnc, ikeAuth, group string // ipsecgw keywords
		espEnc, espAuth        string
		ssIKE, ssESP           string // strongSwan proposals
		ipsecgwInitiates       bool
	}{
		{"ipsecgw-initiates-aes256-sha256-modp2048-aes256gcm16", "aes-256-cbc", "sha-256", "group14", "aes-256-gcm", "", "aes256-sha256-modp2048", "aes256gcm16", true},
		{"strongswan-initiates-aes256gcm16-ecp256-aes128gcm16", "aes-256-gcm", "sha-256", "group19", "aes-128-gcm", "", "aes256gcm16-prfsha256-ecp256", "aes128gcm16", false},
		{"ipsecgw-initiates-x25519-chacha20poly1305", "chacha20-poly1305", "sha-256", "group31", "chacha20-poly1305", "", "chacha20poly1305-prfsha256-x25519", "chacha20poly1305", true},
		{"strongswan-initiates-aes256gcm16-prfsha384-ecp384-aes256-sha256", "aes-256-gcm", "sha-384", "group20", "aes-256-cbc", "hmac-sha-256-128", "aes256gcm16-prfsha384-ecp384", "aes256-sha256", false},
		{"ipsecgw-initiates-aes128-sha256-x25519-3des-sha1", "aes-128-cbc", "sha-256", "group31", "3des-cbc", "hmac-sha1-96", "aes128-sha256-x25519", "3des-sha1", true},
		{"strongswan-initiates-3des-sha1-modp1024-aes256gcm16", "3des-cbc", "sha1", "group2", "aes-256-gcm", "", "3des-sha1-modp1024", "aes256gcm16", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := newTopology(t)
			tp.negotiated = true
			// gw2 is strongSwan's: its addresses by hand (libipsec routes
			// from an address inside its local traffic selector).
			tp.net.Exec("gw2", "ip", "addr", "add", "192.0.2.2/24", "dev", "gw2-gw1")
			tp.net.Exec("gw2", "ip", "addr", "add", "198.18.2.1/24", "dev", "gw2-h2")
			start := "none"
			if !tc.ipsecgwInitiates {
				start = "start"
			}
			cfg := ikeConfigAuth(0, tc.ikeEnc, tc.ikeAuth, tc.group, tc.espEnc, tc.espAuth, "test123")
			if !tc.ipsecgwInitiates {
				cfg = strings.Replace(cfg, "establish-tunnels immediately", "establish-tunnels responder-only", 1)
			}
			tp.startOne(0, cfg)
			charon := strongswan.Start(t, tp.net, "gw2", strongswan.Config{Connections: []strongswan.Connection{{
				Name: "gw", LocalAddrs: "192.0.2.2", RemoteAddrs: "192.0.2.1", PSK: "test123",
				Proposals: []string{tc.ssIKE},
				Children: []strongswan.Child{{Name: "net", LocalTS: []string{"198.18.2.0/24"}, RemoteTS: []string{"198.18.1.0/24"},
					ESPProposals: []string{tc.ssESP}, StartAction: start}},
			}}})
			tp.waitTunnel("h1", "198.18.2.2")
			tp.ping("h1", "198.18.2.2", 0)
			tp.ping("h2", "198.18.1.2", 0)
			tp.tcp("h1", "h2", "198.18.2.2")
			// Under TCP load strongSwan's userspace ESP drops some of what
			// arrives (its queues are short), so totals may differ that
			// way; a quiet phase of pings must agree exactly.
			ss1, st := quietPhase(t, tp, charon)
			if ss1.EncrAlg == "" || !ss1.Encap {
				t.Errorf("strongSwan child SA: %+v (want UDP encapsulation)", ss1)
			}
			if g := st.Global; g.AuthFailures+g.ReplayErrors+g.BadHeaders+g.BadTrailers+g.WrongEncapsulation+g.SendErrors != 0 {
				t.Errorf("ipsecgw error counters moved: %+v", g)
			}
		})
	}
}

// quietPhase pings both ways after the load and checks that ipsecgw
// (gw1) and strongSwan count the same packets each way, and that neither
// received more than the other sent overall. It returns strongSwan's
// CHILD SA and ipsecgw's status at the end.
func quietPhase(t *testing.T, tp *topology, charon *strongswan.Charon) (strongswan.ChildSA, daemon.Status) {
	t.Helper()
	time.Sleep(500 * time.Millisecond)
	ss0, st0 := charonChild(t, charon), tp.status(tp.gws[0])
	tp.ping("h1", "198.18.2.2", 0)
	tp.ping("h2", "198.18.1.2", 0)
	time.Sleep(300 * time.Millisecond)
	ss1, st := charonChild(t, charon), tp.status(tp.gws[0])
	out0, in0 := findSA(st0, "outbound"), findSA(st0, "inbound")
	out, in := findSA(st, "outbound"), findSA(st, "inbound")
	sent, got := out.Counters.EncryptedPackets-out0.Counters.EncryptedPackets, ss1.PacketsIn-ss0.PacketsIn
	back, recv := ss1.PacketsOut-ss0.PacketsOut, in.Counters.DecryptedPackets-in0.Counters.DecryptedPackets
	t.Logf("quiet phase: ipsecgw sent %d, strongSwan got %d; strongSwan sent %d, ipsecgw got %d", sent, got, back, recv)
	if sent < 6 || sent != got || back < 6 || back != recv {
		t.Errorf("counters disagree in the quiet phase: ipsecgw sent %d, strongSwan got %d; strongSwan sent %d, ipsecgw got %d",
			sent, got, back, recv)
	}
	if ss1.PacketsIn > out.Counters.EncryptedPackets || in.Counters.DecryptedPackets > ss1.PacketsOut {
		t.Errorf("more received than sent: strongSwan in %d of ipsecgw's %d; ipsecgw in %d of strongSwan's %d",
			ss1.PacketsIn, out.Counters.EncryptedPackets, in.Counters.DecryptedPackets, ss1.PacketsOut)
	}
	return ss1, st
}

// charonChild reads strongSwan's CHILD SA "net".
func charonChild(t *testing.T, c *strongswan.Charon) strongswan.ChildSA {
	t.Helper()
	sas, err := c.ListSAs()
	if err != nil {
		t.Fatal(err)
	}
	_, child, ok := strongswan.FindChild(sas, "net")
	if !ok {
		t.Fatalf("strongSwan has no CHILD SA: %+v", sas)
	}
	return child
}

// TestRekeyByStrongSwan: strongSwan rekeys the Child SA every 3 s and the
// IKE SA every 5 s while a ping runs through the tunnel; ipsecgw answers
// each CREATE_CHILD_SA make-before-break, so no ping is lost, and old SAs
// are gone afterwards.
func TestRekeyByStrongSwan(t *testing.T) {
	netns.RequireRoot(t)
	strongswan.Require(t)
	tp := newTopology(t)
	tp.negotiated = true
	tp.net.Exec("gw2", "ip", "addr", "add", "192.0.2.2/24", "dev", "gw2-gw1")
	tp.net.Exec("gw2", "ip", "addr", "add", "198.18.2.1/24", "dev", "gw2-h2")
	cfg := strings.Replace(ikeConfig(0, "aes-256-gcm", "group19", "aes-256-gcm", "test123"),
		"establish-tunnels immediately", "establish-tunnels responder-only", 1)
	tp.startOne(0, cfg)
	charon := strongswan.Start(t, tp.net, "gw2", strongswan.Config{Connections: []strongswan.Connection{{
		Name: "gw", LocalAddrs: "192.0.2.2", RemoteAddrs: "192.0.2.1", PSK: "test123",
		Proposals: []string{"aes256gcm16-prfsha256-ecp256"}, RekeyTime: 5 * time.Second,
		Extra: []string{"rand_time = 0", "over_time = 30"},
		Children: []strongswan.Child{{Name: "net", LocalTS: []string{"198.18.2.0/24"}, RemoteTS: []string{"198.18.1.0/24"},
			ESPProposals: []string{"aes256gcm16"}, StartAction: "start", RekeyTime: 3 * time.Second,
			Extra: []string{"rand_time = 0", "life_time = 60"}}},
	}}})
	tp.waitTunnel("h1", "198.18.2.2")
	first := charonChild(t, charon)
	p := netns.Ping{Count: 60, Interval: 200 * time.Millisecond}
	out, _ := tp.net.Try("h1", p.Args("198.18.2.2")...)
	if err := p.Check("198.18.2.2", out); err != nil {
		t.Fatalf("across rekeys: %v\ngw1:\n%s", err, tp.logOf(tp.gws[0]))
	}
	last := charonChild(t, charon)
	if last.SPIIn == first.SPIIn || last.UniqueID == first.UniqueID {
		t.Fatalf("the Child SA was not rekeyed: first %+v, last %+v", first, last)
	}
	log := tp.logOf(tp.gws[0])
	if !strings.Contains(log, "Child SA rekeyed by the peer") || !strings.Contains(log, "IKE SA rekeyed by the peer") {
		t.Fatalf("gw1 saw no rekey:\n%s", log)
	}
	time.Sleep(500 * time.Millisecond)
	st := tp.status(tp.gws[0])
	if n := len(st.SAs); n != 2 {
		t.Errorf("gw1 holds %d SAs after the rekeys, want one pair: %+v", n, st.SAs)
	}
	t.Logf("strongSwan child before %d/%#x, after %d/%#x; ping: %s", first.UniqueID, first.SPIIn, last.UniqueID, last.SPIIn,
		strings.TrimSpace(out[strings.LastIndex(out, "\n---"):]))
}

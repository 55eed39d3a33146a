package e2e

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipsecgw/daemon"
	"ipsecgw/test/netns"
	"ipsecgw/test/strongswan"
)

// IKEv1 against strongSwan: ipsecgw on gw1 (gateway version v1-only,
// Main Mode with a pre-shared key), charon on gw2 (connection version 1,
// userspace ESP in UDP 4500), as the IKEv2 interop tests run them.
// strongSwan's kernel-libipsec can only send ESP in UDP, so charon fakes a
// NAT in its NAT-D payloads; ipsecgw must float IKE to port 4500 and
// negotiate UDP-encapsulated tunnel mode (RFC 3947 encapsulation mode 3).

// v1Suite is one IKEv1 negotiation in ipsecgw's keywords and strongSwan's
// proposals.
type v1Suite struct {
	ikeEnc, ikeAuth, group string // ipsecgw's IKE proposal
	espEnc, espAuth        string // ipsecgw's IPsec proposal
	pfs                    string // perfect-forward-secrecy keys; "" for none
	ssIKE, ssESP           string // strongSwan's proposals (ESP with the group for PFS)
}

var (
	v1Legacy = v1Suite{"3des-cbc", "sha1", "group2", "3des-cbc", "hmac-sha1-96", "", "3des-sha1-modp1024", "3des-sha1"}
	v1Modern = v1Suite{"aes-256-cbc", "sha-256", "group14", "aes-256-cbc", "hmac-sha-256-128", "group14",
		"aes256-sha256-modp2048", "aes256-sha256-modp2048"}
)

// ikev1Config is gw1's IKEv1 VPN to gw2 with suite s; initiates picks
// establish-tunnels immediately over responder-only.
func ikev1Config(s v1Suite, psk string, initiates bool) string {
	cfg := ikeConfigAuth(0, s.ikeEnc, s.ikeAuth, s.group, s.espEnc, s.espAuth, psk)
	cfg = strings.Replace(cfg, "version v2-only", "version v1-only", 1)
	if !initiates {
		cfg = strings.Replace(cfg, "establish-tunnels immediately", "establish-tunnels responder-only", 1)
	}
	if s.pfs != "" {
		cfg += "set security ipsec policy ipsec_policy perfect-forward-secrecy keys " + s.pfs + "\n"
	}
	return cfg
}

// ikev1Peer is strongSwan's side of ikev1Config: connection "gw", child
// "net", IKE version 1.
func ikev1Peer(s v1Suite, psk, start string) strongswan.Connection {
	return strongswan.Connection{Name: "gw", Version: 1, LocalAddrs: "192.0.2.2", RemoteAddrs: "192.0.2.1", PSK: psk,
		Proposals: []string{s.ssIKE},
		Children: []strongswan.Child{{Name: "net", LocalTS: []string{"198.18.2.0/24"}, RemoteTS: []string{"198.18.1.0/24"},
			ESPProposals: []string{s.ssESP}, StartAction: start}}}
}

// TestIKEv1WithStrongSwan: Main Mode and Quick Mode between ipsecgw and
// strongSwan, each side initiating, with 3DES/SHA-1/MODP-1024 and
// AES-256/SHA-256/MODP-2048 for phase 1, 3DES/SHA-1 and AES-256/SHA-256
// for ESP, with and without PFS. Ping and TCP cross both ways, ESP goes in
// UDP on both sides, and the packet counters of a quiet phase agree.
func TestIKEv1WithStrongSwan(t *testing.T) {
	netns.RequireRoot(t)
	strongswan.Require(t)
	legacyPFS := v1Legacy
	legacyPFS.pfs, legacyPFS.ssESP = "group2", "3des-sha1-modp1024"
	modernNoPFS := v1Modern
	modernNoPFS.pfs, modernNoPFS.ssESP = "", "aes256-sha256"
	for _, tc := range []struct {
		name             string
		suite            v1Suite
		ipsecgwInitiates bool
	}{
		{"ipsecgw-initiates-3des-sha1-modp1024-esp-3des-sha1", v1Legacy, true},
		{"strongswan-initiates-3des-sha1-modp1024-esp-3des-sha1-pfs-modp1024", legacyPFS, false},
		{"ipsecgw-initiates-aes256-sha256-modp2048-esp-aes256-sha256-pfs-modp2048", v1Modern, true},
		{"strongswan-initiates-aes256-sha256-modp2048-esp-aes256-sha256", modernNoPFS, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := newStrongSwanTopology(t)
			start := "none"
			if !tc.ipsecgwInitiates {
				start = "start"
			}
			tp.startOne(0, ikev1Config(tc.suite, "test123", tc.ipsecgwInitiates))
			charon := strongswan.Start(t, tp.net, "gw2", strongswan.Config{Connections: []strongswan.Connection{
				ikev1Peer(tc.suite, "test123", start)}})
			tp.waitTunnelWithin("h1", "198.18.2.2", 15*time.Second)
			tp.ping("h1", "198.18.2.2", 0)
			tp.ping("h2", "198.18.1.2", 0)
			tp.tcp("h1", "h2", "198.18.2.2")
			tp.compareWithCharon(charon)
			st := tp.status(tp.gws[0])
			if len(st.IKE) != 1 || st.IKE[0].State != "UP" || st.IKE[0].Initiator != tc.ipsecgwInitiates {
				t.Errorf("gw1's IKE SAs: %+v", st.IKE)
			}
			ike, child, _ := strongswan.FindChild(mustListSAs(t, charon), "net")
			if ike.Version != 1 || !child.Encap || (tc.suite.pfs != "") != (child.DHGroup != "") {
				t.Errorf("strongSwan's SAs: IKE %+v, child %+v", ike, child)
			}
			if log := tp.logOf(tp.gws[0]); !strings.Contains(log, "udp=true") || !strings.Contains(log, "local-behind-nat=false peer-behind-nat=true") {
				t.Errorf("gw1 did not take strongSwan's faked NAT to float to 4500 with UDP-encapsulated SAs:\n%s", log)
			}
			// No real NAT: strongSwan's NAT-D checks of ipsecgw's hashes
			// (of both addresses and ports) succeed.
			if ssLog := charon.Log(); strings.Contains(ssLog, "behind NAT") {
				t.Errorf("strongSwan finds a NAT where there is none: ipsecgw's NAT-D hashes are wrong\n%s", ssLog)
			}
			tp.deleteWithCharon(charon, tc.ipsecgwInitiates)
		})
	}
}

// deleteWithCharon ends the tunnel from one side and checks the other
// side removes its SAs when the DELETE arrives: ipsecgw stopping (it
// deletes its SAs on the way out) when gw1 stops, else swanctl
// --terminate.
func (tp *topology) deleteWithCharon(charon *strongswan.Charon, stopGW1 bool) {
	t := tp.t
	t.Helper()
	gw1 := tp.gws[0]
	if stopGW1 {
		tp.stop(gw1)
		deadline := time.Now().Add(3 * time.Second)
		for len(mustListSAs(t, charon)) != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("strongSwan keeps its SAs 3 s after ipsecgw stopped: %+v\n%s", mustListSAs(t, charon), charon.Log())
			}
			time.Sleep(100 * time.Millisecond)
		}
		if ssLog := charon.Log(); !strings.Contains(ssLog, "received DELETE for ESP CHILD_SA") || !strings.Contains(ssLog, "received DELETE for IKE_SA") {
			t.Errorf("strongSwan got no DELETE from ipsecgw:\n%s", ssLog)
		}
		return
	}
	if err := charon.Terminate("gw"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for st := tp.status(gw1); len(st.SAs) != 0 || len(st.IKE) != 0; st = tp.status(gw1) {
		if time.Now().After(deadline) {
			t.Fatalf("gw1 keeps SAs 3 s after strongSwan deleted them: %+v, %+v\n%s", st.IKE, st.SAs, tp.logOf(gw1))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if log := tp.logOf(gw1); !strings.Contains(log, "peer deleted the IKEv1 SA") {
		t.Errorf("gw1 does not log strongSwan's DELETE:\n%s", log)
	}
}

// compareWithCharon checks a quiet phase of pings: what ipsecgw's outbound
// SA encrypts strongSwan's inbound one decrypts and the other way round,
// nothing was received that was not sent, and no error counter moved.
// (Under TCP load strongSwan's userspace ESP drops some of what arrives.)
func (tp *topology) compareWithCharon(charon *strongswan.Charon) {
	t := tp.t
	t.Helper()
	time.Sleep(500 * time.Millisecond)
	ss0, st0 := installedChild(t, charon), tp.status(tp.gws[0])
	tp.ping("h1", "198.18.2.2", 0)
	tp.ping("h2", "198.18.1.2", 0)
	time.Sleep(300 * time.Millisecond)
	ss1, st := installedChild(t, charon), tp.status(tp.gws[0])
	if ss1.UniqueID != ss0.UniqueID {
		t.Fatalf("strongSwan's CHILD SA changed in the quiet phase: %+v, then %+v", ss0, ss1)
	}
	out0, in0 := findSA(st0, "outbound"), findSA(st0, "inbound")
	out, in := findSA(st, "outbound"), findSA(st, "inbound")
	if out.SPI != fmt.Sprintf("%#08x", ss1.SPIIn) || in.SPI != fmt.Sprintf("%#08x", ss1.SPIOut) {
		t.Fatalf("gw1 holds %+v, want strongSwan's pair (in %#08x, out %#08x)", st.SAs, ss1.SPIOut, ss1.SPIIn)
	}
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
	if g := st.Global; g.AuthFailures+g.ReplayErrors+g.DecryptFailures+g.BadHeaders+g.BadTrailers+g.WrongEncapsulation+g.SendErrors != 0 {
		t.Errorf("gw1's error counters moved: %+v", g)
	}
}

// TestIKEv1RekeyWithStrongSwan: phase 2 and phase 1 rekeys while pings
// run both ways, none lost:
//
//   - by strongSwan: Quick Mode every 3 s and a new Main Mode (IKEv1 has no
//     in-place rekey: strongSwan reauthenticates) every 7 s, with the tunnel
//     initiated by either side;
//   - by ipsecgw: lifetime-kilobytes makes it start a new Quick Mode every
//     few megabytes of a rate-limited TCP stream.
//
// IKEv1 does not mark a Quick Mode as a rekey: ipsecgw takes a peer's new
// pair for the traffic of one it holds as that one's rekey and deletes the
// old pair a second later (strongSwan, by default, keeps a rekeyed SA
// until its hard lifetime); it deletes the pairs it replaced itself the
// same way. Afterwards ipsecgw holds one ISAKMP SA and one SA pair,
// strongSwan's, whose counters agree with strongSwan's.
//
// One window is still open when strongSwan rekeys: it sends on the new pair
// as soon as it has sent Quick Mode message 3 (libipsec replaces its
// outbound SA at once), and ipsecgw, the responder, installs the pair when
// it has handled that message. A packet strongSwan sends in between (under
// a millisecond) arrives on an SPI ipsecgw does not have yet and is
// counted NoSA; with pings every 200 ms that happens in about one run in
// fifteen. Closing it needs the inbound SA installed with message 2 and
// the outbound one with message 3, which the installer interface (one call
// for both directions) cannot do yet. Such losses are tolerated, and only
// those.
func TestIKEv1RekeyWithStrongSwan(t *testing.T) {
	netns.RequireRoot(t)
	strongswan.Require(t)
	const run = 10 // seconds of pings
	for _, tc := range []struct {
		name             string
		ipsecgwInitiates bool
		ipsecgwRekeys    bool
	}{
		{"strongswan-initiates-strongswan-rekeys", false, false},
		{"ipsecgw-initiates-strongswan-rekeys", true, false},
		{"ipsecgw-initiates-ipsecgw-rekeys", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := newStrongSwanTopology(t)
			cfg := ikev1Config(v1Modern, "test123", tc.ipsecgwInitiates)
			start := "none"
			if !tc.ipsecgwInitiates {
				start = "start"
			}
			conn := ikev1Peer(v1Modern, "test123", start)
			if tc.ipsecgwRekeys {
				// 8 Mbit/s against 3 MiB: a soft lifetime about every 3 s.
				cfg += "set security ipsec proposal ipsec_prop lifetime-kilobytes 3072\n"
			} else {
				conn.RekeyTime, conn.Extra = 7*time.Second, []string{"rand_time = 0", "over_time = 30"}
				conn.Children[0].RekeyTime = 3 * time.Second
				conn.Children[0].Extra = []string{"rand_time = 0", "life_time = 60"}
			}
			tp.startOne(0, cfg)
			gw1 := tp.gws[0]
			charon := strongswan.Start(t, tp.net, "gw2", strongswan.Config{Connections: []strongswan.Connection{conn}})
			tp.waitTunnelWithin("h1", "198.18.2.2", 15*time.Second)
			first := installedChild(t, charon)
			firstIKE, _, _ := strongswan.FindChild(mustListSAs(t, charon), "net")

			noSA := tp.status(gw1).Global.NoSA
			pings := netns.Ping{Count: run * 5, Interval: 200 * time.Millisecond}
			ping12 := tp.startIn("h1", pings.Args("198.18.2.2")...)
			ping21 := tp.startIn("h2", pings.Args("198.18.1.2")...)
			if tc.ipsecgwRekeys {
				srv := tp.startIn("h2", "iperf3", "-s", "-1", "-p", "5201")
				for i := 0; ; i++ {
					if out, _ := tp.net.Try("h2", "ss", "-Hltn", "sport = :5201"); strings.Contains(out, "5201") {
						break
					}
					if i == 50 {
						t.Fatal("iperf3 server does not listen after 5 s")
					}
					time.Sleep(100 * time.Millisecond)
				}
				out, err := tp.net.Try("h1", "iperf3", "-c", "198.18.2.2", "-p", "5201", "-t", fmt.Sprint(run-2), "-b", "8M",
					"-J", "--connect-timeout", "2000")
				if err != nil {
					t.Errorf("iperf3 across the rekeys: %v\n%s", err, out)
				} else {
					checkIperf(t, out)
				}
				srv.wait(5 * time.Second)
			}
			lost := 0
			for _, p := range []struct {
				name string
				b    *background
			}{{"h1 → h2", ping12}, {"h2 → h1", ping21}} {
				out, _ := p.b.wait(pings.Deadline())
				missing := pings.Unanswered(out)
				t.Logf("ping %s: %d of %d unanswered; ping says %s", p.name, len(missing), pings.Count, pingSummary(out))
				lost += len(missing)
			}
			// The window the test's comment describes: a loss is accepted
			// only when ipsecgw counted as many packets on SPIs it did not
			// have, and only for strongSwan's rekeys.
			if noSAs := int(tp.status(gw1).Global.NoSA - noSA); lost > 0 {
				if tc.ipsecgwRekeys || lost > noSAs {
					t.Errorf("the pings lost %d packets across the rekeys; gw1 received %d on SPIs it did not have\ngw1:\n%s\n%s",
						lost, noSAs, tp.logOf(gw1), tp.counters())
				} else {
					t.Logf("the pings lost %d packets, each strongSwan's on a new pair before gw1 handled Quick Mode message 3 (gw1 counted %d NoSA)",
						lost, noSAs)
				}
			}

			log := tp.logOf(gw1)
			if !tc.ipsecgwRekeys {
				// strongSwan's second Main Mode is due 7 s into the 10 s
				// run. charon (5.9, IKEv1 queue_ike_reauth) registers its
				// new ISAKMP SA only after it sent message 1, and drops,
				// unlogged at our levels, a message 2 that comes before
				// ("IKE_SA checkout not successful" at mgr level 2): about
				// one run in seven on a loaded machine, seen in CI on
				// 2026-12-07. Its 4 s retransmit, answered with the message
				// 2 we kept, is recovery, not failure: wait that out,
				// bounded, and say it happened.
				for i := 0; i < 100 && strings.Count(log, "IKEv1 SA up") < 2; i++ {
					time.Sleep(100 * time.Millisecond)
					log = tp.logOf(gw1)
				}
				if n := strings.Count(charon.Log(), "sending retransmit"); n > 0 {
					t.Logf("strongSwan retransmitted %d IKE messages in this run", n)
				}
			}
			ownRekeys := strings.Count(log, "IKEv1 IPsec SA rekeyed by us")
			peerRekeys := strings.Count(log, "IKEv1 IPsec SA rekeyed by the peer")
			mainModes := strings.Count(log, "IKEv1 SA up")
			t.Logf("gw1: %d phase 2 rekeys of its own, %d by strongSwan; %d Main Modes", ownRekeys, peerRekeys, mainModes)
			if tc.ipsecgwRekeys {
				if ownRekeys < 2 || peerRekeys != 0 {
					t.Errorf("want 2 or more phase 2 rekeys by gw1 alone, gw1 saw %d of its own and %d by strongSwan:\n%s", ownRekeys, peerRekeys, log)
				}
			} else if peerRekeys < 2 || ownRekeys != 0 || mainModes < 2 {
				t.Errorf("want 2 or more phase 2 rekeys by strongSwan alone and 2 or more Main Modes, gw1 saw %d, %d of its own, and %d:\n%s",
					peerRekeys, ownRekeys, mainModes, log)
			}

			// Afterwards: one ISAKMP SA, one SA pair, strongSwan's. Its
			// rekey_time goes on, so the quiet phase is retried should a
			// rekey fall inside it: it is quiet when both sides hold the
			// same one pair (and strongSwan one IKE SA with one CHILD SA)
			// before and after its pings, every check below reading what
			// was sampled inside it. A quiet phase needs about 1.5 s
			// between two rekeys 3 s apart (the old pair lingers 1 s):
			// under load many attempts miss, so they go on for up to 40 s.
			quietUntil := time.Now().Add(40 * time.Second)
			for attempt := 1; ; attempt++ {
				time.Sleep(500 * time.Millisecond)
				sas0, st0 := mustListSAs(t, charon), tp.status(gw1)
				tp.ping("h1", "198.18.2.2", 0)
				tp.ping("h2", "198.18.1.2", 0)
				time.Sleep(300 * time.Millisecond)
				sas, st := mustListSAs(t, charon), tp.status(gw1)
				ss0, ok0 := onlyChild(sas0, st0)
				ss1, ok1 := onlyChild(sas, st)
				out0, out1 := findSA(st0, "outbound"), findSA(st, "outbound")
				if !ok0 || !ok1 || ss1.UniqueID != ss0.UniqueID || out0.SPI != out1.SPI || len(st.SAs) != 2 || len(st0.SAs) != 2 ||
					ikeUp(st0) != 1 || ikeUp(st) != 1 {
					if time.Now().After(quietUntil) {
						t.Fatalf("no quiet phase in %d attempts (one IKE SA and one SA pair on each side): gw1 holds %+v and %+v, strongSwan %+v\n%s",
							attempt, st.IKE, st.SAs, sas, tp.logOf(gw1))
					}
					continue
				}
				if ss1.SPIIn == first.SPIIn {
					t.Errorf("the SA pair was not rekeyed: first %+v, last %+v", first, ss1)
				}
				if stuck := stuckReauth(t, charon, sas, 20*time.Second); len(stuck) > 0 {
					t.Errorf("strongSwan's Main Mode re-authentication stayed CONNECTING for 20 s: %+v\ngw1:\n%s", stuck, tp.logOf(gw1))
				}
				if ike, _, _ := strongswan.FindChild(sas, "net"); !tc.ipsecgwRekeys && ike.UniqueID == firstIKE.UniqueID {
					t.Errorf("strongSwan's IKE SA was not renewed: %+v", ike)
				}
				in0, in1 := findSA(st0, "inbound"), findSA(st, "inbound")
				if out1.SPI != fmt.Sprintf("%#08x", ss1.SPIIn) || in1.SPI != fmt.Sprintf("%#08x", ss1.SPIOut) {
					t.Fatalf("gw1 holds %+v, want strongSwan's pair (in %#08x, out %#08x)", st.SAs, ss1.SPIOut, ss1.SPIIn)
				}
				sent, got := out1.Counters.EncryptedPackets-out0.Counters.EncryptedPackets, ss1.PacketsIn-ss0.PacketsIn
				back, recv := ss1.PacketsOut-ss0.PacketsOut, in1.Counters.DecryptedPackets-in0.Counters.DecryptedPackets
				t.Logf("quiet phase on CHILD SA %d: ipsecgw sent %d, strongSwan got %d; strongSwan sent %d, ipsecgw got %d",
					ss1.UniqueID, sent, got, back, recv)
				if sent < 6 || sent != got || back < 6 || back != recv {
					t.Errorf("counters disagree after the rekeys: ipsecgw sent %d, strongSwan got %d; strongSwan sent %d, ipsecgw got %d",
						sent, got, back, recv)
				}
				if g := st.Global; g.AuthFailures+g.ReplayErrors+g.DecryptFailures+g.BadHeaders+g.BadTrailers+g.WrongEncapsulation+g.SendErrors != 0 {
					t.Errorf("gw1's error counters moved: %+v", g)
				}
				break
			}
		})
	}
}

// pingSummary is ping's "n packets transmitted, n received" line.
func pingSummary(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "packets transmitted") {
			return l
		}
	}
	return strings.TrimSpace(out)
}

// TestIKEv1DPDWithStrongSwan: ipsecgw initiates with dead peer detection
// every 2 s, 2 probes; strongSwan (which announces DPD in Main Mode) also
// probes every 2 s. While both live the probes are answered both ways and
// the SAs stay. SIGKILL to charon: within interval × (threshold + 2) plus a
// second (the first probe goes after a whole interval of silence, seen at
// the next tick) ipsecgw declares the peer dead, clears its SAs, logs and
// counts why; restarted with the same configuration, charon gets the
// tunnel back from ipsecgw's own re-initiation (establish-tunnels
// immediately).
func TestIKEv1DPDWithStrongSwan(t *testing.T) {
	netns.RequireRoot(t)
	strongswan.Require(t)
	const interval, threshold = 2 * time.Second, 2
	tp := newStrongSwanTopology(t)
	cfg := ikev1Config(v1Legacy, "test123", true) +
		fmt.Sprintf("set security ike gateway ike_gw dead-peer-detection interval %d\n", interval/time.Second) +
		fmt.Sprintf("set security ike gateway ike_gw dead-peer-detection threshold %d\n", threshold)
	tp.startOne(0, cfg)
	gw1 := tp.gws[0]
	peer := ikev1Peer(v1Legacy, "test123", "none")
	peer.DPDDelay = interval
	ssCfg := strongswan.Config{Connections: []strongswan.Connection{peer}}
	charon := strongswan.Start(t, tp.net, "gw2", ssCfg)
	tp.waitTunnelWithin("h1", "198.18.2.2", 15*time.Second)
	tp.ping("h2", "198.18.1.2", 0)

	// Both probe and both answer: after a few intervals the SAs are the
	// same on both sides.
	before, ssBefore := tp.status(gw1), installedChild(t, charon)
	time.Sleep(3*interval + 500*time.Millisecond)
	after, ssAfter := tp.status(gw1), installedChild(t, charon)
	if len(after.IKE) != 1 || len(before.IKE) != 1 || after.IKE[0].InitiatorSPI != before.IKE[0].InitiatorSPI ||
		len(after.SAs) != 2 || ssAfter.UniqueID != ssBefore.UniqueID {
		t.Fatalf("the tunnel did not stay up while both answered: before %+v, after %+v\n%s", before.IKE, after.IKE, tp.logOf(gw1))
	}
	if n := tp.metric(`ipsecgw_dpd_events_total{kind="dead"}`); n != 0 {
		t.Fatalf("a live peer was declared dead %v times\n%s", n, tp.logOf(gw1))
	}
	ssLog := charon.Log()
	if !strings.Contains(ssLog, "N(DPD)") || !strings.Contains(ssLog, "N(DPD_ACK)") {
		t.Errorf("strongSwan's log shows no DPD exchanged both ways:\n%s", ssLog)
	}
	if strings.Contains(ssLog, "invalid DPD") || strings.Contains(ssLog, "DPD sequence") {
		t.Errorf("strongSwan refuses ipsecgw's DPD answers:\n%s", ssLog)
	}
	tp.ping("h1", "198.18.2.2", 0)

	st := tp.killPeerAndWaitDPD(charon, gw1, interval, threshold)
	reason := dpdReason(threshold)
	found := false
	for _, f := range st.Failures {
		found = found || f.Failure.Message == reason
	}
	if !found {
		t.Errorf("gw1's status has no failure %q: %+v", reason, st.Failures)
	}
	if n := tp.metric(`ipsecgw_dpd_events_total{kind="dead"}`); n != 1 {
		t.Errorf("ipsecgw_dpd_events_total{kind=\"dead\"} = %v, want 1", n)
	}

	charon = strongswan.Start(t, tp.net, "gw2", ssCfg)
	back := tp.waitTunnelWithin("h1", "198.18.2.2", 20*time.Second)
	t.Logf("tunnel back %v after charon's restart", back.Round(10*time.Millisecond))
	tp.ping("h2", "198.18.1.2", 0)
	st = tp.status(gw1)
	if len(st.IKE) != 1 || st.IKE[0].State != "UP" || !st.IKE[0].Initiator || len(st.SAs) != 2 {
		t.Fatalf("gw1 after the restart: IKE %+v, %d SAs", st.IKE, len(st.SAs))
	}
	if log := tp.logOf(gw1); !strings.Contains(log, "negotiating the IKEv1 tunnel again") {
		t.Errorf("gw1 does not log its re-initiation:\n%s", log)
	}
	if _, child, ok := strongswan.FindChild(mustListSAs(t, charon), "net"); !ok || child.State != "INSTALLED" {
		t.Errorf("charon's CHILD SA after the restart: %+v", child)
	}
}

// TestIKEv1NATWithStrongSwan: ipsecgw initiates from behind a masquerading
// NAT (nftables) to strongSwan: ipsecgw finds its own address changed in
// strongSwan's NAT-D (strongSwan finds the same of ipsecgw), IKE moves to
// 4500 from message 5 on, and ESP (AES-GCM) goes in UDP through the NAT:
// ping and TCP cross both ways, the NAT carried UDP 4500 and no raw ESP,
// and the counters agree.
func TestIKEv1NATWithStrongSwan(t *testing.T) {
	netns.RequireRoot(t)
	strongswan.Require(t)
	tp := newNATTopology(t)
	tp.net.Exec("gw2", "ip", "addr", "add", "198.51.100.2/24", "dev", "gw2-nat")
	tp.net.Exec("gw2", "ip", "addr", "add", "198.18.2.1/24", "dev", "gw2-h2")
	cfg := natConfig(0)
	for _, r := range [][2]string{
		{"version v2-only", "version v1-only"},
		{"ike proposal p encryption-algorithm aes-256-gcm", "ike proposal p encryption-algorithm aes-256-cbc"},
	} {
		cfg = strings.Replace(cfg, r[0], r[1], 1)
	}
	cfg += "set security ike policy pol mode main\n"
	tp.startOne(0, cfg)
	gw1 := tp.gws[0]
	charon := strongswan.Start(t, tp.net, "gw2", strongswan.Config{Connections: []strongswan.Connection{{
		Name: "gw", Version: 1, LocalAddrs: "198.51.100.2", PSK: "behind a nat",
		Proposals: []string{"aes256-sha256-ecp256"},
		Children: []strongswan.Child{{Name: "net", LocalTS: []string{"198.18.2.0/24"}, RemoteTS: []string{"198.18.1.0/24"},
			ESPProposals: []string{"aes256gcm16"}}},
	}}})
	tp.waitTunnelWithin("h1", "198.18.2.2", 15*time.Second)
	tp.ping("h1", "198.18.2.2", 0)
	tp.ping("h2", "198.18.1.2", 0)
	tp.tcp("h1", "h2", "198.18.2.2")
	tp.compareWithCharon(charon)

	log := tp.logOf(gw1)
	if !strings.Contains(log, "local-behind-nat=true") || !strings.Contains(log, "udp=true") {
		t.Errorf("gw1 did not find itself behind the NAT or installed no UDP-encapsulated SAs:\n%s", log)
	}
	if ssLog := charon.Log(); !strings.Contains(ssLog, "remote host is behind NAT") {
		t.Errorf("strongSwan did not find gw1 behind the NAT:\n%s", ssLog)
	}
	ike, child, _ := strongswan.FindChild(mustListSAs(t, charon), "net")
	if ike.Version != 1 || ike.RemoteHost != "198.51.100.254" || ike.RemotePort != 4500 || !child.Encap {
		t.Errorf("strongSwan's SAs: IKE %+v, child %+v", ike, child)
	}
	conntrack := tp.net.Exec("nat", "cat", "/proc/net/nf_conntrack")
	if !strings.Contains(conntrack, "dport=4500") {
		t.Errorf("the NAT saw no UDP 4500 flow:\n%s", conntrack)
	}
	if strings.Contains(conntrack, " esp ") || strings.Contains(conntrack, "unknown 50") {
		t.Errorf("raw ESP crossed the NAT:\n%s", conntrack)
	}
}

// TestIKEv1PeerRestartWithStrongSwan: strongSwan initiates, ipsecgw is
// responder-only without dead peer detection. charon is killed (no DELETE)
// and started again: its new Main Mode and Quick Mode replace what ipsecgw
// still held for it (the stale ISAKMP SA deleted, the stale pair taken as
// rekeyed and deleted), so the tunnel carries traffic again and ipsecgw
// ends with one ISAKMP SA and one pair, strongSwan's.
func TestIKEv1PeerRestartWithStrongSwan(t *testing.T) {
	netns.RequireRoot(t)
	strongswan.Require(t)
	tp := newStrongSwanTopology(t)
	tp.startOne(0, ikev1Config(v1Legacy, "test123", false))
	gw1 := tp.gws[0]
	ssCfg := strongswan.Config{Connections: []strongswan.Connection{ikev1Peer(v1Legacy, "test123", "start")}}
	charon := strongswan.Start(t, tp.net, "gw2", ssCfg)
	tp.waitTunnelWithin("h1", "198.18.2.2", 15*time.Second)
	before := tp.status(gw1)
	if err := syscall.Kill(charon.PID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	charon.Stop()
	charon = strongswan.Start(t, tp.net, "gw2", ssCfg)
	back := tp.waitTunnelWithin("h1", "198.18.2.2", 15*time.Second)
	t.Logf("tunnel back %v after charon's restart", back.Round(10*time.Millisecond))
	tp.ping("h2", "198.18.1.2", 0)
	deadline := time.Now().Add(5 * time.Second)
	var st daemon.Status
	for st = tp.status(gw1); len(st.IKE) != 1 || len(st.SAs) != 2; st = tp.status(gw1) {
		if time.Now().After(deadline) {
			t.Fatalf("gw1 still holds IKE SAs %+v and SAs %+v 5 s after the tunnel came back\n%s", st.IKE, st.SAs, tp.logOf(gw1))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st.IKE[0].InitiatorSPI == before.IKE[0].InitiatorSPI || findSA(st, "inbound").SPI == findSA(before, "inbound").SPI {
		t.Errorf("gw1 kept the stale SAs: before %+v %+v, after %+v %+v", before.IKE, before.SAs, st.IKE, st.SAs)
	}
	tp.compareWithCharon(charon)
}

// TestIKEv1AggressiveWithStrongSwan: Aggressive Mode with a pre-shared key
// (mode aggressive on ipsecgw's IKE policy, aggressive = yes on
// strongSwan's connection), each side initiating: the tunnel comes up,
// ping crosses both ways, and both sides agree the phase 1 was aggressive.
func TestIKEv1AggressiveWithStrongSwan(t *testing.T) {
	netns.RequireRoot(t)
	strongswan.Require(t)
	for _, ipsecgwInitiates := range []bool{true, false} {
		t.Run(fmt.Sprintf("ipsecgw-initiates=%v", ipsecgwInitiates), func(t *testing.T) {
			tp := newStrongSwanTopology(t)
			start := "none"
			if !ipsecgwInitiates {
				start = "start"
			}
			cfg := strings.Replace(ikev1Config(v1Modern, "test123", ipsecgwInitiates),
				"set security ike policy ike_policy mode main", "set security ike policy ike_policy mode aggressive", 1)
			tp.startOne(0, cfg)
			peer := ikev1Peer(v1Modern, "test123", start)
			peer.Extra = append(peer.Extra, "aggressive = yes")
			// strongSwan answers Aggressive Mode with a pre-shared key only
			// when told it knows the risk (the hash is offline-crackable).
			charon := strongswan.Start(t, tp.net, "gw2", strongswan.Config{Connections: []strongswan.Connection{peer},
				Charon: []string{"i_dont_care_about_security_and_use_aggressive_mode_psk = yes"}})
			tp.waitTunnelWithin("h1", "198.18.2.2", 15*time.Second)
			tp.ping("h1", "198.18.2.2", 0)
			tp.ping("h2", "198.18.1.2", 0)
			if log := tp.logOf(tp.gws[0]); ipsecgwInitiates && !strings.Contains(log, "IKEv1 Aggressive Mode started") {
				t.Errorf("gw1 did not start Aggressive Mode:\n%s", log)
			}
			if ssLog := charon.Log(); !strings.Contains(ssLog, "Aggressive Mode") && !strings.Contains(ssLog, "AGGRESSIVE") {
				t.Errorf("strongSwan's log shows no Aggressive Mode:\n%s", ssLog)
			}
		})
	}
}

// onlyChild returns strongSwan's one installed CHILD SA when it holds one
// IKE SA with one CHILD SA (none being rekeyed or deleted). A Main Mode
// re-authentication still CONNECTING, without CHILD SAs, is left out: it
// is checked by stuckReauth. So is an old pair strongSwan holds REKEYED
// that gw1 (st) no longer has: strongSwan moves its CHILD SAs to the new
// ISAKMP SA when a re-authentication starts, so gw1's DELETE for the pair
// its rekey replaced, sent in the old ISAKMP SA during the
// re-authentication, is "not found, ignored" and the pair stays REKEYED
// until its hard lifetime.
func onlyChild(sas []strongswan.IKESA, st daemon.Status) (strongswan.ChildSA, bool) {
	sas = slices.DeleteFunc(slices.Clone(sas), func(ike strongswan.IKESA) bool {
		return ike.State == "CONNECTING" && len(ike.Children) == 0
	})
	if len(sas) != 1 {
		return strongswan.ChildSA{}, false
	}
	children := slices.DeleteFunc(slices.Clone(sas[0].Children), func(c strongswan.ChildSA) bool {
		return c.State == "REKEYED" && !slices.ContainsFunc(st.SAs, func(sa daemon.SAStatus) bool {
			return sa.SPI == fmt.Sprintf("%#08x", c.SPIIn) || sa.SPI == fmt.Sprintf("%#08x", c.SPIOut)
		})
	})
	if len(children) != 1 || children[0].State != "INSTALLED" {
		return strongswan.ChildSA{}, false
	}
	return children[0], true
}

// stuckReauth returns strongSwan's Main Mode re-authentications among sas
// that are CONNECTING and still are after within. One in progress
// completes in milliseconds, or after a retransmission of its message 1
// (4 s): charon drops a message 2 that comes before it registered its new
// ISAKMP SA, and ipsecgw must answer the retransmission with the message 2
// it sent.
func stuckReauth(t *testing.T, charon *strongswan.Charon, sas []strongswan.IKESA, within time.Duration) []strongswan.IKESA {
	t.Helper()
	connecting := func(sas []strongswan.IKESA, ids map[int]bool) []strongswan.IKESA {
		var out []strongswan.IKESA
		for _, ike := range sas {
			if ike.State == "CONNECTING" && len(ike.Children) == 0 && (ids == nil || ids[ike.UniqueID]) {
				out = append(out, ike)
			}
		}
		return out
	}
	stuck := connecting(sas, nil)
	ids := map[int]bool{}
	for _, ike := range stuck {
		ids[ike.UniqueID] = true
	}
	for deadline := time.Now().Add(within); len(stuck) > 0 && time.Now().Before(deadline); {
		time.Sleep(250 * time.Millisecond)
		stuck = connecting(mustListSAs(t, charon), ids)
	}
	return stuck
}

// ikeUp counts the IKE SAs up in a gateway's status.
func ikeUp(st daemon.Status) int {
	up := 0
	for _, ike := range st.IKE {
		if ike.State == "UP" {
			up++
		}
	}
	return up
}

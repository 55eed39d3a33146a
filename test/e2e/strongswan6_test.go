package e2e

import (
	"testing"

	"ipsecgw/test/netns"
	"ipsecgw/test/strongswan"
)

// TestRawESPWithStrongSwan6: ipsecgw on gw1, strongSwan 6's charon with
// its userspace ESP sending plain ESP (kernel-libipsec raw_esp = yes, IP
// protocol 50, no NAT faked) on gw2: an independent raw-ESP peer on the
// host, no UML. IKEv2 with PSK; ping and TCP both ways; in a quiet phase
// of pings each side's counters agree with the other's. Once on each data
// plane of ipsecgw (AF_XDP rings, AF_PACKET rings, raw sockets).
func TestRawESPWithStrongSwan6(t *testing.T) {
	netns.RequireRoot(t)
	strongswan.Require6(t)
	// auto takes AF_XDP on this kernel's veths.
	for _, asked := range []string{"xdp", "packet-ring", "socket", "auto"} {
		dataPlane := asked
		if asked == "auto" {
			dataPlane = "xdp"
		}
		t.Run("data-plane-"+asked, func(t *testing.T) {
			tp := newTopology(t)
			tp.negotiated = true
			tp.net.Exec("gw2", "ip", "addr", "add", "192.0.2.2/24", "dev", "gw2-gw1")
			tp.net.Exec("gw2", "ip", "addr", "add", "198.18.2.1/24", "dev", "gw2-h2")
			cfg := ikeConfig(0, "aes-256-gcm", "group19", "aes-256-gcm", "test123") +
				"set security ipsec data-plane " + asked + "\n"
			tp.startOne(0, cfg)
			if st := tp.status(tp.gws[0]); st.DataPlane.Mode != dataPlane {
				t.Fatalf("data plane %q running, %q configured: %+v", st.DataPlane.Mode, dataPlane, st.DataPlane)
			}
			charon := strongswan.Start(t, tp.net, "gw2", strongswan.Config{Strongswan6: true,
				Charon: []string{"plugins {", "kernel-libipsec {", "raw_esp = yes", "}", "}"},
				Connections: []strongswan.Connection{{
					Name: "gw", LocalAddrs: "192.0.2.2", RemoteAddrs: "192.0.2.1", PSK: "test123",
					Proposals: []string{"aes256gcm16-prfsha256-ecp256"},
					Children: []strongswan.Child{{Name: "net", LocalTS: []string{"198.18.2.0/24"}, RemoteTS: []string{"198.18.1.0/24"},
						ESPProposals: []string{"aes256gcm16"}, StartAction: "none"}},
				}}})
			tp.waitTunnel("h1", "198.18.2.2")
			tp.ping("h1", "198.18.2.2", 0)
			tp.ping("h2", "198.18.1.2", 0)
			tp.tcp("h1", "h2", "198.18.2.2")
			ss1, st := quietPhase(t, tp, charon)
			if ss1.Encap {
				t.Fatalf("strongSwan's child SA is UDP-encapsulated: %+v; want raw ESP", ss1)
			}
			if g := st.Global; g.AuthFailures+g.ReplayErrors+g.BadHeaders+g.BadTrailers+g.WrongEncapsulation+g.SendErrors != 0 {
				t.Errorf("ipsecgw error counters moved: %+v", g)
			}
			if dataPlane == "xdp" {
				if x := st.DataPlane.XDP; x == nil || x.Received == 0 || x.Sent == 0 {
					t.Errorf("xdp data plane carried nothing on its rings: %+v", st.DataPlane)
				}
			}
			if dataPlane == "packet-ring" {
				if r := st.DataPlane.PacketRing; r == nil || r.Received == 0 || r.Sent == 0 || r.Malformed != 0 {
					t.Errorf("packet-ring data plane carried nothing on its rings: %+v", st.DataPlane)
				}
			}
		})
	}
}

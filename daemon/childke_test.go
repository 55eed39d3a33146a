package daemon

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"ipsecgw/clock"
	"ipsecgw/ike"
	"ipsecgw/netio"
)

// childKEConfig gives st0IKE's VPN v PFS (group 20) and an ML-KEM-768
// additional key exchange after it.
const childKEConfig = `set security ipsec policy pp perfect-forward-secrecy keys group20
set security ipsec policy pp perfect-forward-secrecy additional-key-exchange ke1 mlkem768
`

// TestStatusChildKeyExchanges: the status names, per SA, the key exchanges
// its keys came from. The first Child SA (IKE_AUTH) has none; after a
// rekey (CREATE_CHILD_SA with IKE_FOLLOWUP_KE) both directions on both
// gateways carry PFS group 20 and "ke1 ML-KEM-768", in Status and in the
// status file; the manual VPN's SAs carry nothing.
func TestStatusChildKeyExchanges(t *testing.T) {
	cfgs := [2]string{
		st0IKE + childKEConfig + "set security ipsec vpn v establish-tunnels immediately\n",
		st0IKE + childKEConfig + "set security ipsec vpn v establish-tunnels responder-only\n",
	}
	network := netio.NewMemNetwork()
	var gws [2]*Daemon
	for i := range gws {
		me, peer := i+1, 2-i
		dir := t.TempDir()
		cfg := filepath.Join(dir, "gw.conf")
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf(cfgs[i], me, peer)), 0o600); err != nil {
			t.Fatal(err)
		}
		h, err := NewMemHost(network, []string{"eth1"}, netip.MustParseAddr(fmt.Sprintf("192.0.2.%d", me)))
		if err != nil {
			t.Fatal(err)
		}
		d, err := Start(Options{ConfigFile: cfg, StateDir: dir, Host: h, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatalf("gw%d: %v", me, err)
		}
		t.Cleanup(func() { d.Stop() })
		gws[i] = d
	}
	waitSAs(t, gws[0], "v", 2)
	waitSAs(t, gws[1], "v", 2)
	for i, gw := range gws {
		for _, sa := range gw.Status().SAs {
			if sa.PFSGroup != 0 || len(sa.AdditionalKE) != 0 {
				t.Fatalf("gw%d: SA %s %s of %s claims PFS group %d, additional key exchanges %v",
					i+1, sa.Direction, sa.SPI, sa.VPN, sa.PFSGroup, sa.AdditionalKE)
			}
		}
	}

	if n := gws[0].RekeyIPsec([]string{"v"}); n != 1 {
		t.Fatalf("%d rekeys started, want 1", n)
	}
	want := []string{"ke1 ML-KEM-768"}
	// rekeyed: v has only its rekeyed pair left (the old inbound SA
	// lingers a moment after the DELETE), every one with the key exchanges.
	rekeyed := func(gw *Daemon) bool {
		n := 0
		for _, sa := range gw.Status().SAs {
			if sa.VPN != "v" {
				continue
			}
			if sa.PFSGroup != 20 || !slices.Equal(sa.AdditionalKE, want) {
				return false
			}
			n++
		}
		return n == 2
	}
	deadline := time.Now().Add(20 * time.Second)
	for !rekeyed(gws[0]) || !rekeyed(gws[1]) {
		if time.Now().After(deadline) {
			t.Fatalf("after the rekey: gw1 SAs %+v\ngw2 SAs %+v", gws[0].Status().SAs, gws[1].Status().SAs)
		}
		time.Sleep(20 * time.Millisecond)
	}

	if err := gws[1].WriteStatus(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(gws[1].StatusPath())
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		SAs []struct {
			VPN          string   `json:"vpn"`
			PFSGroup     int      `json:"pfs-group"`
			AdditionalKE []string `json:"additional-key-exchange"`
		} `json:"sas"`
	}
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, sa := range file.SAs {
		switch {
		case sa.VPN == "m" && (sa.PFSGroup != 0 || sa.AdditionalKE != nil):
			t.Fatalf("the manual VPN's SA in the status file has key exchanges: %+v", sa)
		case sa.VPN == "v" && (sa.PFSGroup != 20 || !slices.Equal(sa.AdditionalKE, want)):
			t.Fatalf("v's SA in the status file: %+v, want pfs-group 20 and %v", sa, want)
		}
		seen[sa.VPN]++
	}
	if seen["v"] != 2 || seen["m"] != 2 {
		t.Fatalf("status file lists SAs by VPN %v, want 2 of v and 2 of m:\n%s", seen, b)
	}
}

// TestChildKEsRecord: the record follows installs and removals, the
// outbound SA's at once and the inbound one's with the inbound SA, after
// inboundGrace; an outbound SPI of one VPN is not another's, nor an
// inbound SPI; an SA without key exchanges of its own is annotated with
// none, also where an earlier SA had its SPI.
func TestChildKEsRecord(t *testing.T) {
	var k childKEs
	clk := clock.NewFake(time.Date(2026, time.December, 7, 8, 0, 0, 0, time.UTC))
	c := &ike.ChildSA{InboundSPI: 0x1000, OutboundSPI: 0x2000, PFSGroup: 20, AddKE: []string{"ke1 ML-KEM-768"}}
	k.installed("v", c, true)
	k.installed("v", c, false)
	sas := func() []SAStatus {
		s := []SAStatus{
			{VPN: "v", Direction: "inbound", SPI: "0x00001000"}, {VPN: "v", Direction: "outbound", SPI: "0x00002000"},
			{VPN: "w", Direction: "outbound", SPI: "0x00002000"}, {VPN: "v", Direction: "inbound", SPI: "0x00002000"},
		}
		k.annotate(s)
		return s
	}
	has := func(s SAStatus) bool { return s.PFSGroup == 20 && slices.Equal(s.AdditionalKE, c.AddKE) }
	if s := sas(); !has(s[0]) || !has(s[1]) || s[2].PFSGroup != 0 || s[3].AdditionalKE != nil {
		t.Fatalf("installed: %+v", s)
	}
	k.removeChild(clk, "v", c)
	if s := sas(); !has(s[0]) || s[1].PFSGroup != 0 {
		t.Fatalf("removed, before the grace: %+v", s)
	}
	clk.Advance(inboundGrace)
	if s := sas(); s[0].PFSGroup != 0 || len(k.by) != 0 {
		t.Fatalf("removed, after the grace: %+v (%d records left)", s, len(k.by))
	}
	k.installed("v", c, true)
	k.installed("v", &ike.ChildSA{InboundSPI: 0x1000}, true) // the SPI reused by an SA without
	if s := sas(); s[0].PFSGroup != 0 || len(k.by) != 0 {
		t.Fatalf("SPI reused: %+v (%d records left)", s, len(k.by))
	}
}

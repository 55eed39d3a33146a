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

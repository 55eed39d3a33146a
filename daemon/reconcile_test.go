package daemon

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ipsecgw/config"
	"ipsecgw/config/store"
	"ipsecgw/config/syntax"
	"ipsecgw/header"
	"ipsecgw/netio"
	"ipsecgw/test/syncbuf"
)

// twoVPNs has manual VPNs a (st0.1) and b (st0.2) between 192.0.2.ME and
// 192.0.2.PEER.
const twoVPNs = `set interfaces eth1 unit 0 family inet address 192.0.2.%[1]d/24
set interfaces st0 unit 1 family inet
set interfaces st0 unit 2 family inet
set routing-options static route 198.18.%[2]d.0/24 next-hop st0.1
set routing-options static route 198.19.%[2]d.0/24 next-hop st0.2
set security ipsec vpn a bind-interface st0.1
set security ipsec vpn a manual gateway 192.0.2.%[2]d
set security ipsec vpn a manual external-interface eth1
set security ipsec vpn a manual protocol esp
set security ipsec vpn a manual spi 300
set security ipsec vpn a manual encryption algorithm aes-256-gcm
set security ipsec vpn a manual encryption key ascii-text "abcdefghijklmnopqrstuvwxyz0123456789"
set security ipsec vpn b bind-interface st0.2
set security ipsec vpn b manual gateway 192.0.2.%[2]d
set security ipsec vpn b manual external-interface eth1
set security ipsec vpn b manual protocol esp
set security ipsec vpn b manual spi 400
set security ipsec vpn b manual encryption algorithm aes-128-gcm
set security ipsec vpn b manual encryption key ascii-text "0123456789abcdefghij"
`

func startPair(t *testing.T, cfgText string) ([2]*Daemon, [2]*MemHost) {
	t.Helper()
	network := netio.NewMemNetwork()
	var ds [2]*Daemon
	var hosts [2]*MemHost
	for i := range ds {
		me, peer := i+1, 2-i
		dir := t.TempDir()
		cfg := filepath.Join(dir, "gw.conf")
		os.WriteFile(cfg, []byte(fmt.Sprintf(cfgText, me, peer)), 0o600)
		h, err := NewMemHost(network, []string{"eth1"}, netip.MustParseAddr(fmt.Sprintf("192.0.2.%d", me)))
		if err != nil {
			t.Fatal(err)
		}
		log := new(syncbuf.Buffer)
		d, err := Start(Options{ConfigFile: cfg, StateDir: dir, Host: h,
			Logger: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		if err != nil {
			t.Fatalf("gw%d: %v", me, err)
		}
		// The daemons' logs, kept quiet unless the test fails, say what
		// the two did when a race between them makes it fail.
		t.Cleanup(func() {
			d.Stop()
			if t.Failed() {
				t.Logf("gw%d's log:\n%s", me, log.String())
			}
		})
		ds[i], hosts[i] = d, h
	}
	return ds, hosts
}

// cross sends one packet into gw1's tunnel and reports whether it came out
// of gw2's.
func cross(t *testing.T, hosts [2]*MemHost, tunnel, src, dst string) bool {
	t.Helper()
	pkt := make([]byte, 84)
	header.EncodeIPv4(pkt, header.IPv4Fields{TotalLength: 84, TTL: 64, Protocol: header.IPProtoICMP,
		Source: netip.MustParseAddr(src), Destination: netip.MustParseAddr(dst)})
	in, out := hosts[0].TUN(tunnel), hosts[1].TUN(tunnel)
	if in == nil || out == nil {
		return false
	}
	in.Inject(pkt)
	got, err := out.Receive(2 * time.Second)
	return err == nil && bytes.Equal(got, pkt)
}

func edit(t *testing.T, st *store.Store, lines ...string) {
	t.Helper()
	err := st.Edit(func(e *config.Editor) error {
		return e.LoadSet(e.Tree.Root, "test", []byte(strings.Join(lines, "\n")+"\n"))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCommitChangesOnlyWhatChanged: a commit that changes VPN b re-installs
// b's SAs and leaves a's SA objects, sequence numbers and tunnel interface
// untouched; a's traffic flows before, during and after.
func TestCommitChangesOnlyWhatChanged(t *testing.T) {
	ds, hosts := startPair(t, twoVPNs)
	if !cross(t, hosts, "st0.1", "198.18.1.2", "198.18.2.2") || !cross(t, hosts, "st0.2", "198.19.1.2", "198.19.2.2") {
		t.Fatal("traffic does not cross before the commit")
	}
	outA := ds[0].Engine().OutboundSAs()
	tunA := hosts[0].TUN("st0.1")
	seqA := saSeq(ds[0], "a")

	for _, d := range ds {
		edit(t, d.Store(), "set security ipsec vpn b manual spi 401")
		if _, err := d.Store().Commit(store.CommitOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if hosts[0].TUN("st0.1") != tunA {
		t.Fatal("st0.1 was re-created by a commit that did not change it")
	}
	if saSeq(ds[0], "a") != seqA {
		t.Fatalf("VPN a's outbound SA restarted: sequence %d, was %d", saSeq(ds[0], "a"), seqA)
	}
	kept := false
	for _, o := range ds[0].Engine().OutboundSAs() {
		for _, p := range outA {
			if o == p && o.VPN == "a" {
				kept = true
			}
		}
	}
	if !kept {
		t.Fatal("VPN a's outbound SA was replaced")
	}
	spis := map[string]uint32{}
	for _, sa := range ds[1].Engine().InboundSAs() {
		spis[sa.VPN] = sa.SPI()
	}
	if spis["b"] != 401 || spis["a"] != 300 {
		t.Fatalf("inbound SPIs after the commit: %v", spis)
	}
	if !cross(t, hosts, "st0.1", "198.18.1.2", "198.18.2.2") || !cross(t, hosts, "st0.2", "198.19.1.2", "198.19.2.2") {
		t.Fatal("traffic does not cross after the commit")
	}
}

// TestFailedCommitChangesNothing: a commit the typed model refuses leaves
// the configuration, the SAs and the traffic as they were.
func TestFailedCommitChangesNothing(t *testing.T) {
	ds, hosts := startPair(t, twoVPNs)
	before := ds[0].Engine().OutboundSAs()
	edit(t, ds[0].Store(), "set security ipsec vpn a bind-interface st0.7")
	if _, err := ds[0].Store().Commit(store.CommitOptions{}); err == nil || !strings.Contains(err.Error(), "st0.7") {
		t.Fatalf("commit error %v", err)
	}
	if got := ds[0].Engine().OutboundSAs(); len(got) != len(before) {
		t.Fatalf("SAs changed: %d → %d", len(before), len(got))
	}
	if !cross(t, hosts, "st0.1", "198.18.1.2", "198.18.2.2") {
		t.Fatal("traffic broken by a failed commit")
	}
}

// TestCommitRemovesAndAdds: deleting VPN b and its unit removes its SAs and
// st0.2; putting it back brings both back.
func TestCommitRemovesAndAdds(t *testing.T) {
	ds, hosts := startPair(t, twoVPNs)
	st := ds[0].Store()
	if err := st.Edit(func(e *config.Editor) error {
		for _, p := range []string{"security ipsec vpn b", "interfaces st0 unit 2", "routing-options static route 198.19.2.0/24"} {
			if err := e.Delete(e.Tree.Root, words(p)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Commit(store.CommitOptions{}); err != nil {
		t.Fatal(err)
	}
	if hosts[0].TUN("st0.2") != nil {
		t.Fatal("st0.2 still exists")
	}
	for _, sa := range ds[0].Engine().OutboundSAs() {
		if sa.VPN == "b" {
			t.Fatal("VPN b's SA is still installed")
		}
	}
	if err := st.Rollback(1); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Commit(store.CommitOptions{}); err != nil {
		t.Fatal(err)
	}
	if !cross(t, hosts, "st0.2", "198.19.1.2", "198.19.2.2") {
		t.Fatal("VPN b does not carry traffic after rollback 1")
	}
}

func words(s string) []syntax.Word {
	var out []syntax.Word
	for _, w := range strings.Fields(s) {
		out = append(out, syntax.Word{Text: w})
	}
	return out
}

func saSeq(d *Daemon, vpn string) uint64 {
	for _, sa := range d.Engine().OutboundSAs() {
		if sa.VPN == vpn {
			return sa.Sequence()
		}
	}
	return 0
}

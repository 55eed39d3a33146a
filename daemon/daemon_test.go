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

	"ipsecgw/header"
	"ipsecgw/netio"
)

const manualConfig = `set interfaces eth1 unit 0 family inet address 192.0.2.%[1]d/24
set interfaces st0 unit 1 family inet
set routing-options static route 198.18.%[2]d.0/24 next-hop st0.1
set security ipsec vpn v bind-interface st0.1
set security ipsec vpn v manual gateway 192.0.2.%[2]d
set security ipsec vpn v manual external-interface eth1
set security ipsec vpn v manual protocol esp
set security ipsec vpn v manual spi 300
set security ipsec vpn v manual encryption algorithm aes-256-gcm
set security ipsec vpn v manual encryption key ascii-text "abcdefghijklmnopqrstuvwxyz0123456789"
`

// TestTwoDaemonsInMemory: two daemons in one process, unprivileged, joined
// by an in-memory network; a packet routed into gw1's st0.1 comes out of
// gw2's st0.1, and the status reports it on both sides.
func TestTwoDaemonsInMemory(t *testing.T) {
	network := netio.NewMemNetwork()
	var ds [2]*Daemon
	var hosts [2]*MemHost
	for i := range ds {
		me, peer := i+1, 2-i
		dir := t.TempDir()
		cfg := filepath.Join(dir, "gw.conf")
		os.WriteFile(cfg, []byte(fmt.Sprintf(manualConfig, me, peer)), 0o600)
		h, err := NewMemHost(network, []string{"eth1"}, netip.MustParseAddr(fmt.Sprintf("192.0.2.%d", me)))
		if err != nil {
			t.Fatal(err)
		}
		d, err := Start(Options{ConfigFile: cfg, StateDir: dir, Host: h, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatalf("gw%d: %v", me, err)
		}
		t.Cleanup(func() { d.Stop() })
		ds[i], hosts[i] = d, h
	}
	pkt := make([]byte, 84)
	header.EncodeIPv4(pkt, header.IPv4Fields{TotalLength: 84, TTL: 64, Protocol: header.IPProtoICMP,
		Source: netip.MustParseAddr("198.18.1.2"), Destination: netip.MustParseAddr("198.18.2.2")})
	hosts[0].TUN("st0.1").Inject(pkt)
	got, err := hosts[1].TUN("st0.1").Receive(2 * time.Second)
	if err != nil || !bytes.Equal(got, pkt) {
		t.Fatalf("packet did not cross: %v (gw1 %+v)", err, ds[0].Status().Global)
	}
	if err := ds[1].WriteStatus(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(ds[1].StatusPath())
	if !strings.Contains(string(b), `"decrypted-packets": 1`) || !strings.Contains(string(b), `"spi": "0x0000012c"`) {
		t.Fatalf("status:\n%s", b)
	}
	if s := ds[0].Status(); s.Global.EncryptedPackets != 1 || len(s.SAs) != 2 {
		t.Fatalf("gw1 status %+v", s)
	}
}

func TestRefusesToStart(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct{ cfg, want string }{
		"invalid":  {"set security ipsec vpn v bind-interface st0.9\n", "interface st0.9 is not configured"},
		"unmapped": {"set interfaces et-0/0/1 unit 0 family inet address 192.0.2.1/24\n", "et-0/0/1 has a Junos name and no Linux interface"},
		"missing":  {"set interfaces eth7 unit 0 family inet address 192.0.2.1/24\n", "no interface eth7 on this host"},
	} {
		cfg := filepath.Join(dir, name+".conf")
		os.WriteFile(cfg, []byte(tc.cfg), 0o600)
		h, _ := NewMemHost(netio.NewMemNetwork(), nil, netip.MustParseAddr("192.0.2.1"))
		_, err := Start(Options{ConfigFile: cfg, StateDir: dir, Host: h, Logger: slog.New(slog.DiscardHandler)})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", name, err, tc.want)
		}
	}
}

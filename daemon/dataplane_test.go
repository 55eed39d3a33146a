package daemon

import (
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"ipsecgw/netio"
)

// TestDataPlaneFallback: a host without rings (the in-memory one) runs
// every data-plane mode on sockets, and the status says what was asked
// for and why it is not running.
func TestDataPlaneFallback(t *testing.T) {
	for asked, want := range map[string]struct{ wanted, fallback string }{
		"":            {},
		"socket":      {},
		"xdp":         {"xdp", "AF_XDP unavailable: this host has no AF_XDP"},
		"packet-ring": {"packet-ring", "AF_PACKET rings unavailable: this host has no AF_PACKET rings"},
		"auto":        {"xdp", "AF_XDP unavailable: this host has no AF_XDP; AF_PACKET rings unavailable: this host has no AF_PACKET rings"},
	} {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "gw.conf")
		src := fmt.Sprintf(manualConfig, 1, 2)
		if asked != "" {
			src += "set security ipsec data-plane " + asked + "\n"
		}
		os.WriteFile(cfg, []byte(src), 0o600)
		h, err := NewMemHost(netio.NewMemNetwork(), []string{"eth1"}, netip.MustParseAddr("192.0.2.1"))
		if err != nil {
			t.Fatal(err)
		}
		d, err := Start(Options{ConfigFile: cfg, StateDir: dir, Host: h, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatalf("%q: %v", asked, err)
		}
		st := d.Status().DataPlane
		d.Stop()
		if st.Mode != "socket" || st.Configured != asked || st.Wanted != want.wanted || st.Fallback != want.fallback {
			t.Errorf("data-plane %q: %+v; want socket, wanted %q, fallback %q", asked, st, want.wanted, want.fallback)
		}
	}
}

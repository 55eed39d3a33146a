package daemon

import (
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"ipsecgw/config/schema"
	"ipsecgw/config/store"
	"ipsecgw/netio"
	"ipsecgw/test/syncbuf"
)

func TestUnitsDown(t *testing.T) {
	for _, tc := range []struct {
		name string
		vpns []unitVPN
		want map[string]bool
	}{
		{"no VPN", nil, map[string]bool{}},
		{"following VPN without SA", []unitVPN{{unit: "st0.1", follows: true}}, map[string]bool{"st0.1": true}},
		{"following VPN with SA", []unitVPN{{unit: "st0.1", follows: true, up: true}}, map[string]bool{}},
		{"on-traffic or manual VPN stays up", []unitVPN{{unit: "st0.1"}}, map[string]bool{}},
		{"shared unit, one up", []unitVPN{{unit: "st0.1", follows: true}, {unit: "st0.1", follows: true, up: true}}, map[string]bool{}},
		{"shared unit, one up first", []unitVPN{{unit: "st0.1", follows: true, up: true}, {unit: "st0.1", follows: true}}, map[string]bool{}},
		{"shared unit, all down", []unitVPN{{unit: "st0.1", follows: true}, {unit: "st0.1", follows: true}}, map[string]bool{"st0.1": true}},
		{"shared with a VPN kept up", []unitVPN{{unit: "st0.1", follows: true}, {unit: "st0.1"}}, map[string]bool{}},
		{"two units", []unitVPN{{unit: "st0.1", follows: true}, {unit: "st0.2", follows: true, up: true}}, map[string]bool{"st0.1": true}},
	} {
		if got := unitsDown(tc.vpns); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: unitsDown = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestFollowsVPN(t *testing.T) {
	st0 := &schema.Unit{Interface: &schema.Interface{Kind: schema.Tunnel}}
	for _, tc := range []struct {
		name string
		v    schema.VPN
		want bool
	}{
		{"immediately", schema.VPN{BindInterface: st0, IKE: &schema.VPNIKE{}, EstablishTunnels: "immediately"}, true},
		{"responder-only", schema.VPN{BindInterface: st0, IKE: &schema.VPNIKE{}, EstablishTunnels: "responder-only"}, true},
		{"on-traffic", schema.VPN{BindInterface: st0, IKE: &schema.VPNIKE{}, EstablishTunnels: "on-traffic"}, false},
		{"manual", schema.VPN{BindInterface: st0, Manual: &schema.ManualSA{}, EstablishTunnels: "immediately"}, false},
		{"no bind-interface", schema.VPN{IKE: &schema.VPNIKE{}, EstablishTunnels: "immediately"}, false},
		{"service unit", schema.VPN{BindInterface: &schema.Unit{Interface: &schema.Interface{Kind: schema.Service}}, IKE: &schema.VPNIKE{}, EstablishTunnels: "immediately"}, false},
	} {
		if got := followsVPN(&tc.v); got != tc.want {
			t.Errorf("%s: followsVPN = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// st0IKE has VPN v (IKEv2, st0.1) between 192.0.2.ME and 192.0.2.PEER,
// gw1 initiating at once, gw2 responder-only, and a manual VPN m on st0.2
// (its unit never follows).
const st0IKE = `set interfaces eth1 unit 0 family inet address 192.0.2.%[1]d/24
set interfaces st0 unit 1 family inet address 169.254.0.%[1]d/30
set interfaces st0 unit 2 family inet
set routing-options static route 198.18.%[2]d.0/24 next-hop st0.1
set routing-options static route 198.20.%[2]d.0/24 next-hop 169.254.0.%[2]d
set routing-options static route 198.19.%[2]d.0/24 next-hop st0.2
set security ike proposal p authentication-method pre-shared-keys
set security ike proposal p dh-group group14
set security ike proposal p authentication-algorithm sha-256
set security ike proposal p encryption-algorithm aes-256-cbc
set security ike policy ip proposals p
set security ike policy ip pre-shared-key ascii-text "test123"
set security ike gateway g ike-policy ip
set security ike gateway g address 192.0.2.%[2]d
set security ike gateway g external-interface eth1
set security ike gateway g version v2-only
set security ipsec proposal q protocol esp
set security ipsec proposal q encryption-algorithm aes-128-gcm
set security ipsec policy pp proposals q
set security ipsec vpn v bind-interface st0.1
set security ipsec vpn v ike gateway g
set security ipsec vpn v ike ipsec-policy pp
set security ipsec vpn m bind-interface st0.2
set security ipsec vpn m manual gateway 192.0.2.%[2]d
set security ipsec vpn m manual external-interface eth1
set security ipsec vpn m manual protocol esp
set security ipsec vpn m manual spi 300
set security ipsec vpn m manual encryption algorithm aes-256-gcm
set security ipsec vpn m manual encryption key ascii-text "abcdefghijklmnopqrstuvwxyz0123456789"
`

// routesVia lists d's running routes whose key mentions any of words.
func routesVia(d *Daemon, words ...string) []string {
	var out []string
	d.do(func() error {
		for k := range d.run.routes {
			for _, w := range words {
				if strings.Contains(k, w) {
					out = append(out, k)
					break
				}
			}
		}
		return nil
	})
	return out
}

// waitUnit waits until d holds st0.1 down (down) or not, with the routes
// through it (by device or next hop) gone or there.
func waitUnit(t *testing.T, d *Daemon, down bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		via := routesVia(d, "st0.1", "169.254.0.")
		// What status (and so show interfaces) says of the link.
		var shown []string
		if down {
			shown = []string{"st0.1"}
		}
		st := d.Status().TunnelsDown
		if d.st0.isDown("st0.1") == down && (len(via) == 0) == down && reflect.DeepEqual(st, shown) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("st0.1 held down %v, want %v; routes through it %q; status's tunnels down %q, want %q",
				d.st0.isDown("st0.1"), down, via, st, shown)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestST0FollowsItsVPN: in process, two daemons over a memory network.
// st0.1 (IKE, immediately / responder-only) is up with its routes once the
// Child SA is in; the manual VPN's st0.2 is never held down; gw2 stopping
// (it deletes its SAs) takes gw1's st0.1 down and its routes out, the
// manual unit's route stays; a commit while st0.1 is down adds no route
// through it (the kernel would refuse it) and succeeds. (Coming back
// after the peer does is TestST0FollowsVPN's, in test/e2e.)
func TestST0FollowsItsVPN(t *testing.T) {
	cfgs := [2]string{
		st0IKE + "set security ipsec vpn v establish-tunnels immediately\n",
		st0IKE + "set security ipsec vpn v establish-tunnels responder-only\n",
	}
	network := netio.NewMemNetwork()
	start := func(i int) *Daemon {
		me, peer := i+1, 2-i
		dir := t.TempDir()
		cfg := filepath.Join(dir, "gw.conf")
		os.WriteFile(cfg, []byte(fmt.Sprintf(cfgs[i], me, peer)), 0o600)
		h, err := NewMemHost(network, []string{"eth1"}, netip.MustParseAddr(fmt.Sprintf("192.0.2.%d", me)))
		if err != nil {
			t.Fatal(err)
		}
		d, err := Start(Options{ConfigFile: cfg, StateDir: dir, Host: h, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatalf("gw%d: %v", me, err)
		}
		return d
	}
	gw1 := start(0)
	defer gw1.Stop()
	waitUnit(t, gw1, true) // no peer yet: no Child SA
	gw2 := start(1)
	waitSAs(t, gw1, "v", 2)
	waitUnit(t, gw1, false)
	waitUnit(t, gw2, false)
	if via := routesVia(gw1, "st0.1", "169.254.0."); len(via) != 2 {
		t.Fatalf("routes through st0.1 while up: %q, want 2", via)
	}
	if gw1.st0.isDown("st0.2") || len(routesVia(gw1, "st0.2")) != 1 {
		t.Fatalf("the manual VPN's unit: held down %v, routes %q", gw1.st0.isDown("st0.2"), routesVia(gw1, "st0.2"))
	}

	if err := gw2.Stop(); err != nil {
		t.Fatal(err)
	}
	waitSAs(t, gw1, "v", 0)
	waitUnit(t, gw1, true)
	if len(routesVia(gw1, "st0.2")) != 1 {
		t.Fatalf("the manual VPN's route went with st0.1: %q", routesVia(gw1, "st0.2"))
	}
	edit(t, gw1.Store(), "set routing-options static route 198.21.2.0/24 next-hop st0.1")
	if _, err := gw1.Store().Commit(store.CommitOptions{}); err != nil {
		t.Fatalf("commit while st0.1 is down: %v", err)
	}
	if via := routesVia(gw1, "198.21.2.0/24"); len(via) != 0 {
		t.Fatalf("a route through st0.1 added while it is down: %q", via)
	}
}

// TestST0InboundComing: an inbound SA for a VPN whose unit is held down
// sets the unit's link up at once, and an apply that runs before the
// outbound SA is in (kicked earlier) withdraws the routes but leaves the
// link up: what the peer sends first is not refused by a TUN set down
// again (TestIKEv2BetweenDaemons counted a TunnelWriteError).
func TestST0InboundComing(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "gw.conf")
	os.WriteFile(cfg, []byte(fmt.Sprintf(st0IKE+"set security ipsec vpn v establish-tunnels responder-only\n", 2, 1)), 0o600)
	h, err := NewMemHost(netio.NewMemNetwork(), []string{"eth1"}, netip.MustParseAddr("192.0.2.2"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Start(Options{ConfigFile: cfg, StateDir: dir, Host: h, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	waitUnit(t, d, true) // no peer: no Child SA
	d.st0.inboundComing("v")
	if got := d.Status().TunnelsDown; len(got) != 0 {
		t.Fatalf("after an inbound SA came, status's tunnels down %q, want none", got)
	}
	d.do(func() error { d.st0.apply(); return nil }) // an apply before the outbound SA
	if len(d.Status().TunnelsDown) != 0 || !d.st0.isDown("st0.1") || !d.st0.isComing("st0.1") || len(routesVia(d, "st0.1", "169.254.0.")) != 0 {
		t.Fatalf("st0.1: held down %v, coming %v, tunnels down %q, routes %q; want held, coming, link up, no routes",
			d.st0.isDown("st0.1"), d.st0.isComing("st0.1"), d.Status().TunnelsDown, routesVia(d, "st0.1", "169.254.0."))
	}
}

// linkHost is a MemHost that keeps the link state of its tunnel units
// (created down, as a TUN is) and records each change, to tell a unit
// that started down from one set up and taken down again.
type linkHost struct {
	*MemHost
	mu      sync.Mutex
	up      map[string]bool
	changes map[string][]string // "up", "down", by unit
}

func newLinkHost(h *MemHost) *linkHost {
	return &linkHost{MemHost: h, up: map[string]bool{}, changes: map[string][]string{}}
}

func (h *linkHost) set(name string, up bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.up[name] != up {
		h.up[name] = up
		h.changes[name] = append(h.changes[name], map[bool]string{true: "up", false: "down"}[up])
	}
}

func (h *linkHost) SetUp(name string) error   { h.set(name, true); return nil }
func (h *linkHost) SetDown(name string) error { h.set(name, false); return nil }

func (h *linkHost) changesOf(name string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.changes[name]...)
}

// TestST0StartsDown: a unit whose VPN (establish-tunnels immediately)
// has no Child SA at start is created down and stays down, without being
// set up and taken down again, with no warning and no route through it;
// the first Child SA sets it up; losing the established VPN's SA takes it
// down with the warning and a tunnel-interface-down event. The manual
// VPN's unit goes up at start as before.
func TestST0StartsDown(t *testing.T) {
	network := netio.NewMemNetwork()
	start := func(i int, establish string, logw io.Writer) (*Daemon, *linkHost) {
		me, peer := i+1, 2-i
		dir := t.TempDir()
		cfg := filepath.Join(dir, "gw.conf")
		os.WriteFile(cfg, []byte(fmt.Sprintf(st0IKE+"set security ipsec vpn v establish-tunnels "+establish+"\n", me, peer)), 0o600)
		mh, err := NewMemHost(network, []string{"eth1"}, netip.MustParseAddr(fmt.Sprintf("192.0.2.%d", me)))
		if err != nil {
			t.Fatal(err)
		}
		h := newLinkHost(mh)
		d, err := Start(Options{ConfigFile: cfg, StateDir: dir, Host: h, Logger: slog.New(slog.NewTextHandler(logw, nil))})
		if err != nil {
			t.Fatalf("gw%d: %v", me, err)
		}
		return d, h
	}
	var log1 syncbuf.Buffer
	gw1, h1 := start(0, "immediately", &log1)
	defer gw1.Stop()
	waitUnit(t, gw1, true)                               // no peer yet: no Child SA
	gw1.do(func() error { gw1.st0.apply(); return nil }) // one more apply: the unit stays as it is
	if got := h1.changesOf("st0.1"); len(got) != 0 {
		t.Fatalf("st0.1's link at start, no Child SA yet: changes %q, want none (created down, left down)", got)
	}
	if got := h1.changesOf("st0.2"); !reflect.DeepEqual(got, []string{"up"}) {
		t.Fatalf("the manual VPN's st0.2 at start: changes %q, want [up]", got)
	}
	if strings.Contains(log1.String(), "level=WARN") {
		t.Fatalf("a warning at start, the VPN not up yet:\n%s", log1.String())
	}

	gw2, _ := start(1, "responder-only", io.Discard)
	waitSAs(t, gw1, "v", 2)
	waitUnit(t, gw1, false)
	if got := h1.changesOf("st0.1"); !reflect.DeepEqual(got, []string{"up"}) {
		t.Fatalf("st0.1's link with the Child SA in: changes %q, want [up]", got)
	}

	events, end := gw1.Events().Subscribe()
	defer end()
	if err := gw2.Stop(); err != nil {
		t.Fatal(err)
	}
	waitUnit(t, gw1, true)
	if got := h1.changesOf("st0.1"); !reflect.DeepEqual(got, []string{"up", "down"}) {
		t.Fatalf("st0.1's link after the VPN lost its SA: changes %q, want [up down]", got)
	}
	if !strings.Contains(log1.String(), `level=WARN msg="tunnel interface down: its VPN has no Child SA" interface=st0.1`) {
		t.Fatalf("no warning for the established VPN's unit going down:\n%s", log1.String())
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.Kind == "tunnel-interface-down" && ev.Interface == "st0.1" {
				return
			}
		case <-deadline:
			t.Fatal("no tunnel-interface-down event for st0.1 within 10 s")
		}
	}
}

package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipsecgw/test/netns"
)

// TestST0FollowsVPN: st0.1 follows its VPN, as on Junos. Two ipsecgw
// daemons, gw1 initiating (establish-tunnels immediately) with dead peer
// detection every 2 s, 2 probes; gw2 responder-only, started first: its
// st0.1 starts down, quietly, until its VPN is up. While the tunnel is
// up, st0.1 is up on both and the static route through it is in gw1's
// kernel. A Child SA rekey under ping loses nothing and never takes st0.1
// down (no tunnel-interface-down in the log). SIGKILL to gw2: within dead
// peer detection's time gw1's st0.1 goes down and its route is withdrawn;
// gw2 started again, the tunnel comes back, and with it st0.1 and the
// route, and ping passes.
func TestST0FollowsVPN(t *testing.T) {
	netns.RequireRoot(t)
	const interval, threshold = 2 * time.Second, 2
	tp := newTopology(t)
	tp.negotiated = true
	var cfgs [2]string
	for i := range cfgs {
		cfgs[i] = ikeConfigAuth(i, "aes-256-cbc", "sha-256", "group14", "aes-128-gcm", "", "test123")
	}
	cfgs[0] += "set security ike gateway ike_gw dead-peer-detection probe-idle-tunnel\n" +
		fmt.Sprintf("set security ike gateway ike_gw dead-peer-detection interval %d\n", interval/time.Second) +
		fmt.Sprintf("set security ike gateway ike_gw dead-peer-detection threshold %d\n", threshold)
	// gw2 alone first: its VPN (responder-only) has no Child SA yet, so
	// st0.1 starts down, without being set up and taken down again with a
	// warning (that is for a VPN lost), and show interfaces says so.
	tp.startOne(1, cfgs[1])
	tp.waitUnit("gw2", false, 5*time.Second)
	if out := tp.mustCLI(tp.gws[1], "show interfaces st0.1"); !strings.Contains(out, "Flags: Down Point-To-Point") {
		t.Fatalf("gw2: show interfaces st0.1 before its VPN is up:\n%s", out)
	}
	if log := tp.logOf(tp.gws[1]); strings.Contains(log, "tunnel interface down") || !strings.Contains(log, "tunnel interface held down") {
		t.Fatalf("gw2 at start, its VPN not up yet: want st0.1 held down, not taken down:\n%s", log)
	}
	tp.startOne(0, cfgs[0])
	tp.waitTunnel("h1", "198.18.2.2")
	gw1 := tp.gws[0]
	if out := tp.mustCLI(gw1, "show interfaces st0.1"); !strings.Contains(out, "Flags: Up Point-To-Point") {
		t.Fatalf("gw1: show interfaces st0.1 with its VPN up:\n%s", out)
	}
	tp.waitUnit("gw1", true, 5*time.Second)
	tp.waitUnit("gw2", true, 5*time.Second)
	tp.ping("h1", "198.18.2.2", 0)

	// A Child SA rekey under ping: nothing lost, st0.1 never down.
	downs := strings.Count(tp.logOf(gw1), "tunnel interface down")
	p := netns.Ping{Count: 30, Interval: 100 * time.Millisecond}
	done := make(chan string, 1)
	go func() {
		out, _ := tp.net.Try("h1", p.Args("198.18.2.2")...)
		done <- out
	}()
	time.Sleep(500 * time.Millisecond) // some echoes before the rekey
	in := inboundSPI(tp.status(gw1))
	if out := tp.mustCLI(gw1, "request security ipsec security-associations rekey"); !strings.Contains(out, "Rekey started for 1 IPsec security association") {
		t.Fatalf("gw1: request security ipsec security-associations rekey: %s", out)
	}
	tp.childRekeyed(0, in)
	var out string
	select {
	case out = <-done:
	case <-time.After(p.Deadline() + 5*time.Second):
		t.Fatalf("ping from h1 did not end within %v", p.Deadline()+5*time.Second)
	}
	if err := p.Check("198.18.2.2", out); err != nil {
		t.Fatalf("ping across the Child SA rekey: %v\n%s", err, tp.logOf(gw1))
	}
	for _, g := range tp.gws {
		if n := strings.Count(tp.logOf(g), "tunnel interface down"); g == gw1 && n != downs {
			t.Fatalf("st0.1 went down during the rekey:\n%s", tp.logOf(g))
		}
	}
	tp.waitUnit("gw1", true, 5*time.Second)

	// The peer dies: st0.1 down and its route gone within DPD's time.
	gw2 := tp.gws[1]
	if err := syscall.Kill(gw2.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	gw2.cmd.Wait()
	gw2.log.Close()
	killed := time.Now()
	limit := interval*time.Duration(threshold+2) + 2*time.Second
	tp.waitUnit("gw1", false, limit)
	t.Logf("gw1's st0.1 down and its route withdrawn %v after gw2's SIGKILL (limit %v)", time.Since(killed).Round(10*time.Millisecond), limit)
	if log := tp.logOf(gw1); !strings.Contains(log, dpdReason(threshold)) {
		t.Errorf("gw1 does not log %q:\n%s", dpdReason(threshold), log)
	}

	// The peer back: so are the tunnel, st0.1 and the route.
	tp.startOne(1, cfgs[1])
	back := tp.waitTunnelWithin("h1", "198.18.2.2", 20*time.Second)
	t.Logf("tunnel back %v after gw2's restart", back.Round(10*time.Millisecond))
	tp.waitUnit("gw1", true, 5*time.Second)
	tp.ping("h1", "198.18.2.2", 0)
	tp.ping("h2", "198.18.1.2", 0)
	if log := tp.logOf(gw1); !strings.Contains(log, "tunnel interface up") {
		t.Errorf("gw1 does not log st0.1 coming back up:\n%s", log)
	}
}

// waitUnit polls until gw's st0.1 is up with the static route to the
// peer's LAN through it (up), or down with that route gone (!up), and
// show interfaces st0.1 terse says the same of its link.
func (tp *topology) waitUnit(gw string, up bool, within time.Duration) {
	t := tp.t
	t.Helper()
	peerLAN := "198.18.2.0/24"
	if gw == "gw2" {
		peerLAN = "198.18.1.0/24"
	}
	g := tp.gws[0]
	if gw == "gw2" {
		g = tp.gws[1]
	}
	// The unit's row of show interfaces st0.1 terse: name, admin, link.
	row := regexp.MustCompile(`(?m)^st0\.1 +up +(up|down) `)
	deadline := time.Now().Add(within)
	for {
		link, _ := tp.net.Try(gw, "ip", "-o", "link", "show", "st0.1")
		route, _ := tp.net.Try(gw, "ip", "route", "show", peerLAN)
		isUp := strings.Contains(link, ",UP") || strings.Contains(link, "<UP")
		kernel := (up && isUp && strings.Contains(route, "st0.1")) || (!up && !isUp && strings.TrimSpace(route) == "")
		terse, shown := "(not asked: the kernel's state is not yet the one wanted)", ""
		if kernel { // the CLI only then: it does not slow the polling down
			terse, _ = tp.cli(g, "show interfaces st0.1 terse")
			if m := row.FindStringSubmatch(terse); m != nil {
				shown = m[1]
			}
		}
		if kernel && shown == map[bool]string{true: "up", false: "down"}[up] {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: st0.1 not %s within %v: link %q route %q\n> show interfaces st0.1 terse\n%s\n%s", gw,
				map[bool]string{true: "up", false: "down"}[up], within, strings.TrimSpace(link), route, terse, tp.logOf(g))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

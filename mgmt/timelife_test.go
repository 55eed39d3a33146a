package mgmt

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"ipsecgw/daemon"
	"ipsecgw/mgmt/mgmtpb"
)

// TestShowTimeLifetimes: after a Child SA rekey, `show security ipsec
// security-associations detail` (text, XML, JSON) counts the new SA's hard
// and soft lifetimes down to the moments the IKE engine armed for it, from
// its own birth, not from the IKE SA's establishment; the manual SA has no
// time lifetime.
func TestShowTimeLifetimes(t *testing.T) {
	const life = 3600 * time.Second
	gws := startGatewaysWith(t, nil, func(_ int, cfg string) string {
		return cfg + "set security ipsec proposal ip lifetime-seconds 3600\n"
	})
	g := gws[0]
	waitUp(t, g, 0)
	var est time.Time
	for _, sa := range g.d.Status().IKE {
		if sa.State == "UP" {
			est = sa.Established
		}
	}
	// ike's one inbound SA once the engine has scheduled it, or nothing.
	inbound := func() (daemon.SAStatus, bool) {
		var found []daemon.SAStatus
		for _, sa := range g.d.Status().SAs {
			if sa.VPN == "ike" && sa.Direction == "inbound" {
				found = append(found, sa)
			}
		}
		if len(found) != 1 || found[0].ExpiresAt.IsZero() {
			return daemon.SAStatus{}, false
		}
		return found[0], true
	}
	deadline := time.Now().Add(5 * time.Second)
	old, ok := inbound()
	for ; !ok; old, ok = inbound() {
		if time.Now().After(deadline) {
			t.Fatalf("no Child SA scheduled: %+v", g.d.Status().SAs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if old.ExpiresAt.Sub(est) < life-time.Second || old.ExpiresAt.Sub(est) > life+time.Second {
		t.Fatalf("first Child SA expires at %v, IKE SA up at %v: want %v after", old.ExpiresAt, est, life)
	}
	// Let the IKE SA age, so a lifetime counted from it would show.
	time.Sleep(time.Until(est.Add(3 * time.Second)))

	before := time.Now()
	r, err := g.op.Request(context.Background(), &mgmtpb.CommandRequest{Words: []string{"security", "ipsec", "security-associations", "rekey"}})
	if err != nil || !strings.Contains(r.GetOutput(), "Rekey started for 1 IPsec security association") {
		t.Fatalf("IPsec rekey: %v %v", r, err)
	}
	deadline = time.Now().Add(5 * time.Second)
	sa, ok := inbound()
	for ; !ok || sa.SPI == old.SPI; sa, ok = inbound() {
		if time.Now().After(deadline) {
			t.Fatalf("the Child SA was not rekeyed: %+v", g.d.Status().SAs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	after := time.Now()
	if sa.ExpiresAt.Before(before.Add(life)) || sa.ExpiresAt.After(after.Add(life)) || sa.ExpiresAt.Sub(est) < life+3*time.Second {
		t.Fatalf("rekeyed Child SA expires at %v: want %v after its birth (between %v and %v), not after the IKE SA's (%v)",
			sa.ExpiresAt, life, before, after, est)
	}
	if soft := sa.ExpiresAt.Sub(sa.RekeyAt); soft < life*5/100 || soft > life*15/100 {
		t.Fatalf("rekeyed Child SA: rekey at %v, %v before its end, want 5-15 %% of %v", sa.RekeyAt, soft, life)
	}

	spi, err := strconv.ParseUint(strings.TrimPrefix(sa.SPI, "0x"), 16, 32)
	if err != nil {
		t.Fatal(err)
	}
	show := func(d mgmtpb.Display) (string, time.Time, time.Time) {
		before := time.Now()
		out := showText(t, g, &mgmtpb.ShowRequest{Display: d, Command: &mgmtpb.ShowRequest_IpsecSecurityAssociations{
			IpsecSecurityAssociations: &mgmtpb.IPsecSecurityAssociations{Style: mgmtpb.Style_DETAIL}}})
		return out, before, time.Now()
	}
	// Each form's countdowns must be what is left to the scheduled moments
	// while the show ran.
	for _, f := range []struct {
		display mgmtpb.Display
		re      *regexp.Regexp
	}{
		{mgmtpb.Display_TEXT, regexp.MustCompile(fmt.Sprintf(`Direction: inbound, SPI: 0x%08x, AUX-SPI: 0\n.*\n`+
			`    Hard lifetime: Expires in (\d+) seconds\n.*\n    Soft lifetime: Expires in (\d+) seconds\n`, spi))},
		{mgmtpb.Display_XML, regexp.MustCompile(fmt.Sprintf(`(?s)<sa-spi>%x</sa-spi>.*?`+
			`<sa-hard-lifetime>Expires in (\d+) seconds</sa-hard-lifetime>.*?<sa-soft-lifetime>Expires in (\d+) seconds</sa-soft-lifetime>`, spi))},
		{mgmtpb.Display_JSON, regexp.MustCompile(fmt.Sprintf(`(?s)"data" : "%x".*?`+
			`"sa-hard-lifetime" : \[\s*\{\s*"data" : "Expires in (\d+) seconds".*?"sa-soft-lifetime" : \[\s*\{\s*"data" : "Expires in (\d+) seconds"`, spi))},
	} {
		out, from, to := show(f.display)
		m := f.re.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("%v: no lifetimes of SA %s in:\n%s", f.display, sa.SPI, out)
		}
		for i, at := range []time.Time{sa.ExpiresAt, sa.RekeyAt} {
			n, _ := strconv.Atoi(m[i+1])
			lo, hi := int(at.Sub(to)/time.Second), int(at.Sub(from)/time.Second)
			if n < lo || n > hi {
				t.Fatalf("%v: SA %s %s lifetime %d seconds, want %d-%d (to %v)", f.display, sa.SPI, []string{"hard", "soft"}[i], n, lo, hi, at)
			}
		}
	}
	text, _, _ := show(mgmtpb.Display_TEXT)
	if !regexp.MustCompile(`Direction: inbound, SPI: 0x00000190, AUX-SPI: 0\n.*\n    Hard lifetime: Unlimited\n.*\n    Soft lifetime: Unlimited\n`).MatchString(text) {
		t.Fatalf("the manual SA's lifetimes:\n%s", text)
	}
}

package mgmt

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"ipsecgw/mgmt/mgmtpb"
)

// TestShowLifesize: with lifetime-kilobytes, `show security ipsec
// security-associations detail` counts down from the data plane's byte
// count, in text, XML and JSON: what is left until the hard limit
// (Lifesize Remaining) and until the rekey starts (Soft lifesize
// Remaining), as the status has them.
func TestShowLifesize(t *testing.T) {
	gws := startGatewaysWith(t, nil, func(_ int, cfg string) string {
		return cfg + "set security ipsec proposal ip lifetime-kilobytes 4096\n"
	})
	waitUp(t, gws[0], 0)
	for range 500 {
		if len(gws[0].d.Status().SAs) >= 2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	sendThroughTunnel(gws[0], 300, 200*time.Microsecond) // 300 KB of the 4 MB
	var hard, soft uint64
	for range 500 {
		for _, sa := range gws[0].d.Status().SAs {
			if sa.VPN == "ike" && sa.Direction == "outbound" && sa.Lifesize != nil && sa.Lifesize.Carried >= 300*1000 {
				l := sa.Lifesize
				hard, soft = (l.Hard-l.Carried)/1024, (l.Soft-l.Carried)/1024
			}
		}
		if hard != 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if hard == 0 || hard > 4096-290 || soft >= hard {
		t.Fatalf("outbound SA's lifesize: %d kilobytes left, %d to the rekey; status %+v", hard, soft, gws[0].d.Status().SAs)
	}
	show := func(d mgmtpb.Display) string {
		return showText(t, gws[0], &mgmtpb.ShowRequest{Display: d, Command: &mgmtpb.ShowRequest_IpsecSecurityAssociations{
			IpsecSecurityAssociations: &mgmtpb.IPsecSecurityAssociations{Style: mgmtpb.Style_DETAIL}}})
	}
	text := show(mgmtpb.Display_TEXT)
	for _, want := range []string{
		"Direction: outbound",
		fmt.Sprintf("    Lifesize Remaining:  %d kilobytes\n", hard),
		fmt.Sprintf("    Soft lifesize Remaining:  %d kilobytes", soft),
	} {
		if !strings.Contains(text, want) {
			t.Fatalf("no %q in:\n%s", want, text)
		}
	}
	if x := show(mgmtpb.Display_XML); !strings.Contains(x, fmt.Sprintf("<sa-lifesize-remaining>%d kilobytes</sa-lifesize-remaining>", hard)) ||
		!strings.Contains(x, fmt.Sprintf("<sa-soft-lifesize-remaining>%d kilobytes</sa-soft-lifesize-remaining>", soft)) {
		t.Fatalf("XML:\n%s", x)
	}
	if js := show(mgmtpb.Display_JSON); !strings.Contains(js, fmt.Sprintf(`"data" : "%d kilobytes"`, soft)) {
		t.Fatalf("JSON:\n%s", js)
	}
}

package mgmt

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"ipsecgw/header"
	"ipsecgw/mgmt/mgmtpb"
)

// servicesGatewayConfig is seed 001's AS PIC form between 192.0.2.ME and
// 192.0.2.PEER, with the IKE policy at version 2 (seed 001 itself runs IKEv1).
const servicesGatewayConfig = `set system host-name gw%[1]d
set interfaces eth1 unit 0 family inet address 192.0.2.%[1]d/24
set interfaces lo0 unit 0 family inet address 198.51.100.%[1]d/32
set interfaces sp-0/0/0 unit 0 family inet
set interfaces sp-0/0/0 unit 1 family inet
set interfaces sp-0/0/0 unit 1 service-domain inside
set interfaces sp-0/0/0 unit 2 family inet
set interfaces sp-0/0/0 unit 2 service-domain outside
set services service-set ss next-hop-service inside-service-interface sp-0/0/0.1
set services service-set ss next-hop-service outside-service-interface sp-0/0/0.2
set services service-set ss ipsec-vpn-options local-gateway 192.0.2.%[1]d
set services service-set ss ipsec-vpn-rules r
set services ipsec-vpn rule r term t then remote-gateway 192.0.2.%[2]d
set services ipsec-vpn rule r term t then dynamic ike-policy ikep
set services ipsec-vpn rule r match-direction input
set services ipsec-vpn ike policy ikep version 2
set services ipsec-vpn ike policy ikep pre-shared-key ascii-text "juniper"
set services ipsec-vpn establish-tunnels %[3]s
`

// TestShowServicesLiveState: the three services show commands print the
// live tunnel of a service set: its IKE SA's cookies, its SAs' SPIs in
// decimal, and the packet that went through it.
func TestShowServicesLiveState(t *testing.T) {
	gws := startGatewaysWith(t, nil, func(i int, _ string) string {
		me, peer, establish := i+1, 2-i, "immediately"
		if me == 2 {
			establish = "on-traffic"
		}
		return fmt.Sprintf(servicesGatewayConfig, me, peer, establish)
	})
	spi := waitUp(t, gws[0], 0)
	var inbound uint64
	for range 500 {
		for _, sa := range gws[0].d.Status().SAs {
			if sa.Direction == "inbound" {
				inbound, _ = strconv.ParseUint(strings.TrimPrefix(sa.SPI, "0x"), 16, 32)
			}
		}
		if inbound != 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if inbound == 0 {
		t.Fatalf("no inbound SA: %+v", gws[0].d.Status())
	}
	pkt := make([]byte, 84)
	header.EncodeIPv4(pkt, header.IPv4Fields{TotalLength: 84, TTL: 64, Protocol: header.IPProtoICMP,
		Source: netip.MustParseAddr("198.51.100.1"), Destination: netip.MustParseAddr("198.51.100.2")})
	gws[0].host.TUN("sp-0-0-0.1").Inject(pkt)
	if got, err := gws[1].host.TUN("sp-0-0-0.1").Receive(2 * time.Second); err != nil || !bytes.Equal(got, pkt) {
		t.Fatalf("the packet did not cross the service set's tunnel: %v", err)
	}

	ike := showText(t, gws[0], &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_IkeSecurityAssociations{
		IkeSecurityAssociations: &mgmtpb.IKESecurityAssociations{Services: true}}})
	if row := fmt.Sprintf("192.0.2.2       Matured    %016x  ", spi); !strings.Contains(ike, row) || !strings.HasSuffix(ike, "IKEv2\n") {
		t.Errorf("services IKE SAs:\n%s\nwant row %q", ike, row)
	}
	ipsec := showText(t, gws[0], &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_IpsecSecurityAssociations{
		IpsecSecurityAssociations: &mgmtpb.IPsecSecurityAssociations{Style: mgmtpb.Style_DETAIL, Services: true}}})
	for _, want := range []string{
		"Service set: ss\n",
		"  Rule: r, Term: t, Tunnel index: 1\n",
		"  Local gateway: 192.0.2.1, Remote gateway: 192.0.2.2\n",
		"  Local identity: ipv4_subnet(any:0,[0..7]=0.0.0.0/0)\n",
		fmt.Sprintf("    Direction: inbound, SPI: %d, AUX-SPI: 0\n", inbound),
		"    Mode: tunnel, Type: dynamic, State: Installed\n",
		"    Protocol: ESP, Authentication: hmac-sha1-96, Encryption: 3des-cbc\n",
		"    Anti-replay service: Enabled, Replay window size: 64\n",
	} {
		if !strings.Contains(ipsec, want) {
			t.Errorf("services IPsec SAs:\n%s\nwant %q", ipsec, want)
		}
	}
	stats := showText(t, gws[0], &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_IpsecStatistics{
		IpsecStatistics: &mgmtpb.IPsecStatistics{Services: true}}})
	for _, want := range []string{"PIC: sp-0/0/0, Service set: ss\n", "  Encrypted packets:              1\n"} {
		if !strings.Contains(stats, want) {
			t.Errorf("services statistics:\n%s\nwant %q", stats, want)
		}
	}
	// The security commands do not list the services tunnel.
	if sec := showText(t, gws[0], ikeSAs(mgmtpb.Display_TEXT, mgmtpb.Style_STYLE_DEFAULT)); strings.Contains(sec, "192.0.2.2") {
		t.Errorf("security IKE SAs list the services tunnel:\n%s", sec)
	}
}

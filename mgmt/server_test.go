package mgmt

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"ipsecgw/clock"
	"ipsecgw/daemon"
	"ipsecgw/header"
	"ipsecgw/mgmt/mgmtpb"
	"ipsecgw/netio"
)

// gatewayConfig: an IKEv2 VPN "ike" on st0.1 (gateway 1 initiates, 2
// responds) and a manual VPN "man" on st0.2, between 192.0.2.ME and
// 192.0.2.PEER.
const gatewayConfig = `set system host-name gw%[1]d
set interfaces eth1 unit 0 family inet address 192.0.2.%[1]d/24
set interfaces st0 unit 1 family inet address 198.51.100.%[1]d/32
set interfaces st0 unit 2 family inet
set routing-options static route 198.18.%[2]d.0/24 next-hop st0.1
set security ike proposal p authentication-method pre-shared-keys
set security ike proposal p dh-group group19
set security ike proposal p authentication-algorithm sha-256
set security ike proposal p encryption-algorithm aes-256-cbc
set security ike policy pol proposals p
set security ike policy pol pre-shared-key ascii-text "secret123"
set security ike gateway gw ike-policy pol
set security ike gateway gw address 192.0.2.%[2]d
set security ike gateway gw external-interface eth1
set security ike gateway gw version v2-only
set security ipsec proposal ip protocol esp
set security ipsec proposal ip encryption-algorithm aes-256-gcm
set security ipsec policy ipol proposals ip
set security ipsec vpn ike bind-interface st0.1
set security ipsec vpn ike ike gateway gw
set security ipsec vpn ike ike ipsec-policy ipol
set security ipsec vpn ike establish-tunnels %[3]s
set security ipsec vpn man bind-interface st0.2
set security ipsec vpn man manual gateway 192.0.2.%[2]d
set security ipsec vpn man manual external-interface eth1
set security ipsec vpn man manual protocol esp
set security ipsec vpn man manual spi 400
set security ipsec vpn man manual encryption algorithm aes-128-gcm
set security ipsec vpn man manual encryption key ascii-text "0123456789abcdefghij"
`

type gateway struct {
	d    *daemon.Daemon
	conf mgmtpb.ConfigClient
	op   mgmtpb.OperationalClient
	sock string
	dir  string
	host *daemon.MemHost
}

// startGateways runs two daemons in memory, each with its API on a unix
// socket, and returns clients of both.
func startGateways(t *testing.T, clk clock.Clock) [2]*gateway {
	t.Helper()
	return startGatewaysWith(t, clk, func(_ int, cfg string) string { return cfg })
}

// startGatewaysWith is startGateways with gateway i's configuration
// edited by edit.
func startGatewaysWith(t *testing.T, clk clock.Clock, edit func(i int, cfg string) string) [2]*gateway {
	t.Helper()
	network := netio.NewMemNetwork()
	var gws [2]*gateway
	// The responder first, so the initiator's first message finds it.
	for _, i := range []int{1, 0} {
		me, peer := i+1, 2-i
		establish := "immediately"
		if me == 2 {
			establish = "responder-only"
		}
		dir := t.TempDir()
		file := filepath.Join(dir, "gw.conf")
		os.WriteFile(file, []byte(edit(i, fmt.Sprintf(gatewayConfig, me, peer, establish))), 0o600)
		h, err := daemon.NewMemHost(network, []string{"eth1"}, netip.MustParseAddr(fmt.Sprintf("192.0.2.%d", me)))
		if err != nil {
			t.Fatal(err)
		}
		d, err := daemon.Start(daemon.Options{ConfigFile: file, StateDir: dir, Host: h, Clock: clk,
			Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatalf("gw%d: %v", me, err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		sock := filepath.Join(dir, "run", "api.sock")
		l, err := Listen(sock)
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- NewServer(d, nil, "1.2.3").ServeListener(ctx, l, sock) }()
		conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			conn.Close()
			cancel()
			<-served
			d.Stop()
		})
		gws[i] = &gateway{d: d, conf: mgmtpb.NewConfigClient(conn), op: mgmtpb.NewOperationalClient(conn), sock: sock, dir: dir, host: h}
	}
	return gws
}

func showText(t *testing.T, g *gateway, req *mgmtpb.ShowRequest) string {
	t.Helper()
	r, err := g.op.Show(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return r.Output
}

func ikeSAs(display mgmtpb.Display, style mgmtpb.Style) *mgmtpb.ShowRequest {
	return &mgmtpb.ShowRequest{Display: display, Command: &mgmtpb.ShowRequest_IkeSecurityAssociations{
		IkeSecurityAssociations: &mgmtpb.IKESecurityAssociations{Style: style}}}
}

// waitUp polls (bounded) until gateway g has an IKE SA up, and returns its
// initiator SPI.
func waitUp(t *testing.T, g *gateway, not uint64) uint64 {
	t.Helper()
	for range 500 {
		for _, sa := range g.d.Status().IKE {
			if sa.State == "UP" && sa.InitiatorSPI != not {
				return sa.InitiatorSPI
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no IKE SA came up: %+v", g.d.Status())
	return 0
}

// sendThroughTunnel injects count 1000-octet UDP packets from LAN to LAN
// into gateway g's st0.1, gap apart, for the tunnel to carry.
func sendThroughTunnel(g *gateway, count int, gap time.Duration) {
	pkt := make([]byte, 1000)
	header.EncodeIPv4(pkt, header.IPv4Fields{TotalLength: 1000, TTL: 64, Protocol: header.IPProtoUDP,
		Source: netip.MustParseAddr("198.51.100.1"), Destination: netip.MustParseAddr("198.18.2.2")})
	tun := g.host.TUN("st0.1")
	for range count {
		tun.Inject(pkt)
		time.Sleep(gap)
	}
}

func TestShowLiveState(t *testing.T) {
	gws := startGateways(t, nil)
	spi := waitUp(t, gws[0], 0)

	text := showText(t, gws[0], ikeSAs(mgmtpb.Display_TEXT, mgmtpb.Style_STYLE_DEFAULT))
	if !strings.Contains(text, fmt.Sprintf("%016x", spi)) || !strings.Contains(text, "192.0.2.2") || !strings.Contains(text, "UP") {
		t.Fatalf("IKE SAs:\n%s", text)
	}
	var doc map[string]any
	js := showText(t, gws[0], ikeSAs(mgmtpb.Display_JSON, mgmtpb.Style_STYLE_DEFAULT))
	if err := json.Unmarshal([]byte(js), &doc); err != nil || doc["ike-security-associations-information"] == nil {
		t.Fatalf("JSON %v:\n%s", err, js)
	}
	if x := showText(t, gws[0], ikeSAs(mgmtpb.Display_XML, mgmtpb.Style_DETAIL)); !strings.Contains(x, "<ike-sa-remote-address>192.0.2.2</ike-sa-remote-address>") {
		t.Fatalf("XML:\n%s", x)
	}
	ipsec := showText(t, gws[1], &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_IpsecSecurityAssociations{
		IpsecSecurityAssociations: &mgmtpb.IPsecSecurityAssociations{}}})
	if !strings.Contains(ipsec, "Total active tunnels: 2") {
		t.Fatalf("IPsec SAs:\n%s", ipsec)
	}
	ifs := showText(t, gws[0], &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_Interfaces{Interfaces: &mgmtpb.Interfaces{Name: "st0.1"}}})
	if !strings.Contains(ifs, "Logical interface st0.1") || !strings.Contains(ifs, "198.51.100.1") {
		t.Fatalf("interfaces:\n%s", ifs)
	}
	ver := showText(t, gws[0], &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_Version{Version: &mgmtpb.Version{}}})
	if !strings.Contains(ver, "Hostname: gw1") || !strings.Contains(ver, "1.2.3") {
		t.Fatalf("version:\n%s", ver)
	}
	fi, err := os.Stat(gws[0].sock)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v (%v), want 0600", fi.Mode(), err)
	}
}

// TestCommitThroughAPI: a commit that changes the manual VPN keeps the IKE
// VPN's SAs; a commit the model refuses reports the Junos error block and
// changes nothing; rollback 1 + commit restores the old configuration.
func TestCommitThroughAPI(t *testing.T) {
	gws := startGateways(t, nil)
	spi := waitUp(t, gws[0], 0)
	ctx := context.Background()
	g := gws[0]

	if _, err := g.conf.Edit(ctx, &mgmtpb.EditRequest{Commands: []string{"set security ipsec vpn man manual spi 401"}}); err != nil {
		t.Fatal(err)
	}
	st, _ := g.conf.Status(ctx, &mgmtpb.StatusRequest{})
	if !st.CandidateChanged {
		t.Fatal("Status does not see the candidate change")
	}
	cmp, _ := g.conf.Compare(ctx, &mgmtpb.CompareRequest{})
	if !strings.Contains(cmp.Text, "[edit security ipsec vpn man manual]\n-   spi 400;\n+   spi 401;") {
		t.Fatalf("compare:\n%s", cmp.Text)
	}
	r, err := g.conf.Commit(ctx, &mgmtpb.CommitRequest{})
	if err != nil || strings.Join(r.Messages, "\n") != "commit complete" {
		t.Fatalf("commit: %v %v", r, err)
	}
	if got := g.d.Status().IKE; len(got) != 1 || got[0].InitiatorSPI != spi || got[0].State != "UP" {
		t.Fatalf("the IKE VPN was disturbed by a commit to another VPN: %+v", got)
	}
	found := false
	for _, sa := range g.d.Status().SAs {
		found = found || sa.VPN == "man" && sa.SPI == "0x00000191"
	}
	if !found {
		t.Fatalf("the manual VPN did not change: %+v", g.d.Status().SAs)
	}

	g.conf.Edit(ctx, &mgmtpb.EditRequest{Commands: []string{"set security ipsec vpn man bind-interface st0.9"}})
	_, err = g.conf.Commit(ctx, &mgmtpb.CommitRequest{})
	want := "[edit security ipsec vpn man]\n  'bind-interface'\n"
	if msg := status.Convert(err).Message(); err == nil || !strings.HasPrefix(msg, want) || !strings.HasSuffix(msg, "error: configuration check-out failed") {
		t.Fatalf("failed commit says:\n%s", msg)
	}
	_, err = g.conf.Commit(ctx, &mgmtpb.CommitRequest{Check: true})
	if err == nil {
		t.Fatal("commit check passes an invalid candidate")
	}

	if _, err := g.conf.Rollback(ctx, &mgmtpb.RollbackRequest{Number: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.conf.Commit(ctx, &mgmtpb.CommitRequest{Comment: "back"}); err != nil {
		t.Fatal(err)
	}
	show, _ := g.conf.Show(ctx, &mgmtpb.ShowConfigRequest{Database: mgmtpb.ConfigDatabase_COMMITTED,
		Path: []string{"security", "ipsec", "vpn", "man"}, Format: mgmtpb.ConfigFormat_SET})
	if !strings.Contains(show.Text, "set security ipsec vpn man manual spi 400\n") {
		t.Fatalf("after rollback 1:\n%s", show.Text)
	}
	rbs, _ := g.conf.Rollbacks(ctx, &mgmtpb.RollbacksRequest{})
	if len(rbs.Rollbacks) != 3 || rbs.Rollbacks[0].Comment != "back" {
		t.Fatalf("rollbacks %+v", rbs.Rollbacks)
	}
}

// TestCommitConfirmedExpires: unconfirmed, a commit confirmed rolls back
// by itself when its time is up.
func TestCommitConfirmedExpires(t *testing.T) {
	clk := clock.NewFake(time.Now())
	gws := startGateways(t, clk)
	ctx := context.Background()
	g := gws[0]
	g.conf.Edit(ctx, &mgmtpb.EditRequest{Commands: []string{"set security ipsec vpn man manual spi 402"}})
	r, err := g.conf.Commit(ctx, &mgmtpb.CommitRequest{ConfirmMinutes: 1})
	if err != nil || r.Messages[0] != "commit confirmed will be automatically rolled back in 1 minutes unless confirmed" {
		t.Fatalf("commit confirmed: %v %v", r, err)
	}
	if st, _ := g.conf.Status(ctx, &mgmtpb.StatusRequest{}); st.ConfirmSecondsLeft != 60 {
		t.Fatalf("confirm seconds left %d, want 60 (by the daemon's clock)", st.ConfirmSecondsLeft)
	}
	clk.Advance(61 * time.Second)
	show, _ := g.conf.Show(ctx, &mgmtpb.ShowConfigRequest{Database: mgmtpb.ConfigDatabase_COMMITTED, Format: mgmtpb.ConfigFormat_SET})
	if !strings.Contains(show.Text, "manual spi 400\n") {
		t.Fatalf("not rolled back:\n%s", show.Text)
	}
	for _, sa := range g.d.Status().SAs {
		if sa.VPN == "man" && sa.SPI != "0x00000190" {
			t.Fatalf("running SA %s after the rollback", sa.SPI)
		}
	}
}

// TestClearAndEvents: clearing the IKE SA sends the event stream a down
// and, since the tunnel is kept up, a new up; the counters clear.
func TestClearAndEvents(t *testing.T) {
	gws := startGateways(t, nil)
	spi := waitUp(t, gws[0], 0)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stream, err := gws[0].op.Events(ctx, &mgmtpb.EventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	// The server sends the headers once it has subscribed: a clear
	// before that would go unseen.
	if _, err := stream.Header(); err != nil {
		t.Fatal(err)
	}
	r, err := gws[0].op.Clear(ctx, &mgmtpb.ClearRequest{Command: &mgmtpb.ClearRequest_IkeSecurityAssociations{
		IkeSecurityAssociations: &mgmtpb.ClearIKE{Address: "192.0.2.2"}}})
	if err != nil || r.Cleared != 1 {
		t.Fatalf("clear: %v %v", r, err)
	}
	var seen []string
	for !(contains(seen, "IKE_SA_DOWN") && contains(seen, "IKE_SA_UP")) {
		ev, err := stream.Recv()
		if err != nil {
			t.Fatalf("events so far %v: %v", seen, err)
		}
		seen = append(seen, ev.Type.String())
	}
	waitUp(t, gws[0], spi)

	if _, err := gws[0].op.Clear(ctx, &mgmtpb.ClearRequest{Command: &mgmtpb.ClearRequest_IpsecStatistics{
		IpsecStatistics: &mgmtpb.ClearStatistics{}}}); err != nil {
		t.Fatal(err)
	}
	if s := gws[0].d.Status().Global; s.EncryptedPackets != 0 || s.DecryptedPackets != 0 {
		t.Fatalf("counters after clear: %+v", s)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestFailureKeptWithReason: with a wrong pre-shared key the failed
// negotiations are shown with their reason by the detail listing and by
// inactive-tunnels, counted by the event stream's failures; fixing the key
// in a commit brings the tunnel up. traceoptions on gateway 1 writes the IKE
// engine's debug records to its trace file.
func TestFailureKeptWithReason(t *testing.T) {
	gws := startGatewaysWith(t, nil, func(i int, cfg string) string {
		if i == 1 {
			return strings.Replace(cfg, `"secret123"`, `"wrong-key"`, 1)
		}
		return cfg + "set security ike traceoptions file ike.log\nset security ike traceoptions flag all\n"
	})
	var detail string
	for range 500 {
		detail = showText(t, gws[0], ikeSAs(mgmtpb.Display_TEXT, mgmtpb.Style_DETAIL))
		if strings.Contains(detail, "Last failure:") {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(detail, "  Last failure:\n") || !strings.Contains(detail, "Reason: peer refused our authentication (AUTHENTICATION_FAILED)") {
		t.Fatalf("detail after a wrong PSK:\n%s", detail)
	}
	inactive := showText(t, gws[0], &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_InactiveTunnels{InactiveTunnels: &mgmtpb.InactiveTunnels{}}})
	if !strings.Contains(inactive, "Total inactive tunnels: 1") || !strings.Contains(inactive, "500001       500    192.0.2.2        1             peer refused our authentication") {
		t.Fatalf("inactive tunnels:\n%s", inactive)
	}
	ctx := context.Background()
	if _, err := gws[1].conf.Edit(ctx, &mgmtpb.EditRequest{Commands: []string{`set security ike policy pol pre-shared-key ascii-text "secret123"`}}); err != nil {
		t.Fatal(err)
	}
	if _, err := gws[1].conf.Commit(ctx, &mgmtpb.CommitRequest{}); err != nil {
		t.Fatal(err)
	}
	waitUp(t, gws[0], 0)
	trace, err := os.ReadFile(filepath.Join(gws[0].dir, "log", "ike.log"))
	if err != nil || !strings.Contains(string(trace), "msg=\"IKE message received\"") || !strings.Contains(string(trace), "subsystem=ike") {
		t.Fatalf("trace file: %v\n%.2000s", err, trace)
	}
	if strings.Contains(string(trace), "secret123") || strings.Contains(string(trace), "wrong-key") {
		t.Fatal("a pre-shared key reached the trace file")
	}
}

// TestLifetimeKilobytes: with lifetime-kilobytes 64 the data plane reports
// the Child SA's soft byte lifetime and the IKE engine rekeys it: traffic
// through st0.1 past 64 KB brings new SPIs, and the old pair goes.
func TestLifetimeKilobytes(t *testing.T) {
	gws := startGatewaysWith(t, nil, func(_ int, cfg string) string {
		return cfg + "set security ipsec proposal ip lifetime-kilobytes 64\n"
	})
	waitUp(t, gws[0], 0)
	spis := func() []string {
		var out []string
		for _, sa := range gws[0].d.Status().SAs {
			if sa.VPN == "ike" {
				out = append(out, sa.Direction+" "+sa.SPI)
			}
		}
		return out
	}
	var before []string
	for range 500 {
		if before = spis(); len(before) == 2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	sendThroughTunnel(gws[0], 80, time.Millisecond) // 80 KB
	var after []string
	for range 500 {
		after = spis()
		if len(after) == 2 && after[0] != before[0] && after[1] != before[1] {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no rekey after 80 KB with lifetime-kilobytes 64: SAs before %v, after %v", before, after)
}

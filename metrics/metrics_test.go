package metrics

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// scrape fetches Handler's text exposition and keeps the lines of ipsecgw_
// metrics (samples and their HELP and TYPE), in the order served.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, Path, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: status %d: %s", rec.Code, rec.Body)
	}
	var keep []string
	for line := range strings.Lines(rec.Body.String()) {
		name := strings.TrimPrefix(strings.TrimPrefix(line, "# HELP "), "# TYPE ")
		if strings.HasPrefix(name, "ipsecgw_") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "")
}

// snapshotVar is a snapshot the test changes between scrapes.
type snapshotVar struct {
	mu sync.Mutex
	s  Snapshot // guarded by mu
}

func (v *snapshotVar) get() Snapshot {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.s
}

func (v *snapshotVar) set(s Snapshot) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.s = s
}

func labSnapshot() Snapshot {
	return Snapshot{
		ESP: ESP{
			EncryptedPackets: 3677, EncryptedBytes: 875126,
			DecryptedPackets: 3675, DecryptedBytes: 1073684,
			Drops:         map[string]uint64{"replay": 2, "auth-failed": 1},
			TCPMSSClamped: 12,
		},
		SAs: []SA{
			{VPN: "ipsec_vpn", Tunnel: "500001", Direction: "inbound", SPI: "0x8d92e737", Packets: 3675, Bytes: 1073684, Drops: 3},
			{VPN: "ipsec_vpn", Tunnel: "500001", Direction: "outbound", SPI: "0x78634c46", Packets: 3677, Bytes: 875126},
		},
		IKESAs:       map[string]int{"up": 1, "negotiating": 2},
		IKEDrops:     map[string]uint64{"malformed": 4, "no-sa": 0, "unauthenticated": 1},
		IKEAbandoned: 2,
	}
}

const labExposition = `# HELP ipsecgw_dpd_events_total Dead peer detection events, by kind: probe (a liveness check sent) or dead (a peer declared dead and its SAs cleared).
# TYPE ipsecgw_dpd_events_total counter
ipsecgw_dpd_events_total{kind="dead"} 1
ipsecgw_dpd_events_total{kind="probe"} 3
# HELP ipsecgw_esp_bytes_total ESP payload bytes processed by the gateway, by direction: outbound bytes encrypted, inbound bytes decrypted.
# TYPE ipsecgw_esp_bytes_total counter
ipsecgw_esp_bytes_total{direction="inbound"} 1.073684e+06
ipsecgw_esp_bytes_total{direction="outbound"} 875126
# HELP ipsecgw_esp_drops_total ESP packets the data plane dropped, by reason.
# TYPE ipsecgw_esp_drops_total counter
ipsecgw_esp_drops_total{reason="auth-failed"} 1
ipsecgw_esp_drops_total{reason="replay"} 2
# HELP ipsecgw_esp_packets_total ESP packets processed by the gateway, by direction: outbound packets encrypted and sent, inbound packets received and decrypted.
# TYPE ipsecgw_esp_packets_total counter
ipsecgw_esp_packets_total{direction="inbound"} 3675
ipsecgw_esp_packets_total{direction="outbound"} 3677
# HELP ipsecgw_ike_abandoned_initiations_total IKE initiations given up, unanswered, because the peer's IKE SA with the same gateway came up first; its VPNs come up on that IKE SA instead.
# TYPE ipsecgw_ike_abandoned_initiations_total counter
ipsecgw_ike_abandoned_initiations_total 2
# HELP ipsecgw_ike_certificate_failures_total IKE negotiations that failed because the peer's certificate or signature was refused, by cause (also counted in ipsecgw_ike_negotiation_failures_total).
# TYPE ipsecgw_ike_certificate_failures_total counter
ipsecgw_ike_certificate_failures_total{cause="bad-signature"} 0
ipsecgw_ike_certificate_failures_total{cause="certificate-expired"} 1
ipsecgw_ike_certificate_failures_total{cause="certificate-revoked"} 0
ipsecgw_ike_certificate_failures_total{cause="crl-unavailable"} 0
ipsecgw_ike_certificate_failures_total{cause="identity-mismatch"} 0
ipsecgw_ike_certificate_failures_total{cause="key-usage"} 1
ipsecgw_ike_certificate_failures_total{cause="malformed-certificate"} 0
ipsecgw_ike_certificate_failures_total{cause="other"} 1
ipsecgw_ike_certificate_failures_total{cause="unknown-ca"} 1
# HELP ipsecgw_ike_dropped_total IKE messages dropped, by reason: malformed (they do not parse), no-sa (for no SA of ours), unauthenticated (they do not decrypt or verify).
# TYPE ipsecgw_ike_dropped_total counter
ipsecgw_ike_dropped_total{reason="malformed"} 4
ipsecgw_ike_dropped_total{reason="no-sa"} 0
ipsecgw_ike_dropped_total{reason="unauthenticated"} 1
# HELP ipsecgw_ike_negotiation_failures_total IKE negotiations that failed, by reason (the error notify received or sent, or peer-unreachable when the peer never answered).
# TYPE ipsecgw_ike_negotiation_failures_total counter
ipsecgw_ike_negotiation_failures_total{reason="authentication-failed"} 0
ipsecgw_ike_negotiation_failures_total{reason="no-proposal-chosen"} 2
ipsecgw_ike_negotiation_failures_total{reason="other"} 1
ipsecgw_ike_negotiation_failures_total{reason="peer-unreachable"} 0
ipsecgw_ike_negotiation_failures_total{reason="ts-unacceptable"} 0
# HELP ipsecgw_ike_negotiations_total IKE negotiations that succeeded: IKE SAs established, by IKE_AUTH or IKEv1 main/aggressive mode.
# TYPE ipsecgw_ike_negotiations_total counter
ipsecgw_ike_negotiations_total 2
# HELP ipsecgw_ike_sas IKE SAs that exist now, by state.
# TYPE ipsecgw_ike_sas gauge
ipsecgw_ike_sas{state="negotiating"} 2
ipsecgw_ike_sas{state="up"} 1
# HELP ipsecgw_rekeys_total Rekeys completed, by kind: ike (an IKE SA replaced) or child (a Child/IPsec SA pair replaced).
# TYPE ipsecgw_rekeys_total counter
ipsecgw_rekeys_total{kind="child"} 1
ipsecgw_rekeys_total{kind="ike"} 0
# HELP ipsecgw_sa_bytes_total Payload bytes carried by one installed IPsec SA since it was installed.
# TYPE ipsecgw_sa_bytes_total counter
ipsecgw_sa_bytes_total{direction="inbound",spi="0x8d92e737",tunnel="500001",vpn="ipsec_vpn"} 1.073684e+06
ipsecgw_sa_bytes_total{direction="outbound",spi="0x78634c46",tunnel="500001",vpn="ipsec_vpn"} 875126
# HELP ipsecgw_sa_drops_total Packets of one installed IPsec SA dropped (anti-replay, integrity check) since it was installed.
# TYPE ipsecgw_sa_drops_total counter
ipsecgw_sa_drops_total{direction="inbound",spi="0x8d92e737",tunnel="500001",vpn="ipsec_vpn"} 3
ipsecgw_sa_drops_total{direction="outbound",spi="0x78634c46",tunnel="500001",vpn="ipsec_vpn"} 0
# HELP ipsecgw_sa_packets_total Packets carried by one installed IPsec SA since it was installed.
# TYPE ipsecgw_sa_packets_total counter
ipsecgw_sa_packets_total{direction="inbound",spi="0x8d92e737",tunnel="500001",vpn="ipsec_vpn"} 3675
ipsecgw_sa_packets_total{direction="outbound",spi="0x78634c46",tunnel="500001",vpn="ipsec_vpn"} 3677
# HELP ipsecgw_tcp_mss_clamped_total TCP SYN and SYN-ACK packets whose MSS option the data plane lowered to the configured tcp-mss ipsec-vpn.
# TYPE ipsecgw_tcp_mss_clamped_total counter
ipsecgw_tcp_mss_clamped_total 12
`

func TestScrape(t *testing.T) {
	m := New(labSnapshot)
	e := m.Events()
	e.Negotiated()
	e.Negotiated()
	e.Failed("no-proposal-chosen")
	e.Failed("no-proposal-chosen")
	e.Failed("invalid-syntax") // not in FailureReasons: other
	e.Rekeyed("child")
	for _, reason := range []string{"certificate expired", "unknown CA", "key usage does not allow signing", "no AUTH payload"} {
		e.CertificateFailed(CertificateCause(reason)) // the last is not a certificate cause: other
	}
	e.DPD("probe")
	e.DPD("probe")
	e.DPD("probe")
	e.DPD("dead")
	if got := scrape(t, m); got != labExposition {
		t.Errorf("scrape differs:\n%s", lineDiff(labExposition, got))
	}
}

// TestScrapeFollowsSnapshot checks that every scrape asks for a new
// snapshot: values move, SAs and reasons come and go.
func TestScrapeFollowsSnapshot(t *testing.T) {
	var v snapshotVar
	v.set(labSnapshot())
	m := New(v.get)
	first := scrape(t, m)

	next := labSnapshot()
	next.ESP.EncryptedPackets = 4000
	next.ESP.Drops = map[string]uint64{"no-sa": 7}
	next.SAs = next.SAs[1:]
	next.IKESAs = map[string]int{"up": 3}
	v.set(next)
	second := scrape(t, m)

	for _, c := range []struct {
		line          string
		first, second bool
	}{
		{`ipsecgw_esp_packets_total{direction="outbound"} 3677` + "\n", true, false},
		{`ipsecgw_esp_packets_total{direction="outbound"} 4000` + "\n", false, true},
		{`ipsecgw_esp_drops_total{reason="replay"} 2` + "\n", true, false},
		{`ipsecgw_esp_drops_total{reason="no-sa"} 7` + "\n", false, true},
		{`ipsecgw_sa_packets_total{direction="inbound",spi="0x8d92e737",tunnel="500001",vpn="ipsec_vpn"} 3675` + "\n", true, false},
		{`ipsecgw_ike_sas{state="negotiating"} 2` + "\n", true, false},
		{`ipsecgw_ike_sas{state="up"} 3` + "\n", false, true},
	} {
		if strings.Contains(first, c.line) != c.first || strings.Contains(second, c.line) != c.second {
			t.Errorf("%q: in first scrape %v (want %v), in second %v (want %v)", strings.TrimSpace(c.line),
				strings.Contains(first, c.line), c.first, strings.Contains(second, c.line), c.second)
		}
	}
}

// TestDuplicateSAsMerge checks that an SA reported twice (a rekey in
// flight) is summed into one series instead of failing the scrape.
func TestDuplicateSAsMerge(t *testing.T) {
	m := New(func() Snapshot {
		sa := SA{VPN: "v", Tunnel: "1", Direction: "inbound", SPI: "0x1", Packets: 2, Bytes: 20, Drops: 1}
		return Snapshot{SAs: []SA{sa, sa}}
	})
	got := scrape(t, m)
	for _, want := range []string{
		`ipsecgw_sa_packets_total{direction="inbound",spi="0x1",tunnel="1",vpn="v"} 4`,
		`ipsecgw_sa_bytes_total{direction="inbound",spi="0x1",tunnel="1",vpn="v"} 40`,
		`ipsecgw_sa_drops_total{direction="inbound",spi="0x1",tunnel="1",vpn="v"} 2`,
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("scrape lacks %s:\n%s", want, got)
		}
	}
}

func TestNoSnapshotAndNilEvents(t *testing.T) {
	var e *Events // a daemon without metrics
	e.Negotiated()
	e.Failed("other")
	e.Rekeyed("ike")
	e.DPD("dead")

	got := scrape(t, New(nil))
	if strings.Contains(got, "ipsecgw_esp_") || strings.Contains(got, "ipsecgw_sa_") {
		t.Errorf("New(nil) exports snapshot metrics:\n%s", got)
	}
	if !strings.Contains(got, "ipsecgw_ike_negotiations_total 0\n") {
		t.Errorf("New(nil) lacks the event counters:\n%s", got)
	}
}

// TestRuntimeCollectors checks that the Go and process collectors are on
// the registry.
func TestRuntimeCollectors(t *testing.T) {
	rec := httptest.NewRecorder()
	New(nil).Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, Path, nil))
	for _, name := range []string{"go_goroutines ", "process_start_time_seconds "} {
		if !strings.Contains(rec.Body.String(), "\n"+name) {
			t.Errorf("scrape lacks %s", name)
		}
	}
}

func TestServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := New(labSnapshot)
	done := make(chan error, 1)
	go func() { done <- m.serve(ctx, ln) }()

	resp, err := http.Get("http://" + ln.Addr().String() + Path)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `ipsecgw_esp_packets_total{direction="outbound"} 3677`) {
		t.Errorf("GET %s: %d %v\n%s", Path, resp.StatusCode, err, body)
	}
	resp, err = http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /: %d, want 404", resp.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve after cancel: %v, want nil", err)
		}
	case <-time.After(2 * shutdownGrace):
		t.Fatal("serve did not return after its context was done")
	}
	if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Error("listener still accepts after serve returned")
	}
}

func TestServeListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = New(nil).Serve(ctx, ln.Addr().String()) // the port is taken
	var op *net.OpError
	if !errors.As(err, &op) || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Errorf("Serve on a taken port: %v, want a listen error naming the address", err)
	}
}

func TestServeStopsOnContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := New(nil).Serve(ctx, "127.0.0.1:0"); err != nil {
		t.Errorf("Serve: %v, want nil once the context is done", err)
	}
}

// lineDiff shows the first differing line of two texts.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n want " + wl + "\n got  " + gl
		}
	}
	return "(no line differs)"
}

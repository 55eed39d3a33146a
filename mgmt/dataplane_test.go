package mgmt

import (
	"strings"
	"testing"

	"ipsecgw/daemon"
	"ipsecgw/netio"
	"ipsecgw/show"
)

// TestDataPlaneViewXDPDrops: on the xdp data plane the frames the readers
// refused and the kernel's AF_XDP drops are drop reasons of `show
// security ipsec statistics detail`, each with its own count.
func TestDataPlaneViewXDPDrops(t *testing.T) {
	var st daemon.Status
	st.DataPlane.Mode = "xdp"
	st.DataPlane.XDP = &netio.XDPStats{Received: 9, Malformed: 1, RingFull: 2, FillEmpty: 3, Dropped: 4, InvalidDescriptors: 5}
	dp := dataPlaneView(st)
	if dp.RingsReceived != 9 {
		t.Errorf("received %d, want 9", dp.RingsReceived)
	}
	got := map[string]uint64{}
	for _, d := range dp.Drops {
		got[d.Reason] = d.Count
	}
	for reason, want := range map[string]uint64{"xdp-malformed": 1, "xdp-ring-full": 2, "xdp-fill-empty": 3, "xdp-dropped": 4, "xdp-invalid-descriptor": 5} {
		if c, ok := got[reason]; !ok || c != want {
			t.Errorf("drop %s: %d (shown %v), want %d", reason, c, ok, want)
		}
	}
}

// TestDataPlaneViewXDPTransmit: the AF_XDP transmit's kicks and waits
// reach `show security ipsec statistics detail`, each counter in its
// place, in the text and the structured reply; the frames a kick left in
// the ring are shown as late, not among the drops.
func TestDataPlaneViewXDPTransmit(t *testing.T) {
	var st daemon.Status
	st.DataPlane.Mode = "xdp"
	st.DataPlane.XDP = &netio.XDPStats{Sent: 100, TransmitKicks: 11, TransmitSendtos: 12, TransmitWaits: 13,
		TransmitWaitNs: 14_000_000, TransmitPauses: 17, TransmitGaveUp: 15, TransmitLeft: 16}
	dp := dataPlaneView(st)
	want := show.XDPTransmit{Kicks: 11, SendtoCalls: 12, Waits: 13, WaitNs: 14_000_000, Pauses: 17, GaveUp: 15, LeftInRing: 16}
	if dp.Transmit != want {
		t.Fatalf("transmit %+v, want %+v", dp.Transmit, want)
	}
	for _, d := range dp.Drops {
		if strings.Contains(d.Reason, "transmit") || strings.Contains(d.Reason, "left") {
			t.Errorf("drop reason %s: frames left in the ring are late, not dropped", d.Reason)
		}
	}
	r := show.IPsecStatisticsDetail(show.Statistics{}, dp)
	for _, line := range []string{
		"AF_XDP transmit: kicks 11, sendto calls 12, waits for a full peer queue 13 (14ms in all, 17 pauses)",
		"AF_XDP transmit gave up waiting: 15 times, 16 frames left in the ring (sent late, not lost)",
	} {
		if !strings.Contains(r.Text(), line) {
			t.Errorf("text lacks %q:\n%s", line, r.Text())
		}
	}
	m, ok := r.Model().(*show.IPsecStatisticsDetailInformation)
	if !ok || m.DataPlane.Transmit == nil || *m.DataPlane.Transmit != want {
		t.Errorf("structured reply: %#v, want af-xdp-transmit %+v", r.Model(), want)
	}
	if x := r.XML(); !strings.Contains(x, "<wait-ns>14000000</wait-ns>") || !strings.Contains(x, "<left-in-ring>16</left-in-ring>") {
		t.Errorf("XML lacks the transmit counters:\n%s", x)
	}
}

// TestDataPlaneViewPacketRingDrops: on the packet-ring data plane the
// kernel's ring-full drops and the packets it cut to a frame (an MTU
// raised past the ring's frames) are drop reasons, each with its count.
func TestDataPlaneViewPacketRingDrops(t *testing.T) {
	var st daemon.Status
	st.DataPlane.Mode = "packet-ring"
	st.DataPlane.PacketRing = &netio.PacketRingStats{Received: 9, Malformed: 1, RingFull: 2, Truncated: 3}
	dp := dataPlaneView(st)
	if dp.RingsReceived != 9 || dp.RingsMalformed != 1 {
		t.Errorf("received %d, malformed %d; want 9, 1", dp.RingsReceived, dp.RingsMalformed)
	}
	got := map[string]uint64{}
	for _, d := range dp.Drops {
		got[d.Reason] = d.Count
	}
	for reason, want := range map[string]uint64{"packet-ring-full": 2, "packet-ring-truncated": 3} {
		if c, ok := got[reason]; !ok || c != want {
			t.Errorf("drop %s: %d (shown %v), want %d", reason, c, ok, want)
		}
	}
}

package mgmt

import (
	"testing"

	"ipsecgw/daemon"
	"ipsecgw/netio"
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

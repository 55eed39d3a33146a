package mgmt

import (
	"reflect"
	"strings"

	"ipsecgw/daemon"
	"ipsecgw/show"
)

// dataPlaneView is the data plane part of `show security ipsec statistics
// detail`: the raw ESP path from the status, and the engine's counters
// beyond those the Junos block shows, named as status.json names them.
func dataPlaneView(st daemon.Status) show.DataPlane {
	dp := show.DataPlane{Mode: st.DataPlane.Mode, Detail: st.DataPlane.Detail, Fallback: st.DataPlane.Fallback,
		Committed: st.DataPlane.Committed, Wanted: st.DataPlane.Wanted}
	if x := st.DataPlane.XDP; x != nil {
		dp.RingsReceived, dp.RingsSent, dp.SentByKernel = x.Received, x.Sent, x.ViaKernel
		// Frames a transmit left in a ring are late, not dropped: they
		// are shown beside the rings, not among the drop reasons.
		dp.Transmit = show.XDPTransmit{Kicks: x.TransmitKicks, SendtoCalls: x.TransmitSendtos, Waits: x.TransmitWaits,
			WaitNs: x.TransmitWaitNs, Pauses: x.TransmitPauses, GaveUp: x.TransmitGaveUp, LeftInRing: x.TransmitLeft}
		dp.Drops = append(dp.Drops, show.Drop{Reason: "xdp-malformed", Count: x.Malformed},
			show.Drop{Reason: "xdp-ring-full", Count: x.RingFull}, show.Drop{Reason: "xdp-fill-empty", Count: x.FillEmpty},
			show.Drop{Reason: "xdp-dropped", Count: x.Dropped}, show.Drop{Reason: "xdp-invalid-descriptor", Count: x.InvalidDescriptors})
	}
	if r := st.DataPlane.PacketRing; r != nil {
		dp.RingsReceived, dp.RingsSent, dp.SentByKernel, dp.RingsMalformed = r.Received, r.Sent, r.ViaKernel, r.Malformed
		dp.Drops = append(dp.Drops, show.Drop{Reason: "packet-ring-full", Count: r.RingFull},
			show.Drop{Reason: "packet-ring-truncated", Count: r.Truncated})
	}
	shown := map[string]bool{"encrypted-bytes": true, "encrypted-packets": true, "decrypted-bytes": true,
		"decrypted-packets": true, "esp-authentication-failures": true, "replay-errors": true,
		"esp-decryption-failures": true, "bad-headers": true, "bad-trailers": true}
	v := reflect.ValueOf(st.Global)
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		if name != "" && !shown[name] && v.Field(i).CanUint() {
			dp.Drops = append(dp.Drops, show.Drop{Reason: name, Count: v.Field(i).Uint()})
		}
	}
	return dp
}

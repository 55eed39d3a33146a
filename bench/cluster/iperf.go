package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"syscall"
	"time"
)

// flow is one iperf3 TCP flow's result.
type flow struct {
	srg         int
	bitsPerSec  float64 // at the receiver
	retransmits int
}

// iperfReport is the part of `iperf3 -J` output a flow needs.
type iperfReport struct {
	Error string `json:"error"`
	End   struct {
		SumSent struct {
			Retransmits int `json:"retransmits"`
		} `json:"sum_sent"`
		SumReceived struct {
			Bytes         uint64  `json:"bytes"`
			BitsPerSecond float64 `json:"bits_per_second"`
		} `json:"sum_received"`
	} `json:"end"`
}

// parseIperf reads an iperf3 client's -J output. A run that failed, or
// carried nothing, is an error: no traffic is not a figure.
func parseIperf(out []byte) (bitsPerSec float64, retransmits int, err error) {
	var r iperfReport
	if err := json.Unmarshal(out, &r); err != nil {
		return 0, 0, fmt.Errorf("iperf3 output: %w", err)
	}
	if r.Error != "" {
		return 0, 0, fmt.Errorf("iperf3: %s", r.Error)
	}
	if r.End.SumReceived.Bytes == 0 || r.End.SumReceived.BitsPerSecond <= 0 {
		return 0, 0, fmt.Errorf("iperf3: nothing received")
	}
	return r.End.SumReceived.BitsPerSecond, r.End.SumSent.Retransmits, nil
}

// iperfPort is every server's port; each listens on its own st0 address.
const iperfPort = "5201"

// iperfClient runs one iperf3 TCP flow from the traffic peer (bound to
// from) to the server on to, for d after a first second left out (TCP's
// slow start).
func (t *topology) iperfClient(ctx context.Context, from, to netip.Addr, d time.Duration) (float64, int, error) {
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	cmd := t.CommandContext(ctx, "peer", "iperf3", "-c", to.String(), "-B", from.String(), "-p", iperfPort, "-J",
		"-t", strconv.Itoa(int(d.Seconds())), "-O", "1", "--connect-timeout", "3000")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.Output()
	bps, retr, perr := parseIperf(out)
	if perr != nil && err != nil {
		return 0, 0, fmt.Errorf("iperf3 %s → %s: %w (%v)", from, to, perr, err)
	}
	return bps, retr, perr
}

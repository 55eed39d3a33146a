package cluster

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"syscall"
	"time"

	"ipsecgw/bench/lab"
)

// flow is one iperf3 TCP flow's result.
type flow struct {
	srg         int
	bitsPerSec  float64 // at the receiver
	retransmits int
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
	r, perr := lab.ParseIperf(out)
	if perr != nil && err != nil {
		return 0, 0, fmt.Errorf("iperf3 %s → %s: %w (%v)", from, to, perr, err)
	}
	return r.End.SumReceived.BitsPerSecond, r.End.SumSent.Retransmits, perr
}

package main

import (
	"context"
	"fmt"
	"strings"
)

// congestion returns the TCP congestion control iperf3 runs with: want
// when set (iperf3 -C; the kernel refuses one it does not have), else h1's
// default. It matters: on a machine whose default is BBR the sender paces
// at the bandwidth it has estimated, and a data plane whose latency varies
// is measured differently than under CUBIC, which fills the queues.
func (t *topology) congestion(ctx context.Context, want string) (string, error) {
	out, err := t.CommandContext(ctx, "h1", "cat", "/proc/sys/net/ipv4/tcp_available_congestion_control").Output()
	if err != nil {
		return "", fmt.Errorf("h1: read the available TCP congestion controls: %w", err)
	}
	available := strings.Fields(string(out))
	if want != "" {
		for _, a := range available {
			if a == want {
				return want, nil
			}
		}
		return "", fmt.Errorf("-congestion %s: this kernel offers only %s", want, strings.Join(available, ", "))
	}
	out, err = t.CommandContext(ctx, "h1", "cat", "/proc/sys/net/ipv4/tcp_congestion_control").Output()
	if err != nil {
		return "", fmt.Errorf("h1: read the default TCP congestion control: %w", err)
	}
	return strings.TrimSpace(string(out)) + " (the machine's default)", nil
}

// validCongestion says whether name can be a congestion control's name
// (letters, digits, _ and -), before it reaches iperf3's command line.
func validCongestion(name string) bool {
	if name == "" || len(name) > 16 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

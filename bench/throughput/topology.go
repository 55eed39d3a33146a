package main

import (
	"context"
	"fmt"
	"time"

	"ipsecgw/bench/lab"
)

// The topology, in test ranges only (RFC 2544, RFC 5737):
//
//	h1 198.18.1.2/24 ── 198.18.1.1 gw1 192.0.2.1/24 ══ 192.0.2.2 gw2 198.18.2.1 ── 198.18.2.2/24 h2
//
// Interface names are those ipsecgw's configuration names (gw1-h1,
// gw1-gw2, ...). Every setup starts from this state (gateway interfaces
// addressed, forwarding on, no route between the host networks) and
// returns to it.
const (
	h1Addr = "198.18.1.2"
	h2Addr = "198.18.2.2"
)

// nsPrefix starts every namespace this program creates; the PID after it
// lets a later run remove what a killed run left.
const nsPrefix = "igwbench-"

// topology is the four namespaces h1, gw1, gw2, h2.
type topology struct {
	*lab.Namespaces
}

// newTopology builds the namespaces and links; on error it removes what
// it made.
func newTopology(ctx context.Context) (*topology, error) {
	n, err := lab.New(ctx, "throughput", nsPrefix, "h1", "gw1", "gw2", "h2")
	if err != nil {
		return nil, err
	}
	t := &topology{n}
	if err := t.build(ctx); err != nil {
		t.Destroy()
		return nil, err
	}
	return t, nil
}

func (t *topology) build(ctx context.Context) error {
	links := []struct{ nsA, ifA, addrA, nsB, ifB, addrB string }{
		{"h1", "h1-gw1", h1Addr + "/24", "gw1", "gw1-h1", "198.18.1.1/24"},
		{"gw1", "gw1-gw2", "192.0.2.1/24", "gw2", "gw2-gw1", "192.0.2.2/24"},
		{"gw2", "gw2-h2", "198.18.2.1/24", "h2", "h2-gw2", h2Addr + "/24"},
	}
	for _, l := range links {
		if err := t.Link(ctx, l.nsA, l.ifA, l.addrA, l.nsB, l.ifB, l.addrB); err != nil {
			return err
		}
	}
	steps := [][]string{
		{"h1", "ip", "route", "add", "default", "via", "198.18.1.1"},
		{"h2", "ip", "route", "add", "default", "via", "198.18.2.1"},
		{"gw1", "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"},
		{"gw2", "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"},
	}
	for _, s := range steps {
		if _, err := t.Exec(ctx, s[0], s[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// ping checks that from reaches to, retrying for a few seconds while a
// tunnel settles.
func (t *topology) ping(ctx context.Context, from, to string) error {
	var out string
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		out, err = t.Exec(ctx, from, "ping", "-c", "1", "-W", "1", to)
		if err == nil || ctx.Err() != nil {
			return err
		}
	}
	return fmt.Errorf("%s cannot reach %s: %w\n%s", from, to, err, out)
}

// waitFor polls cond every 50 ms until it holds or limit passes.
func waitFor(ctx context.Context, limit time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not within %v", what, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

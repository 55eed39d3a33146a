package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"ipsecgw/bench/lab"
)

const iperfPort = "5201"

// iperfResult is what one iperf3 run measured.
type iperfResult struct {
	bitsPerSecond float64 // at the receiver, the omitted start left out
	received      uint64  // bytes at the receiver, the omitted start left out
	sent          uint64  // bytes the sender wrote, the omitted start included
	retransmits   int
}

// runIperf runs a one-shot iperf3 server in h2 and the client in h1,
// keeping the server's output in logDir.
func runIperf(ctx context.Context, t *topology, logDir string, flows int, duration, omit time.Duration, congestion string) (iperfResult, error) {
	var res iperfResult
	srv, err := lab.Start(t.Namespaces, "h2", "iperf3 server", filepath.Join(logDir, "iperf3-server.log"), lab.Options{StopWithParent: true},
		"iperf3", "-s", "-1", "-B", h2Addr, "-p", iperfPort)
	if err != nil {
		return res, err
	}
	defer func() {
		// With -1 the server exits by itself once the client is done.
		select {
		case <-srv.Done():
		case <-time.After(3 * time.Second):
			srv.Stop()
		}
	}()

	// The client is bounded by the test time plus generous slack for
	// connecting and the final exchange of results.
	limit := duration + omit + 20*time.Second
	args := []string{"iperf3", "-c", h2Addr, "-p", iperfPort, "-J",
		"-t", strconv.Itoa(int(duration.Seconds())), "-O", strconv.Itoa(int(omit.Seconds())),
		"-P", strconv.Itoa(flows), "--connect-timeout", "3000"}
	if congestion != "" {
		args = append(args, "-C", congestion)
	}
	var out []byte
	for attempt := 0; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, limit)
		cmd := t.CommandContext(cctx, "h1", args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
		out, err = cmd.Output()
		cancel()
		// The server may not be listening yet: retry a refused connection
		// for up to two seconds (iperf3 -J may exit 0 on it).
		if attempt >= 20 || ctx.Err() != nil || !strings.Contains(string(out), "Connection refused") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return res, fmt.Errorf("iperf3 -P %d: %v\n%s\nserver: %s", flows, err, out, srv.LogTail())
	}
	r, err := lab.ParseIperf(out)
	if err != nil {
		return res, fmt.Errorf("iperf3 -P %d: %v\nserver: %s", flows, err, srv.LogTail())
	}
	res.bitsPerSecond = r.End.SumReceived.BitsPerSecond
	res.received = r.End.SumReceived.Bytes
	res.retransmits = r.End.SumSent.Retransmits
	res.sent = r.Sent()
	return res, nil
}

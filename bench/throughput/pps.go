package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"text/tabwriter"
	"time"
)

// Packets per second through the gateways: a generator in h1 sends UDP
// packets of one size as fast as it can for a few seconds (this program
// itself, re-run inside h1 with -generate); gw1 encrypts what it can,
// gw2 decrypts what arrives. The rates are the SA counters' packets over
// the generator's time, so a generator that outruns the gateway measures
// the gateway, not itself.

// generatorFlag is the hidden mode of this program that sends packets.
const generatorFlag = "-generate"

// runGenerator is the generator: -generate ADDR:PORT SIZE SECONDS sends
// IPv4 packets of SIZE octets (IP header included) to ADDR:PORT.
func runGenerator(args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("usage: %s ADDR:PORT SIZE SECONDS", generatorFlag)
	}
	size, err := strconv.Atoi(args[1])
	if err != nil || size < 28+8 || size > 1472+28 {
		return fmt.Errorf("size %q: want 36 to 1500", args[1])
	}
	secs, err := strconv.Atoi(args[2])
	if err != nil || secs < 1 || secs > 60 {
		return fmt.Errorf("seconds %q: want 1 to 60", args[2])
	}
	c, err := net.Dial("udp4", args[0])
	if err != nil {
		return err
	}
	defer c.Close()
	payload := make([]byte, size-28)
	end := time.Now().Add(time.Duration(secs) * time.Second)
	sent := 0
	for time.Now().Before(end) {
		for range 256 {
			// A full queue or an ICMP error from h2 fails one write; the
			// generator goes on.
			if _, err := c.Write(payload); err == nil {
				sent++
			}
		}
	}
	fmt.Println(sent)
	return nil
}

// ppsRow is one setup and packet size.
type ppsRow struct {
	Setup      string  `json:"setup"`
	Size       int     `json:"packet_size"`
	Offered    float64 `json:"offered_pps"`   // what the generator sent
	Encrypted  float64 `json:"encrypted_pps"` // gw1's outbound SA
	Decrypted  float64 `json:"decrypted_pps"` // gw2's inbound SA
	CPUSeconds float64 `json:"gateway_cpu_s"` // both gateways
}

// measurePPS runs the generator for each size through an ipsecgw setup.
func measurePPS(ctx context.Context, topo *topology, g *ipsecgw, sizes []int, secs int) ([]ppsRow, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	var rows []ppsRow
	for _, size := range sizes {
		fmt.Fprintf(os.Stderr, "== %s: %d-octet packets for %d s\n", g.name(), size, secs)
		before, err := g.packets(ctx)
		if err != nil {
			return rows, err
		}
		cpuBefore, err := cpuTime(g.processes())
		if err != nil {
			return rows, err
		}
		out, err := topo.Exec(ctx, "h1", self, generatorFlag, h2Addr+":9", strconv.Itoa(size), strconv.Itoa(secs))
		if err != nil {
			return rows, fmt.Errorf("generator: %w\n%s", err, out)
		}
		offered, _ := strconv.ParseFloat(trimNewline(out), 64)
		// Let the queues drain before reading the counters.
		time.Sleep(300 * time.Millisecond)
		cpuAfter, err := cpuTime(g.processes())
		if err != nil {
			return rows, err
		}
		after, err := g.packets(ctx)
		if err != nil {
			return rows, err
		}
		d := float64(secs)
		rows = append(rows, ppsRow{Setup: g.name(), Size: size, Offered: offered / d,
			Encrypted: float64(after.sent-before.sent) / d, Decrypted: float64(after.received-before.received) / d,
			CPUSeconds: (cpuAfter - cpuBefore).Seconds()})
	}
	return rows, nil
}

func trimNewline(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}

// packets reads gw1's encrypted and gw2's decrypted packet counts.
func (g *ipsecgw) packets(ctx context.Context) (counts, error) {
	s1, err := g.status(ctx, 0)
	if err != nil {
		return counts{}, err
	}
	s2, err := g.status(ctx, 1)
	if err != nil {
		return counts{}, err
	}
	out, ok1 := findSA(s1, "outbound")
	in, ok2 := findSA(s2, "inbound")
	if !ok1 || !ok2 {
		return counts{}, fmt.Errorf("%s: no SA pair in the status", g.label)
	}
	return counts{sent: out.Counters.EncryptedPackets, received: in.Counters.DecryptedPackets}, nil
}

func printPPS(w io.Writer, rows []ppsRow) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "\npackets per second h1 → h2 (UDP generator in h1)\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "setup\tsize\toffered pps\tgw1 encrypted pps\tgw2 decrypted pps\tgateway CPU s\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.0f\t%.0f\t%.2f\t\n", r.Setup, r.Size, r.Offered, r.Encrypted, r.Decrypted, r.CPUSeconds)
	}
	tw.Flush()
}

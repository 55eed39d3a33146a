package main

// tshark's capture of a case, checked against what the engine sent and
// received.

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// capture is tshark writing a pcap inside a namespace.
type capture struct {
	cmd    *exec.Cmd
	exited chan struct{}
	errf   string
}

func startCapture(ns, ifc, file, dir string) (*capture, error) {
	c := &capture{exited: make(chan struct{}), errf: filepath.Join(dir, "tshark.err")}
	errOut, err := os.Create(c.errf)
	if err != nil {
		return nil, err
	}
	defer errOut.Close()
	c.cmd = exec.Command("ip", "netns", "exec", ns, "tshark", "-q", "-i", ifc, "-F", "pcap", "-w", file,
		"-f", "udp port 500 or udp port 4500")
	c.cmd.Stdout, c.cmd.Stderr = errOut, errOut
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { c.cmd.Wait(); close(c.exited) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		b, _ := os.ReadFile(c.errf)
		if bytes.Contains(b, []byte("Capturing on")) {
			// dumpcap says so a little before its filter is in place.
			time.Sleep(time.Second)
			return c, nil
		}
		select {
		case <-c.exited:
			return c, fmt.Errorf("tshark exited: %s", b)
		default:
		}
		if time.Now().After(deadline) {
			return c, fmt.Errorf("tshark did not start capturing: %s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends tshark by its PID: SIGINT (it then writes out the pcap),
// then SIGKILL after 5 s.
func (c *capture) stop() {
	if c != nil {
		stopProcess(c.cmd, c.exited, syscall.SIGINT)
	}
}

var errCapture = errors.New("the capture disagrees with what the engine sent and received")

// checkPcap reads tshark's libpcap file (Ethernet, IPv4, UDP) and checks
// that it holds exactly the recorded IKE messages, in the same order.
func checkPcap(file string, msgs []Msg) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	got, err := pcapIKE(b)
	if err != nil {
		return err
	}
	if len(got) != len(msgs) {
		var sizes []int
		for _, g := range got {
			sizes = append(sizes, len(g))
		}
		return fmt.Errorf("pcap has %d IKE messages (sizes %v), the engine saw %d", len(got), sizes, len(msgs))
	}
	for i, m := range msgs {
		if hex.EncodeToString(got[i]) != m.Hex {
			return fmt.Errorf("message %d differs between pcap and engine", i)
		}
	}
	return nil
}

// pcapIKE returns the IKE messages (UDP 500, or 4500 after the non-ESP
// marker) of a little-endian libpcap file with Ethernet link type.
func pcapIKE(b []byte) ([][]byte, error) {
	if len(b) < 24 || binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 || binary.LittleEndian.Uint32(b[20:]) != 1 {
		return nil, errors.New("not a little-endian Ethernet libpcap file")
	}
	var out [][]byte
	for p := b[24:]; len(p) > 0; {
		if len(p) < 16 {
			return nil, errors.New("truncated record header")
		}
		n := int(binary.LittleEndian.Uint32(p[8:]))
		if len(p) < 16+n {
			return nil, errors.New("truncated record")
		}
		frame := p[16 : 16+n]
		p = p[16+n:]
		if len(frame) < 14+20 || binary.BigEndian.Uint16(frame[12:]) != 0x0800 {
			continue
		}
		ip := frame[14:]
		ihl := int(ip[0]&0x0f) * 4
		if ip[9] != 17 || len(ip) < ihl+8 {
			continue
		}
		udp := ip[ihl:int(binary.BigEndian.Uint16(ip[2:]))]
		payload := udp[8:]
		sport, dport := binary.BigEndian.Uint16(udp), binary.BigEndian.Uint16(udp[2:])
		if sport == 4500 || dport == 4500 {
			if len(payload) < 4 || !bytes.Equal(payload[:4], []byte{0, 0, 0, 0}) {
				continue
			}
			payload = payload[4:]
		}
		out = append(out, payload)
	}
	return out, nil
}

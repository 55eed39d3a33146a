package netns

import (
	"bufio"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Capture is a tshark writing one interface of a namespace to a pcap file.
// It runs in its own process group so that its dumpcap child is stopped
// with it.
type Capture struct {
	t      testing.TB
	probe  func()        // sends a probe datagram from the namespace to probeTo
	pid    int           // of tshark, and of its process group
	seen   chan struct{} // closed at tshark's first packet summary
	exited chan struct{} // closed when tshark has exited and err is set
	err    error
	mu     sync.Mutex
	output strings.Builder // stdout and stderr; guarded by mu
}

// CaptureProbePort is the UDP discard port: datagrams to it mark the
// moment a capture is live; leave them out when reading the file.
const CaptureProbePort = 9

// StartCapture captures what filter selects on interface iface of
// namespace ns into file, and returns once a probe datagram sent from ns
// to probeTo has been seen: tshark says "Capturing on" before dumpcap
// really captures. Bounds: 30 s and 500 packets; Stop kills the process
// group if it has not finished 10 s after SIGINT, and the test's cleanup
// kills it if Stop was not called.
func (n *Net) StartCapture(t testing.TB, ns, iface, filter, probeTo, file string) *Capture {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", n.Name(ns),
		"tshark", "-n", "-l", "-P", "-i", iface,
		"-f", fmt.Sprintf("%s or udp port %d", filter, CaptureProbePort),
		"-a", "duration:30", "-c", "500", "-w", file)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting tshark: %v", err)
	}
	c := &Capture{t: t, pid: cmd.Process.Pid, seen: make(chan struct{}), exited: make(chan struct{})}
	c.probe = func() { n.Try(ns, "bash", "-c", fmt.Sprintf("echo probe >/dev/udp/%s/%d", probeTo, CaptureProbePort)) }
	var drained sync.WaitGroup
	drained.Add(2)
	go c.drain(stdout, c.seen, &drained)
	go c.drain(stderr, nil, &drained)
	go func() {
		drained.Wait() // Wait may only run once the pipes are read out
		c.err = cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(c.kill)

	deadline := time.Now().Add(15 * time.Second)
	for {
		c.probe()
		select {
		case <-c.seen:
			return c
		case <-c.exited:
			t.Fatalf("tshark exited before capturing (%v):\n%s", c.err, c.Text())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.kill()
			t.Fatalf("tshark captured no probe within 15 s:\n%s", c.Text())
		}
	}
}

// drain reads one of tshark's pipes so that it never blocks, closing
// first (if not nil) at the first line.
func (c *Capture) drain(r io.Reader, first chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	s := bufio.NewScanner(r)
	for s.Scan() {
		c.mu.Lock()
		c.output.WriteString(s.Text() + "\n")
		c.mu.Unlock()
		if first != nil {
			close(first)
			first = nil
		}
	}
}

// Text is what tshark printed so far.
func (c *Capture) Text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.output.String()
}

// Stop ends the capture with SIGINT, as at a terminal, so that the pcap
// file is complete. First it sends a probe and waits (up to 10 s) until
// tshark has shown it: packets are captured in order, so everything sent
// before Stop is then in the file. Without that, a loaded machine's
// dumpcap lagged behind the last ping and SIGINT cut it off.
func (c *Capture) Stop() {
	c.t.Helper()
	c.catchUp(10 * time.Second)
	syscall.Kill(-c.pid, syscall.SIGINT)
	select {
	case <-c.exited:
		if c.err != nil {
			c.t.Fatalf("tshark: %v\n%s", c.err, c.Text())
		}
	case <-time.After(10 * time.Second):
		c.kill()
		c.t.Fatalf("tshark did not stop within 10 s of SIGINT:\n%s", c.Text())
	}
}

// probeLine matches tshark's summary of a probe datagram ("UDP 48 33583 →
// 9 Len=6").
var probeLine = regexp.MustCompile(fmt.Sprintf(`UDP \d+ \d+ (→|->) %d Len=`, CaptureProbePort))

// catchUp sends probes until tshark shows one more than it had shown,
// within d; it says so in the test's log when tshark has not.
func (c *Capture) catchUp(d time.Duration) {
	before := len(probeLine.FindAllString(c.Text(), -1))
	deadline := time.Now().Add(d)
	for next := time.Now(); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case <-c.exited:
			return // ended by its own bounds: nothing more to wait for
		default:
		}
		if len(probeLine.FindAllString(c.Text(), -1)) > before {
			return
		}
		if time.Now().After(next) {
			c.probe()
			next = time.Now().Add(time.Second)
		}
	}
	c.t.Logf("tshark showed no closing probe within %v: the capture may lack the last packets", d)
}

// kill ends the capture's process group if it is still running.
func (c *Capture) kill() {
	select {
	case <-c.exited:
	default:
		syscall.Kill(-c.pid, syscall.SIGKILL)
		<-c.exited
	}
}

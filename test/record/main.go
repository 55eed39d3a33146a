// Command record runs IKEv2 exchanges between ipsecgw's IKE engine and
// strongSwan's charon in network namespaces and writes each one down as a
// transcript that ike/keymat's unit tests check key derivation against.
//
// It is run once by hand, as root, and its output is committed; it is not
// part of `make test`:
//
//	go run ./test/record -out ike/keymat/testdata/strongswan
//
// For every case it
//
//   - makes two namespaces joined by a veth pair (192.0.2.1 ipsecgw,
//     192.0.2.2 charon);
//   - starts Debian's charon in the second with its own strongswan.conf
//     (STRONGSWAN_CONF), vici socket and private /run, logging IKE and CHD
//     at level 4, where strongSwan writes its shared Diffie-Hellman secret,
//     SKEYSEED, SK_d, SK_ai, SK_ar, SK_ei, SK_er, SK_pi, SK_pr and the Child
//     SA's KEYMAT (Debian's 5.9.8 build has no save-keys plugin, so the log
//     is where its keys come from);
//   - captures UDP 500 and 4500 with tshark on charon's side of the link;
//   - runs ipsecgw's engine (ike/ikev2) in this process, its UDP sockets
//     opened inside the first namespace, as the initiator, with a
//     deterministic random source: SHA-256(seed || 64-bit big-endian block
//     counter) blocks, one after another. The transcript records the seed
//     and where in that stream the SPI, the key exchange's private value
//     and the nonce were drawn, so a test can rebuild the private value and
//     recompute g^ir from the peer's KE payload;
//   - writes <case>.json (messages as sent and received, seed, offsets,
//     proposals, PSK, swanctl --list-sas, the Child SA ipsecgw installed),
//     <case>.charon.log and <case>.pcap.
//
// Charon is stopped by its PID, tshark too, and the namespaces are
// removed when the case ends, whether it worked or not.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"ipsecgw/config/schema"
	"ipsecgw/daemon/resolve"
	"ipsecgw/ike"
	"ipsecgw/ike/ikev2"
	"ipsecgw/ike/wire"
	"ipsecgw/transform"
)

const (
	charonPath = "/usr/lib/ipsec/charon"
	// plugins is charon's load list: kernel-libipsec before kernel-netlink
	// (this kernel has no XFRM; see test/strongswan's package comment),
	// openssl for every algorithm, kdf for Debian 12's key derivation.
	plugins = "random nonce openssl kdf kernel-libipsec kernel-netlink socket-default vici"
)

var (
	gwAddr = netip.MustParseAddr("192.0.2.1")
	ssAddr = netip.MustParseAddr("192.0.2.2")
)

// recCase is one recorded exchange: one IKE and one ESP proposal, written
// both ways (ipsecgw's Junos keywords, strongSwan's proposal strings).
type recCase struct {
	Name                     string
	IKEEnc, IKEAuth, DHGroup string // ipsecgw [security ike proposal]
	ESPEnc, ESPAuth          string // ipsecgw [security ipsec proposal]
	SSIKE, SSESP             string // strongSwan proposals
	InboundSPI               uint32 // what ipsecgw's installer allocates
}

var cases = []recCase{
	{"aes256-sha256-modp2048", "aes-256-cbc", "sha-256", "group14", "aes-256-cbc", "hmac-sha-256-128",
		"aes256-sha256-modp2048", "aes256-sha256", 0xc0de0001},
	{"aes256gcm16-prfsha384-ecp384", "aes-256-gcm", "sha-384", "group20", "aes-256-gcm", "",
		"aes256gcm16-prfsha384-ecp384", "aes256gcm16", 0xc0de0002},
	{"aes128-sha256-x25519", "aes-128-cbc", "sha-256", "group31", "chacha20-poly1305", "",
		"aes128-sha256-x25519", "chacha20poly1305", 0xc0de0003},
}

func main() {
	out := flag.String("out", "ike/keymat/testdata/strongswan", "directory the transcripts are written to")
	only := flag.String("case", "", "record only this case")
	psk := flag.String("psk", "transcript-psk-0123456789", "the pre-shared key both sides use")
	flag.Parse()
	if os.Geteuid() != 0 {
		fatalf("record needs root (network namespaces, charon)")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fatalf("%v", err)
	}
	for _, c := range cases {
		if *only != "" && c.Name != *only {
			continue
		}
		fmt.Fprintf(os.Stderr, "== %s\n", c.Name)
		// A capture that missed packets is the one failure worth a
		// second try; anything else fails the same way again.
		err := record(c, *psk, *out)
		for try := 2; errors.Is(err, errCapture) && try <= 3; try++ {
			fmt.Fprintf(os.Stderr, "%s: %v; again (try %d)\n", c.Name, err, try)
			err = record(c, *psk, *out)
		}
		if err != nil {
			fatalf("%s: %v", c.Name, err)
		}
	}
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "record: "+format+"\n", a...)
	os.Exit(1)
}

// run runs a command with a bound and returns its combined output.
func run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
	if err != nil {
		err = fmt.Errorf("%s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), err
}

// Transcript is what one case writes as JSON; ike/keymat's test reads the
// same fields.
type Transcript struct {
	Description  string `json:"description"`
	StrongSwan   string `json:"strongswan"`
	Go           string `json:"go"`
	Recorded     string `json:"recorded"`
	SSProposal   string `json:"strongswan_ike_proposal"`
	SSESP        string `json:"strongswan_esp_proposal"`
	IPsecgwIKE   string `json:"ipsecgw_ike_proposal"`
	IPsecgwESP   string `json:"ipsecgw_ipsec_proposal"`
	PSK          string `json:"psk"`
	Initiator    string `json:"initiator"`
	Responder    string `json:"responder"`
	Rand         Rand   `json:"rand"`
	Messages     []Msg  `json:"messages"`
	CharonLog    string `json:"charon_log"`
	Pcap         string `json:"pcap"`
	ListSAs      string `json:"strongswan_list_sas"`
	IPsecgwChild Child  `json:"ipsecgw_child_sa"`
}

// Rand describes ipsecgw's deterministic random source and where the
// engine drew its values from it.
type Rand struct {
	Algorithm string `json:"algorithm"`
	Seed      string `json:"seed"`
	// Reads are the engine's Read calls, in order: offset and length.
	Reads [][2]int64 `json:"reads"`
	// Offsets of the initiator's SPI, the key exchange's private value
	// (where NewKeyExchange started reading) and Ni in the stream.
	SPIOffset   int64 `json:"spi_offset"`
	KEOffset    int64 `json:"key_exchange_offset"`
	NonceOffset int64 `json:"nonce_offset"`
}

// Msg is one IKE message as it crossed the wire, without the non-ESP
// marker on port 4500.
type Msg struct {
	From string `json:"from"`
	To   string `json:"to"`
	Hex  string `json:"hex"`
}

// Child is the Child SA ipsecgw's engine handed its installer.
type Child struct {
	InboundSPI         string `json:"inbound_spi"`
	OutboundSPI        string `json:"outbound_spi"`
	Encryption         string `json:"encryption"`
	Integrity          string `json:"integrity,omitempty"`
	InboundEncryption  string `json:"inbound_encryption_key"`
	InboundIntegrity   string `json:"inbound_integrity_key,omitempty"`
	OutboundEncryption string `json:"outbound_encryption_key"`
	OutboundIntegrity  string `json:"outbound_integrity_key,omitempty"`
	UDPEncapsulation   bool   `json:"udp_encapsulation"`
}

// stream is the deterministic random source: SHA-256(seed || counter)
// blocks concatenated. It logs every read.
type stream struct {
	mu    sync.Mutex
	seed  []byte
	block uint64
	buf   []byte
	off   int64
	reads [][2]int64
}

func (s *stream) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads = append(s.reads, [2]int64{s.off, int64(len(p))})
	for i := range p {
		if len(s.buf) == 0 {
			h := sha256.New()
			h.Write(s.seed)
			h.Write(binary.BigEndian.AppendUint64(nil, s.block))
			s.buf = h.Sum(nil)
			s.block++
		}
		p[i] = s.buf[0]
		s.buf = s.buf[1:]
	}
	s.off += int64(len(p))
	return len(p), nil
}

// at returns a fresh stream of the same seed positioned at off.
func (s *stream) at(off int64) *stream {
	r := &stream{seed: s.seed}
	if _, err := io.CopyN(io.Discard, r, off); err != nil {
		panic(err)
	}
	return r
}

// transport is ipsecgw's UDP: sockets on 500 and 4500 opened inside the
// gateway's namespace. It records every IKE message both ways.
type transport struct {
	conns map[uint16]*net.UDPConn
	mu    sync.Mutex
	msgs  []Msg
}

func (t *transport) note(b []byte, from, to netip.AddrPort) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.msgs = append(t.msgs, Msg{From: from.String(), To: to.String(), Hex: hex.EncodeToString(b)})
}

func (t *transport) Send(msg []byte, from, to netip.AddrPort) error {
	c := t.conns[from.Port()]
	if c == nil {
		return fmt.Errorf("no socket on port %d", from.Port())
	}
	t.note(msg, from, to)
	b := msg
	if from.Port() == 4500 {
		b = append([]byte{0, 0, 0, 0}, msg...) // non-ESP marker (RFC 3948)
	}
	_, err := c.WriteToUDPAddrPort(b, to)
	return err
}

// listen opens the sockets inside the namespace: a locked thread enters it,
// makes them and ends with its goroutine (the thread is not reused).
func listen(nsName string) (*transport, error) {
	type result struct {
		t   *transport
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with us
		f, err := os.Open("/run/netns/" + nsName)
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{err: fmt.Errorf("setns %s: %w", nsName, err)}
			return
		}
		t := &transport{conns: map[uint16]*net.UDPConn{}}
		for _, port := range []uint16{500, 4500} {
			c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(gwAddr, port)))
			if err != nil {
				ch <- result{err: err}
				return
			}
			t.conns[port] = c
		}
		ch <- result{t: t}
	}()
	r := <-ch
	return r.t, r.err
}

func (t *transport) serve(e *ikev2.Engine) {
	for port, c := range t.conns {
		go func() {
			buf := make([]byte, 65536)
			for {
				n, from, err := c.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				b := buf[:n]
				if port == 4500 {
					if n < 4 || !bytes.Equal(b[:4], []byte{0, 0, 0, 0}) {
						continue // ESP in UDP or a keepalive
					}
					b = b[4:]
				}
				from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
				to := netip.AddrPortFrom(gwAddr, port)
				t.note(b, from, to)
				e.HandleMessage(append([]byte(nil), b...), from, to)
			}
		}()
	}
}

func (t *transport) close() {
	for _, c := range t.conns {
		c.Close()
	}
}

// installer hands out one SPI and keeps the Child SA it is given.
type installer struct {
	spi  uint32
	mu   sync.Mutex
	got  *ike.ChildSA
	done chan struct{}
}

func (i *installer) AllocateSPI() (uint32, error) { return i.spi, nil }

func (i *installer) InstallChild(vpn string, c *ike.ChildSA) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.got == nil {
		cp := *c
		cp.Inbound.Encryption = append([]byte(nil), c.Inbound.Encryption...)
		cp.Inbound.Integrity = append([]byte(nil), c.Inbound.Integrity...)
		cp.Outbound.Encryption = append([]byte(nil), c.Outbound.Encryption...)
		cp.Outbound.Integrity = append([]byte(nil), c.Outbound.Integrity...)
		i.got = &cp
		close(i.done)
	}
	return nil
}

func (i *installer) RemoveChild(string, *ike.ChildSA) {}

// charon is one running charon.
type charon struct {
	dir    string
	socket string
	cmd    *exec.Cmd
	exited chan struct{}
}

func (c *charon) conf() string { return filepath.Join(c.dir, "strongswan.conf") }

func startCharon(ns string, rc recCase, psk string) (*charon, error) {
	dir, err := os.MkdirTemp("", "igwrec-")
	if err != nil {
		return nil, err
	}
	c := &charon{dir: dir, socket: filepath.Join(dir, "vici"), exited: make(chan struct{})}
	// swanctl reads credentials from these directories beside swanctl.conf
	// and reports "failed" for each one missing.
	for _, d := range []string{"x509", "x509ca", "x509ocsp", "x509aa", "x509ac", "x509crl", "pubkey", "private", "rsa", "ecdsa", "bliss", "pkcs8", "pkcs12"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	conf := fmt.Sprintf(`# strongswan.conf written by ipsecgw/test/record
charon {
  load_modular = no
  load = %s
  retransmit_tries = 2
  plugins {
    vici {
      socket = unix://%s
    }
  }
  filelog {
    rec {
      path = %s
      append = no
      flush_line = yes
      time_format = %%H:%%M:%%S
      time_add_ms = yes
      ike_name = yes
      default = 1
      ike = 4
      chd = 4
      cfg = 2
      knl = 1
      net = 1
    }
  }
}
swanctl {
  load = random nonce openssl
}
`, plugins, c.socket, filepath.Join(dir, "charon.log"))
	swanctl := fmt.Sprintf(`# swanctl.conf written by ipsecgw/test/record
connections {
  rec {
    version = 2
    local_addrs = %[1]s
    remote_addrs = %[2]s
    proposals = %[3]s
    local {
      auth = psk
      id = %[1]s
    }
    remote {
      auth = psk
      id = %[2]s
    }
    children {
      net {
        local_ts = 198.18.2.0/24
        remote_ts = 198.18.1.0/24
        esp_proposals = %[4]s
        start_action = none
      }
    }
  }
}
secrets {
  ike-rec {
    id-1 = %[1]s
    id-2 = %[2]s
    secret = "%[5]s"
  }
}
`, ssAddr, gwAddr, rc.SSIKE, rc.SSESP, psk)
	for _, f := range []struct{ name, text string }{{"strongswan.conf", conf}, {"swanctl.conf", swanctl}} {
		if err := os.WriteFile(filepath.Join(dir, f.name), []byte(f.text), 0o600); err != nil {
			return nil, err
		}
	}
	out, err := os.Create(filepath.Join(dir, "charon.out"))
	if err != nil {
		return nil, err
	}
	defer out.Close()
	c.cmd = exec.Command("ip", "netns", "exec", ns, "unshare", "--mount", "--propagation", "private",
		"sh", "-c", `mount -t tmpfs -o mode=0755,size=4m tmpfs /run && { [ -L /var/run ] || mount -t tmpfs -o mode=0755,size=4m tmpfs /var/run; } && exec "$0"`,
		charonPath)
	c.cmd.Env = append(os.Environ(), "STRONGSWAN_CONF="+c.conf())
	c.cmd.Stdout, c.cmd.Stderr, c.cmd.Dir = out, out, dir
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { c.cmd.Wait(); close(c.exited) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if conn, err := net.DialTimeout("unix", c.socket, time.Second); err == nil {
			conn.Close()
			break
		}
		select {
		case <-c.exited:
			return c, fmt.Errorf("charon exited before its vici socket appeared")
		default:
		}
		if time.Now().After(deadline) {
			return c, fmt.Errorf("no vici socket after 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if o, err := c.swanctl("--load-all", "--noprompt", "--file", filepath.Join(dir, "swanctl.conf")); err != nil ||
		strings.Contains(o, "failed") || strings.Contains(o, "ignored") {
		return c, fmt.Errorf("swanctl --load-all: %v\n%s", err, o)
	}
	return c, nil
}

func (c *charon) swanctl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "swanctl", append(args, "--uri", "unix://"+c.socket)...)
	cmd.Env = append(os.Environ(), "STRONGSWAN_CONF="+c.conf())
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// stop ends charon by its PID: SIGTERM, then SIGKILL after 5 s.
func (c *charon) stop() {
	if c == nil || c.cmd == nil || c.cmd.Process == nil {
		return
	}
	select {
	case <-c.exited:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

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

func (c *capture) stop() {
	if c == nil || c.cmd == nil || c.cmd.Process == nil {
		return
	}
	select {
	case <-c.exited:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.exited:
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

func record(rc recCase, psk, outDir string) (err error) {
	prefix := fmt.Sprintf("igwrec%d-", os.Getpid()%100000)
	gwNS, ssNS := prefix+"gw", prefix+"ss"
	var nss []string
	var ch *charon
	var capt *capture
	defer func() {
		capt.stop()
		ch.stop()
		for _, ns := range nss {
			_, _ = run("ip", "netns", "del", ns)
		}
		if ch != nil && err != nil {
			b, _ := os.ReadFile(filepath.Join(ch.dir, "charon.log"))
			fmt.Fprintf(os.Stderr, "--- charon log ---\n%s\n", tail(string(b), 60))
		}
		if ch != nil && err == nil {
			os.RemoveAll(ch.dir)
		}
	}()
	for _, ns := range []string{gwNS, ssNS} {
		if _, err := run("ip", "netns", "add", ns); err != nil {
			return err
		}
		nss = append(nss, ns)
		if _, err := run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"); err != nil {
			return err
		}
	}
	steps := [][]string{
		{"ip", "link", "add", "rec0", "netns", gwNS, "type", "veth", "peer", "name", "rec1", "netns", ssNS},
		{"ip", "netns", "exec", gwNS, "ip", "addr", "add", gwAddr.String() + "/24", "dev", "rec0"},
		{"ip", "netns", "exec", ssNS, "ip", "addr", "add", ssAddr.String() + "/24", "dev", "rec1"},
		// libipsec routes from an address inside its local traffic selector.
		{"ip", "netns", "exec", ssNS, "ip", "addr", "add", "198.18.2.1/32", "dev", "lo"},
		{"ip", "netns", "exec", gwNS, "ip", "link", "set", "rec0", "up"},
		{"ip", "netns", "exec", ssNS, "ip", "link", "set", "rec1", "up"},
	}
	for _, s := range steps {
		if _, err := run(s...); err != nil {
			return err
		}
	}

	if ch, err = startCharon(ssNS, rc, psk); err != nil {
		return fmt.Errorf("charon: %w", err)
	}
	pcapTmp := filepath.Join(ch.dir, "ike.pcap")
	if capt, err = startCapture(ssNS, "rec1", pcapTmp, ch.dir); err != nil {
		return fmt.Errorf("capture: %w", err)
	}

	tr, err := listen(gwNS)
	if err != nil {
		return err
	}
	defer tr.close()
	seed := sha256.Sum256([]byte("ipsecgw transcript " + rc.Name))
	rnd := &stream{seed: seed[:]}
	inst := &installer{spi: rc.InboundSPI, done: make(chan struct{})}
	failed := make(chan string, 4)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	eng := ikev2.NewEngine(ike.Config{Logger: logger, Transport: tr, Installer: inst, Rand: rnd,
		Events: func(ev ike.Event) {
			if ev.Kind == ike.NegotiationFailed || ev.Kind == ike.IKEDown {
				select {
				case failed <- ev.Failure.Message:
				default:
				}
			}
		}})
	ikeProps, err := resolve.IKEv2Proposals([]*schema.IKEProposal{{Name: "rec", AuthenticationMethod: "pre-shared-keys",
		DHGroup: rc.DHGroup, AuthenticationAlgorithm: rc.IKEAuth, EncryptionAlgorithm: rc.IKEEnc}})
	if err != nil {
		return err
	}
	espProps, err := resolve.IKEv2ESPProposals([]*schema.IPsecProposal{{Name: "rec", Protocol: "esp", EncryptionAlgorithm: rc.ESPEnc,
		AuthenticationAlgorithm: rc.ESPAuth}})
	if err != nil {
		return err
	}
	ts := func(p string) []netip.Prefix { return []netip.Prefix{netip.MustParsePrefix(p)} }
	if err := eng.AddPeer(&ike.Peer{Gateway: "rec", VPN: "rec", Local: gwAddr, Remote: ssAddr, PSK: []byte(psk),
		IKEProposals: ikeProps, ESPProposals: espProps,
		Selectors:    []ike.Selectors{{Local: ts("198.18.1.0/24"), Remote: ts("198.18.2.0/24")}},
		NATTraversal: true}); err != nil {
		return err
	}
	tr.serve(eng)
	if err := eng.Initiate(ssAddr); err != nil {
		return err
	}
	select {
	case <-inst.done:
	case r := <-failed:
		return fmt.Errorf("negotiation failed: %s", r)
	case <-time.After(20 * time.Second):
		return fmt.Errorf("no Child SA after 20 s")
	}
	time.Sleep(300 * time.Millisecond)
	listSAs, err := ch.swanctl("--list-sas", "--noblock")
	if err != nil {
		return fmt.Errorf("swanctl --list-sas: %v\n%s", err, listSAs)
	}
	// The engine's DELETE and charon's answer end the transcript.
	eng.Close()
	time.Sleep(time.Second)
	capt.stop()
	ch.stop()

	t := Transcript{
		Description: "IKEv2 between ipsecgw's engine (initiator, deterministic random source) and strongSwan's charon " +
			"(responder), recorded by test/record; strongSwan's keys are in its level-4 IKE/CHD log",
		StrongSwan: strongswanVersion(),
		Go:         runtime.Version(),
		Recorded:   time.Now().UTC().Format(time.RFC3339),
		SSProposal: rc.SSIKE, SSESP: rc.SSESP,
		IPsecgwIKE: fmt.Sprintf("encryption-algorithm %s authentication-algorithm %s dh-group %s", rc.IKEEnc, rc.IKEAuth, rc.DHGroup),
		IPsecgwESP: strings.TrimSpace(fmt.Sprintf("protocol esp encryption-algorithm %s authentication-algorithm %s", rc.ESPEnc, rc.ESPAuth)),
		PSK:        psk,
		Initiator:  gwAddr.String(), Responder: ssAddr.String(),
		ListSAs:   listSAs,
		CharonLog: rc.Name + ".charon.log",
		Pcap:      rc.Name + ".pcap",
	}
	if rc.ESPAuth == "" {
		t.IPsecgwESP = fmt.Sprintf("protocol esp encryption-algorithm %s", rc.ESPEnc)
	}
	tr.mu.Lock()
	t.Messages = append([]Msg(nil), tr.msgs...)
	tr.mu.Unlock()
	rnd.mu.Lock()
	t.Rand = Rand{Algorithm: "SHA-256(seed || uint64 big-endian block counter from 0), blocks concatenated",
		Seed: hex.EncodeToString(seed[:]), Reads: append([][2]int64(nil), rnd.reads...)}
	rnd.mu.Unlock()
	if err := locate(&t.Rand, rnd, t.Messages[0]); err != nil {
		return err
	}
	c := inst.got
	t.IPsecgwChild = Child{InboundSPI: fmt.Sprintf("%08x", c.InboundSPI), OutboundSPI: fmt.Sprintf("%08x", c.OutboundSPI),
		Encryption: c.Encryption.String(), InboundEncryption: hex.EncodeToString(c.Inbound.Encryption),
		OutboundEncryption: hex.EncodeToString(c.Outbound.Encryption), UDPEncapsulation: c.UDPEncapsulation}
	if c.Integrity != nil {
		t.IPsecgwChild.Integrity = c.Integrity.String()
		t.IPsecgwChild.InboundIntegrity = hex.EncodeToString(c.Inbound.Integrity)
		t.IPsecgwChild.OutboundIntegrity = hex.EncodeToString(c.Outbound.Integrity)
	}
	if err := checkPcap(pcapTmp, t.Messages); err != nil {
		return fmt.Errorf("%w: %v", errCapture, err)
	}
	js, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(outDir, rc.Name+".json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	for _, f := range []struct{ from, to string }{{filepath.Join(ch.dir, "charon.log"), t.CharonLog}, {pcapTmp, t.Pcap}} {
		b, err := os.ReadFile(f.from)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(outDir, f.to), b, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "wrote %s: %d messages\n", filepath.Join(outDir, rc.Name+".json"), len(t.Messages))
	return nil
}

// locate finds where in the stream the IKE_SA_INIT request's SPI, key
// exchange private value and nonce came from, by trying the engine's read
// offsets.
func locate(r *Rand, s *stream, first Msg) error {
	b, err := hex.DecodeString(first.Hex)
	if err != nil {
		return err
	}
	msg, err := wire.Parse(b)
	if err != nil {
		return err
	}
	ke, okKE := wire.Find[*wire.KE](msg.Payloads)
	nonce, okN := wire.Find[*wire.Nonce](msg.Payloads)
	if msg.Header.Exchange != wire.IKE_SA_INIT || !okKE || !okN {
		return fmt.Errorf("the first message is not an IKE_SA_INIT request with KE and nonce")
	}
	group, ok := wire.Transform{Type: transform.TypeKE, ID: ke.Group}.Lookup()
	if !ok {
		return fmt.Errorf("unknown group %d", ke.Group)
	}
	found := 0
	for _, rd := range r.Reads {
		off := rd[0]
		buf := make([]byte, 32)
		if _, err := io.ReadFull(s.at(off), buf); err != nil {
			return err
		}
		if bytes.Equal(buf[:8], binary.BigEndian.AppendUint64(nil, msg.Header.InitiatorSPI)) && rd[1] == 8 && found&1 == 0 {
			r.SPIOffset, found = off, found|1
		}
		if bytes.Equal(buf, nonce.Data) && found&4 == 0 {
			r.NonceOffset, found = off, found|4
		}
		if found&2 == 0 {
			kex, err := group.NewKeyExchange(s.at(off))
			if err == nil && bytes.Equal(kex.PublicKey(), ke.Data) {
				r.KEOffset, found = off, found|2
			}
		}
	}
	if found != 7 {
		return fmt.Errorf("could not find SPI, private value and nonce in the random stream (found mask %d)", found)
	}
	return nil
}

var errCapture = errors.New("the capture disagrees with what the engine sent and received")

var versionRE = regexp.MustCompile(`strongswan-charon\s+(\S+)`)

func strongswanVersion() string {
	out, err := run("dpkg-query", "-W", "strongswan-charon")
	if m := versionRE.FindStringSubmatch(out); err == nil && m != nil {
		return "strongSwan " + m[1] + " (Debian strongswan-charon)"
	}
	return "strongSwan (version unknown)"
}

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

func tail(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}

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
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"ipsecgw/config/schema"
	"ipsecgw/daemon/resolve"
	"ipsecgw/ike"
	"ipsecgw/ike/ikev2"
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

func tail(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}

// stopProcess ends a program this command started, by its PID: sig, then
// SIGKILL after 5 s; exited is closed when it has been waited for.
func stopProcess(cmd *exec.Cmd, exited <-chan struct{}, sig syscall.Signal) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	select {
	case <-exited:
		return
	default:
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

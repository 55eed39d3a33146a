package ikev2

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/cryptotest"
	"time"

	"ipsecgw/clock"
	"ipsecgw/ike/wire"
)

var updateTranscripts = flag.Bool("update", false, "rewrite the recorded IKE transcripts under testdata/")

// TestTranscriptMLKEMPPKFollowup records every IKE message two engines
// exchange, x25519 then ADDKE1 ML-KEM-768 in IKE_INTERMEDIATE with a PPK
// in IKE_AUTH, then a Child SA rekey with perfect forward secrecy and
// ML-KEM-1024 in IKE_FOLLOWUP_KE, and compares them with the transcript in
// testdata: each message's header, its payload chain in the clear and,
// decrypted with the sender's keys at the moment it sent it, inside SK,
// each payload's type and length (and a Notify's type), and a digest of
// its bytes. The randomness (SPIs, nonces, key shares, ML-KEM, IVs,
// lifetime jitter) comes from testing/cryptotest's deterministic source,
// so the bytes are the same run after run. go test -run
// TestTranscript -update rewrites the transcript after a deliberate
// change of the wire.
func TestTranscriptMLKEMPPKFollowup(t *testing.T) {
	cryptotest.SetGlobalRandom(t, 9370)
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	extra := addKEConf("mlkem768") + ppkConf("id1", ppkA, true) +
		// Whole messages: RFC 7383 fragments are another file's concern.
		"set security ike gateway gw fragmentation disable\n" +
		"set security ipsec proposal ip1 lifetime-seconds 180\n" +
		"set security ipsec policy ipol perfect-forward-secrecy keys group31\n" +
		"set security ipsec policy ipol perfect-forward-secrecy additional-key-exchange ke1 mlkem1024\n"
	a, ia, _ := newSide(t, side{me: 1, peer: 2, group: "group31", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", extra: extra, clock: clk}, p)
	b, _, _ := newSide(t, side{me: 2, peer: 1, group: "group31", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", extra: extra, clock: clk}, p)
	defer func() { a.Close(); p.wg.Wait(); b.Close() }()
	var got strings.Builder
	n := 0
	p.tap = func(msg []byte, from, to netip.AddrPort) {
		n++
		e := p.engines[from.Addr()] // the tap runs under p.mu
		fmt.Fprintf(&got, "#%d %s -> %s\n%s", n, from.Addr(), to.Addr(), describeMessage(e, msg))
	}
	if err := a.Initiate(netip.MustParseAddr("192.0.2.2")); err != nil {
		t.Fatal(err)
	}
	waitUp(t, a)
	waitUp(t, b)
	p.wg.Wait()
	// Past the Child SA's soft lifetime, a second at a time so each
	// step's exchanges finish before the next.
	for i := 0; i < 165 && len(ia.get()) < 2; i++ {
		clk.Advance(time.Second)
		p.wg.Wait()
	}
	// The old Child SA's deletion follows the rekey.
	for i := 0; i < 5; i++ {
		clk.Advance(time.Second)
		p.wg.Wait()
	}
	if len(ia.get()) != 2 {
		t.Fatalf("no Child SA rekey: %d installed", len(ia.get()))
	}
	p.mu.Lock()
	p.tap = nil
	p.mu.Unlock()

	path := filepath.Join("testdata", "transcript-x25519-mlkem768-ppk-followup.txt")
	if *updateTranscripts {
		if err := os.WriteFile(path, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -run %s -update writes it)", err, t.Name())
	}
	if d := firstDifference(string(want), got.String()); d != "" {
		t.Fatalf("the IKE messages differ from %s (go test -run %s -update after a deliberate change):\n%s", path, t.Name(), d)
	}
}

// describeMessage is one message's transcript entry. e is the sending
// engine, whose goroutine holds its lock while it sends: its SA's
// outbound keys are the ones that sealed the message.
func describeMessage(e *Engine, b []byte) string {
	var s strings.Builder
	msg, err := wire.Parse(b)
	if err != nil {
		return fmt.Sprintf("  unparseable: %v\n", err)
	}
	h := msg.Header
	dir := "request"
	if h.IsResponse() {
		dir = "response"
	}
	fmt.Fprintf(&s, "  %s %s flags=%s msgid=%d spi=%016x/%016x len=%d sha256=%x\n",
		h.Exchange, dir, h.Flags, h.MessageID, h.InitiatorSPI, h.ResponderSPI, len(b), sha256.Sum256(b))
	first := wire.PayloadType(b[16])
	s.WriteString("  clear:" + describeChain(first, b[wire.HeaderLen:]) + "\n")
	if sk, ok := wire.Find[*wire.Encrypted](msg.Payloads); ok {
		spi := h.InitiatorSPI
		if !h.FromInitiator() {
			spi = h.ResponderSPI
		}
		sa := e.sas[spi]
		if sa == nil || sa.out == nil {
			return s.String() + "  inner: no SA to open it with\n"
		}
		cp, _ := wire.Parse(append([]byte(nil), b...))
		r, err := cp.Regions(sa.out.sizes())
		if err != nil {
			return s.String() + fmt.Sprintf("  inner: %v\n", err)
		}
		plain, err := sa.out.openRegions(r)
		if err == nil {
			plain, err = wire.TrimPadding(plain)
		}
		if err != nil {
			return s.String() + fmt.Sprintf("  inner: %v\n", err)
		}
		s.WriteString("  inner:" + describeChain(sk.First, plain) + "\n")
	}
	return s.String()
}

// describeChain lists a payload chain starting with type first: each
// payload's type and length, a Notify's type too.
func describeChain(first wire.PayloadType, b []byte) string {
	var s strings.Builder
	for t := first; t != 0; {
		if len(b) < 4 {
			return s.String() + " truncated"
		}
		l := int(binary.BigEndian.Uint16(b[2:4]))
		if l < 4 || l > len(b) {
			return s.String() + fmt.Sprintf(" bad-length(%d)", l)
		}
		fmt.Fprintf(&s, " %s(%d)", t, l)
		if t == wire.PayloadNotify && l >= 8 {
			s.WriteString("[" + wire.NotifyType(binary.BigEndian.Uint16(b[6:8])).String() + "]")
		}
		if t == wire.PayloadSK || t == wire.PayloadSKF {
			break // the rest is ciphertext
		}
		t, b = wire.PayloadType(b[0]), b[l:]
	}
	return s.String()
}

// firstDifference is "" when want and got are equal, else the first line
// that differs with the line before it.
func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			prev := ""
			if i > 0 && i-1 < len(g) {
				prev = g[i-1]
			}
			return fmt.Sprintf("line %d, after %q:\nwant %q\n got %q", i+1, prev, wl, gl)
		}
	}
	if !bytes.Equal([]byte(want), []byte(got)) {
		return "trailing bytes differ"
	}
	return ""
}

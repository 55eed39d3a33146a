package esp

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"ipsecgw/transform"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex in test vector: %v", err)
	}
	return b
}

func lookup(t testing.TB, typ transform.Type, id transform.ID, bits int) *transform.Transform {
	t.Helper()
	row, ok := transform.Lookup(typ, id, bits)
	if !ok {
		t.Fatalf("no transform %s %d/%d", typ, id, bits)
	}
	return row
}

// suiteCase is one cipher (and integrity) combination.
type suiteCase struct {
	name  string
	enc   *transform.Transform
	integ *transform.Transform
}

// allSuites is every working combination: each AEAD alone, each CBC cipher
// with each HMAC.
func allSuites(t testing.TB) []suiteCase {
	var aeads, cbcs, macs []*transform.Transform
	for _, row := range transform.All() {
		switch {
		case row.Type == transform.TypeENCR && row.IsAEAD():
			aeads = append(aeads, row)
		case row.Type == transform.TypeENCR && row.IsCBC():
			cbcs = append(cbcs, row)
		case row.Type == transform.TypeINTEG:
			macs = append(macs, row)
		}
	}
	var out []suiteCase
	for _, e := range aeads {
		out = append(out, suiteCase{e.Display, e, nil})
	}
	for _, e := range cbcs {
		for _, m := range macs {
			out = append(out, suiteCase{e.Display + "+" + m.Display, e, m})
		}
	}
	if len(out) < 3+4*6 {
		t.Fatalf("only %d suites in the table", len(out))
	}
	return out
}

// keyBytes makes deterministic key material of n bytes, different per seed.
func keyBytes(n int, seed byte) []byte {
	k := make([]byte, n)
	for i := range k {
		k[i] = seed + byte(i*13)
	}
	return k
}

func testConfig(sc suiteCase, esn bool) Config {
	cfg := Config{
		SPI:           0x1000abcd,
		Encryption:    sc.enc,
		EncryptionKey: keyBytes(sc.enc.KeyMaterialSize(), 1),
		Integrity:     sc.integ,
		ESN:           esn,
	}
	if sc.integ != nil {
		cfg.IntegrityKey = keyBytes(sc.integ.KeySize(), 2)
	}
	return cfg
}

func newPair(t testing.TB, cfg Config) (*Outbound, *Inbound) {
	t.Helper()
	out, err := NewOutbound(cfg)
	if err != nil {
		t.Fatal(err)
	}
	in, err := NewInbound(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out, in
}

// sealCopy seals inner in a fresh buffer with exactly the room the SA asks
// for, plus some outer headroom, and returns the ESP packet.
func sealCopy(t testing.TB, sa *Outbound, inner []byte, nextHeader byte) []byte {
	t.Helper()
	const outer = 28 // room an IPv4 + UDP header would take
	off := outer + sa.Headroom()
	buf := make([]byte, off+len(inner), off+len(inner)+sa.Tailroom())
	copy(buf[off:], inner)
	pkt, err := sa.Seal(buf, off, nextHeader)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if len(pkt) != len(inner)+sa.Overhead(len(inner)) {
		t.Fatalf("Seal made %d bytes, Overhead promised %d+%d", len(pkt), len(inner), sa.Overhead(len(inner)))
	}
	if &pkt[0] != &buf[outer] {
		t.Fatalf("Seal did not work in place")
	}
	return pkt
}

func innerPacket(n int, nextHeader byte) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*7 + 3)
	}
	if n > 0 {
		p[0] = 0x45
		if nextHeader == NextHeaderIPv6 {
			p[0] = 0x60
		}
	}
	return p
}

func mustEqual(t testing.TB, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s:\n got %x\nwant %x", what, got, want)
	}
}

package v1

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"net/netip"
	"testing"
)

// The Quick Mode recipe: reserve HASH(1), encode the rest, compute the
// HASH over the Message ID and the payloads after it, patch it in; the
// receiver finds the same bytes with RawAfter.
func TestQuickModeHashBackPatch(t *testing.T) {
	key := pattern(0x11, 20)
	const mid = 0xe2997aed
	c, err := BuildChain(quickModeChain())
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha1.New, key)
	mac.Write(binary.BigEndian.AppendUint32(nil, mid))
	mac.Write(c.RawAfter(0))
	sum := mac.Sum(nil)
	if err := c.SetHash(0, sum); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c.Bytes()[genericHeaderLen:genericHeaderLen+20], sum) {
		t.Fatal("SetHash did not patch the encoded chain")
	}

	plaintext := append(bytes.Clone(c.Bytes()), make([]byte, 7)...) // padding to the block
	got, err := ParseDecrypted(PayloadHash, plaintext)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Padding) != 7 {
		t.Fatalf("padding %d bytes, want 7", len(got.Padding))
	}
	mac.Reset()
	mac.Write(binary.BigEndian.AppendUint32(nil, mid))
	mac.Write(got.RawAfter(0))
	if h := got.Payloads[0].(*Hash); !hmac.Equal(h.Data, mac.Sum(nil)) {
		t.Fatal("receiver's HASH(1) differs")
	}
	if _, err := ParseChain(PayloadHash, plaintext); err == nil {
		t.Fatal("ParseChain accepted padding")
	}

	if err := c.SetHash(1, sum); err == nil {
		t.Fatal("SetHash patched an SA payload")
	}
	if err := c.SetHash(0, sum[:16]); err == nil {
		t.Fatal("SetHash took a digest of the wrong size")
	}
}

func TestMarshalEncrypted(t *testing.T) {
	h := Header{InitiatorCookie: 1, ResponderCookie: 2, Exchange: MainMode}
	body := pattern(0, 32)
	b, err := MarshalEncrypted(h, PayloadID, body)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != HeaderLen+32 || binary.BigEndian.Uint32(b[offsetLength:]) != uint32(len(b)) {
		t.Fatalf("%d bytes, Length %d", len(b), binary.BigEndian.Uint32(b[offsetLength:]))
	}
	m := mustParse(t, b)
	if !m.Header.Encrypted() || m.Header.NextPayload != PayloadID || !bytes.Equal(m.Encrypted, body) || m.Payloads != nil {
		t.Fatalf("parsed %+v", m)
	}
	if _, err := (&Message{Header: Header{Flags: FlagEncryption}, Chain: Chain{Payloads: []Payload{&Hash{}}}}).Marshal(); err == nil {
		t.Fatal("Marshal put plaintext payloads in an encrypted message")
	}
}

func TestIdentificationHelpers(t *testing.T) {
	for _, s := range []string{"198.51.100.0/25", "0.0.0.0/0", "192.0.2.7/32", "2001:db8::/32", "::/0", "2001:db8::1/128"} {
		p := netip.MustParsePrefix(s)
		id := IDFromPrefix(p)
		got, ok := id.Prefix()
		if !ok || got != p {
			t.Errorf("%s: %v → %v %v", s, id, got, ok)
		}
	}
	if id := IDFromPrefix(netip.MustParsePrefix("::ffff:198.51.100.0/120")); id.Type != ID_IPV4_ADDR_SUBNET || id.String() != "198.51.100.0/24" {
		t.Errorf("IPv4-mapped prefix: %v", id)
	}
	for name, id := range map[string]Identification{
		"holes in mask":  {Type: ID_IPV4_ADDR_SUBNET, Data: []byte{10, 0, 0, 0, 255, 0, 255, 0}},
		"bits past mask": {Type: ID_IPV4_ADDR_SUBNET, Data: []byte{10, 0, 0, 1, 255, 255, 255, 0}},
		"odd mask byte":  {Type: ID_IPV4_ADDR_SUBNET, Data: []byte{10, 0, 0, 0, 255, 0xf1, 0, 0}},
		"FQDN":           {Type: ID_FQDN, Data: []byte("x")},
	} {
		if p, ok := id.Prefix(); ok {
			t.Errorf("%s: Prefix %v", name, p)
		}
	}
	if p, ok := (Identification{Type: ID_IPV4_ADDR, Data: []byte{192, 0, 2, 1}}).Prefix(); !ok || p.String() != "192.0.2.1/32" {
		t.Errorf("host ID as prefix: %v %v", p, ok)
	}
	a, b := netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("198.51.100.9")
	id, err := IDFromRange(a, b)
	if first, last, ok := id.Range(); err != nil || !ok || first != a || last != b {
		t.Errorf("range: %v %v %v %v", first, last, ok, err)
	}
	if _, err := IDFromRange(a, netip.MustParseAddr("2001:db8::1")); err == nil {
		t.Error("range across families")
	}
	if s := (Identification{Type: ID_IPV4_ADDR_SUBNET, Protocol: 17, Port: 53, Data: []byte{198, 51, 100, 0, 255, 255, 255, 128}}).String(); s != "198.51.100.0/25[17/53]" {
		t.Errorf("String %q", s)
	}
}

func TestNotifyHelpers(t *testing.T) {
	n := DPD(R_U_THERE, 0x0102030405060708, 0x1112131415161718, 42)
	if seq, ok := n.DPDSequence(); !ok || seq != 42 {
		t.Fatalf("DPDSequence %d %v", seq, ok)
	}
	if i, r, ok := Cookies(n.SPI); !ok || i != 0x0102030405060708 || r != 0x1112131415161718 {
		t.Fatalf("Cookies %x %x %v", i, r, ok)
	}
	if !INVALID_COOKIE.IsError() || INITIAL_CONTACT.IsError() {
		t.Fatal("IsError")
	}
	if INITIAL_CONTACT.String() != "INITIAL-CONTACT" || NotifyType(9999).String() != "notify type 9999" {
		t.Fatal("NotifyType names")
	}
}

func TestAttributes(t *testing.T) {
	for _, v := range []uint64{0, 28800, 65535, 65536, 86400, 1 << 40} {
		a := Variable(IKELifeDuration, v)
		if got, ok := a.Uint(); !ok || got != v || a.TV != (v <= 0xffff) {
			t.Errorf("Variable(%d): %+v → %d %v", v, a, got, ok)
		}
	}
	if _, ok := (Attribute{Value: make([]byte, 9)}).Uint(); ok {
		t.Error("9-byte value as a number")
	}
	if AttributeName(ProtocolISAKMP, 4) != "Group Description" || AttributeName(ProtocolESP, 4) != "Encapsulation Mode" {
		t.Error("attribute names by phase")
	}
	if AuthMethodName(AuthXAUTHInitPSK) != "XAUTH initiator pre-shared key" {
		t.Error("XAUTH method name")
	}
}

package wire

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"

	"ipsecgw/transform"
)

// strongSwanInit is an IKE_SA_INIT request as strongSwan 5.9.8 sends it by
// default; testdata/README.md says how it was captured.
const strongSwanInit = "strongswan-5.9.8-ike-sa-init.bin"

func TestStrongSwanIKESAInit(t *testing.T) {
	b := readVector(t, strongSwanInit)
	m := mustParse(t, b)
	h := m.Header
	if h.InitiatorSPI != 0x04bfeb131f295433 || h.ResponderSPI != 0 || h.Exchange != IKE_SA_INIT ||
		h.Flags != FlagInitiator || h.MessageID != 0 {
		t.Fatalf("header %+v", h)
	}
	// [ SA KE No N(NATD_S_IP) N(NATD_D_IP) N(FRAG_SUP) N(HASH_ALG) N(REDIR_SUP) ], as charon logged.
	if got := describe(m.Payloads); got != "SA KE Nonce Notify Notify Notify Notify Notify " {
		t.Fatalf("payloads %s", got)
	}
	sa := m.Payloads[0].(*SA)
	if len(sa.Proposals) != 2 {
		t.Fatalf("%d proposals, want 2 (CBC+HMAC, then AEAD)", len(sa.Proposals))
	}
	cbc, aead := sa.Proposals[0], sa.Proposals[1]
	if cbc.Number != 1 || cbc.Protocol != ProtocolIKE || cbc.SPI != nil || len(cbc.Transforms) != 17 {
		t.Fatalf("proposal 1: number %d, %v, SPI %x, %d transforms", cbc.Number, cbc.Protocol, cbc.SPI, len(cbc.Transforms))
	}
	if aead.Number != 2 || len(aead.Transforms) != 11 {
		t.Fatalf("proposal 2: number %d, %d transforms", aead.Number, len(aead.Transforms))
	}
	for i, want := range []int{128, 192, 256} {
		tr := cbc.Transforms[i]
		row, ok := tr.Lookup()
		if !ok || row.ID != transform.ENCR_AES_CBC || row.KeyBits != want {
			t.Fatalf("transform %d: %+v, want ENCR_AES_CBC(%d)", i+1, tr, want)
		}
	}
	if tr := aead.Transforms[0]; tr.Type != transform.TypeENCR || tr.ID != transform.ENCR_CHACHA20_POLY1305 || tr.KeyLength != 0 {
		t.Fatalf("proposal 2 transform 1: %+v, want ENCR_CHACHA20_POLY1305", tr)
	}
	var groups []transform.ID
	for _, tr := range aead.Transforms {
		if tr.Type == transform.TypeKE {
			groups = append(groups, tr.ID)
		}
	}
	if len(groups) == 0 || groups[0] != transform.CURVE25519 {
		t.Fatalf("key exchange methods %v, want Curve25519 first", groups)
	}
	ke := m.Payloads[1].(*KE)
	if ke.Group != transform.CURVE25519 || len(ke.Data) != 32 {
		t.Fatalf("KE group %d, %d bytes; want 31 and 32", ke.Group, len(ke.Data))
	}
	if n := m.Payloads[2].(*Nonce); len(n.Data) != 32 {
		t.Fatalf("nonce %d bytes, want 32", len(n.Data))
	}
	for i, want := range []NotifyType{NAT_DETECTION_SOURCE_IP, NAT_DETECTION_DESTINATION_IP,
		IKEV2_FRAGMENTATION_SUPPORTED, SIGNATURE_HASH_ALGORITHMS, 16406 /* REDIRECT_SUPPORTED */} {
		n := m.Payloads[3+i].(*Notify)
		if n.Type != want || n.Protocol != ProtocolNone || n.SPI != nil {
			t.Fatalf("notify %d: %v protocol %v SPI %x, want %v", i+1, n.Type, n.Protocol, n.SPI, want)
		}
	}
	if n := m.Payloads[6].(*Notify); !bytes.Equal(n.Data, []byte{0, 2, 0, 3, 0, 4, 0, 5}) {
		t.Fatalf("SIGNATURE_HASH_ALGORITHMS %x, want SHA2-256, SHA2-384, SHA2-512, Identity", n.Data)
	}
	// strongSwan writes reserved fields as zero, as the codec does: the
	// re-encoding is the same bytes.
	if again := mustMarshal(t, m); !bytes.Equal(again, b) {
		t.Fatalf("re-encoding differs:\n got %x\nwant %x", again, b)
	}
}

// unhex reads hex written in lines with // comments, as the vectors below.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	var clean strings.Builder
	for line := range strings.Lines(s) {
		line, _, _ = strings.Cut(line, "//")
		clean.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(clean.String())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// An IKE_SA_INIT response refusing the initiator's guess of key exchange
// method (§1.2, §2.7), written field by field from the layouts of §3.1,
// §3.2 and §3.10.
func TestVectorInvalidKEPayload(t *testing.T) {
	b := unhex(t, `
		0123456789abcdef 0000000000000000 // SPIi, SPIr (zero: no SA created)
		29 20 22 20                       // Next Payload Notify, version 2.0, IKE_SA_INIT, Response
		00000000 00000026                 // Message ID 0, Length 38
		00 00 000a                        // Notify: no next payload, not critical, length 10
		00 00 0011                        // Protocol ID 0, SPI Size 0, INVALID_KE_PAYLOAD (17)
		0013                              // data: the group the responder wants, ECP_256 (19)
	`)
	want := &Message{
		Header:   Header{InitiatorSPI: 0x0123456789abcdef, Exchange: IKE_SA_INIT, Flags: FlagResponse},
		Payloads: []Payload{&Notify{Type: INVALID_KE_PAYLOAD, Data: []byte{0, 19}}},
	}
	sameMessage(t, mustParse(t, b), want)
	if got := mustMarshal(t, want); !bytes.Equal(got, b) {
		t.Fatalf("encoding:\n got %x\nwant %x", got, b)
	}
}

// The payloads an IKE_AUTH request carries inside SK (§1.2): IDi, AUTH,
// SA, TSi, TSr, written field by field from §3.3, §3.5, §3.8 and §3.13.
func TestVectorIKEAuthInner(t *testing.T) {
	chain := unhex(t, `
		27 00 0017   02 000000  6777312e6578616d706c652e6e6574 // IDi: ID_FQDN "gw1.example.net"
		21 00 0010   02 000000  0102030405060708               // AUTH: shared key MIC (8 bytes here)
		2c 00 002c                                             // SA, length 44
		  00 00 0028  01 03 04 03  c0010203                    //   proposal 1 (last), ESP, SPI size 4, 3 transforms
		    03 00 000c  01 00 0014  800e 0100                  //     ENCR_AES_GCM_16, Key Length 256
		    03 00 0008  04 00 001f                             //     KE Curve25519 (PFS)
		    00 00 0008  05 00 0000                             //     no ESN (last)
		2d 00 0018   01 000000                                 // TSi, one selector
		  07 00 0010  0000 ffff  c6336400 c633647f             //   198.51.100.0-127, any protocol and port
		00 00 0030   01 000000                                 // TSr, one selector
		  08 06 0028  01bb 01bb                                //   TCP port 443
		  20010db8000000000000000000000000                     //   2001:db8::
		  20010db80000000000000000ffffffff                     //   2001:db8::ffff:ffff
	`)
	want := []Payload{
		&IDi{Type: ID_FQDN, Data: []byte("gw1.example.net")},
		&Auth{Method: AuthSharedKey, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8}},
		&SA{Proposals: []Proposal{{Number: 1, Protocol: ProtocolESP, SPI: []byte{0xc0, 1, 2, 3}, Transforms: []Transform{
			{Type: transform.TypeENCR, ID: transform.ENCR_AES_GCM_16, KeyLength: 256},
			{Type: transform.TypeKE, ID: transform.CURVE25519},
			{Type: transform.TypeESN, ID: transform.NO_ESN},
		}}}},
		&TSi{Selectors: []TrafficSelector{{EndPort: 65535, Start: netip.MustParseAddr("198.51.100.0"), End: netip.MustParseAddr("198.51.100.127")}}},
		&TSr{Selectors: []TrafficSelector{{Protocol: 6, StartPort: 443, EndPort: 443,
			Start: netip.MustParseAddr("2001:db8::"), End: netip.MustParseAddr("2001:db8::ffff:ffff")}}},
	}
	got, err := ParsePayloads(PayloadIDi, chain)
	if err != nil {
		t.Fatal(err)
	}
	samePayloads(t, got, want)
	first, again, err := AppendPayloads(nil, want)
	if err != nil || first != PayloadIDi || !bytes.Equal(again, chain) {
		t.Fatalf("encoding (%v, %v):\n got %x\nwant %x", first, err, again, chain)
	}
	id := Identification(*got[0].(*IDi))
	if body := id.AppendBody(nil); !bytes.Equal(body, chain[4:0x17]) {
		t.Fatalf("RestOfInitIDPayload %x, want %x", body, chain[4:0x17])
	}
	if id.String() != "gw1.example.net" {
		t.Fatalf("IDi prints as %q", id)
	}
}

func TestIdentificationAddr(t *testing.T) {
	for _, s := range []string{"192.0.2.1", "2001:db8::1", "::ffff:198.51.100.1"} {
		a := netip.MustParseAddr(s)
		id := IDFromAddr(a)
		got, ok := id.Addr()
		if !ok || got != a.Unmap() || id.String() != a.Unmap().String() {
			t.Fatalf("%s: %v %v %q", s, got, ok, id)
		}
	}
	if _, ok := (Identification{Type: ID_FQDN, Data: []byte("x")}).Addr(); ok {
		t.Fatal("an FQDN has no address")
	}
}

// Names are the RFC's, for logs and show commands.
func TestNames(t *testing.T) {
	for _, c := range []struct {
		got  interface{ String() string }
		want string
	}{
		{PayloadSKF, "SKF"}, {PayloadType(99), "payload type 99"},
		{CREATE_CHILD_SA, "CREATE_CHILD_SA"}, {ExchangeType(1), "exchange type 1"},
		{FlagInitiator | FlagResponse, "initiator|response"}, {Flags(0), "none"},
		{ProtocolESP, "ESP"}, {ID_DER_ASN1_DN, "ID_DER_ASN1_DN"}, {AuthSharedKey, "pre-shared key"},
		{TS_IPV6_ADDR_RANGE, "TS_IPV6_ADDR_RANGE"}, {NO_PROPOSAL_CHOSEN, "NO_PROPOSAL_CHOSEN"},
		{IKEV2_FRAGMENTATION_SUPPORTED, "IKEV2_FRAGMENTATION_SUPPORTED"},
		{NotifyType(8192), "error notify 8192"}, {NotifyType(40000), "status notify 40000"},
		{TrafficSelector{Protocol: 6, StartPort: 443, EndPort: 443, Start: mustAddr("192.0.2.0"), End: mustAddr("192.0.2.255")},
			"192.0.2.0-192.0.2.255 proto 6 port 443-443"},
		{Identification{Type: ID_KEY_ID, Data: []byte{0xab}}, "ID_KEY_ID:ab"},
	} {
		if s := c.got.String(); s != c.want {
			t.Errorf("%#v prints %q, want %q", c.got, s, c.want)
		}
	}
	if !TEMPORARY_FAILURE.IsError() || INITIAL_CONTACT.IsError() {
		t.Error("IsError does not split at 16384")
	}
	if _, ok := (Transform{Type: 1, ID: 12, KeyLength: 128, Attributes: []Attribute{{Type: 99}}}).Lookup(); ok {
		t.Error("Lookup accepted a transform with an unknown attribute (§3.3.6)")
	}
}

package wire

import (
	"bytes"
	"net/netip"
	"os"
	"reflect"
	"testing"

	"ipsecgw/transform"
)

// pattern returns n bytes counting up from seed, distinct enough to catch
// fields written in the wrong place.
func pattern(seed byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i)
	}
	return b
}

// typicalSA is what a Junos-like gateway offers in IKE_SA_INIT: one
// proposal, AES-CBC-256, HMAC-SHA-256, PRF-SHA-256, Curve25519, and an
// AEAD alternative.
func typicalSA() *SA {
	return &SA{Proposals: []Proposal{
		{Number: 1, Protocol: ProtocolIKE, Transforms: []Transform{
			{Type: transform.TypeENCR, ID: transform.ENCR_AES_CBC, KeyLength: 256},
			{Type: transform.TypePRF, ID: transform.PRF_HMAC_SHA2_256},
			{Type: transform.TypeINTEG, ID: transform.AUTH_HMAC_SHA2_256_128},
			{Type: transform.TypeKE, ID: transform.CURVE25519},
		}},
		{Number: 2, Protocol: ProtocolIKE, Transforms: []Transform{
			{Type: transform.TypeENCR, ID: transform.ENCR_AES_GCM_16, KeyLength: 256},
			{Type: transform.TypePRF, ID: transform.PRF_HMAC_SHA2_384},
			{Type: transform.TypeKE, ID: transform.CURVE25519},
			{Type: transform.TypeKE, ID: transform.ECP_384},
		}},
	}}
}

// typicalInit is an IKE_SA_INIT request as an initiator sends it.
func typicalInit() *Message {
	return &Message{
		Header: Header{InitiatorSPI: 0x0123456789abcdef, Exchange: IKE_SA_INIT, Flags: FlagInitiator},
		Payloads: []Payload{
			typicalSA(),
			&KE{Group: transform.CURVE25519, Data: pattern(0x40, 32)},
			&Nonce{Data: pattern(0x80, 32)},
			&Notify{Type: NAT_DETECTION_SOURCE_IP, Data: pattern(0x10, 20)},
			&Notify{Type: NAT_DETECTION_DESTINATION_IP, Data: pattern(0x30, 20)},
			&Notify{Type: IKEV2_FRAGMENTATION_SUPPORTED},
			&Notify{Type: SIGNATURE_HASH_ALGORITHMS, Data: []byte{0, 2, 0, 3, 0, 4}},
		},
	}
}

// everyPayload has one or more of each payload type the codec decodes, in
// the forms that exercise their encodings.
func everyPayload() []Payload {
	return []Payload{
		typicalSA(),
		&SA{Proposals: []Proposal{
			{Number: 1, Protocol: ProtocolESP, SPI: []byte{0xc0, 0x01, 0xd0, 0x0d}, Transforms: []Transform{
				{Type: transform.TypeENCR, ID: transform.ENCR_AES_CBC, KeyLength: 128},
				{Type: transform.TypeINTEG, ID: transform.AUTH_HMAC_SHA1_96},
				{Type: transform.TypeESN, ID: transform.NO_ESN},
				{Type: transform.TypeESN, ID: transform.ESN},
				{Type: 250, ID: 7, Attributes: []Attribute{
					{Type: 100, TV: true, Value: []byte{1, 2}},
					{Type: 101, Value: []byte("tlv")},
					{Type: 102},
				}},
			}},
			{Number: 2, Protocol: ProtocolIKE, SPI: pattern(1, 8)},
		}},
		&KE{Group: transform.ECP_256, Data: pattern(0x20, 64)},
		&KE{Group: transform.MODP_2048},
		&IDi{Type: ID_FQDN, Data: []byte("gw1.example.net")},
		&IDr{Type: ID_IPV4_ADDR, Data: []byte{192, 0, 2, 7}},
		&IDr{Type: ID_IPV6_ADDR, Data: netip.MustParseAddr("2001:db8::7").AsSlice()},
		&IDi{Type: ID_RFC822_ADDR, Data: []byte("vpn@example.net")},
		&IDi{Type: ID_DER_ASN1_DN, Data: []byte{0x30, 0x00}},
		&IDi{Type: ID_KEY_ID, Data: []byte{0xde, 0xad}},
		&Cert{Encoding: CertX509Signature, Data: pattern(0x30, 100)},
		&CertReq{Encoding: CertX509Signature, Data: pattern(0x50, 40)},
		&CertReq{Encoding: CertX509Signature},
		&Auth{Method: AuthSharedKey, Data: pattern(0x60, 32)},
		&Auth{Method: AuthDigitalSignature, Data: pattern(0x61, 80)},
		&Nonce{Data: pattern(0x70, MinNonceLen)},
		&Nonce{Data: pattern(0x71, MaxNonceLen)},
		&Notify{Type: INITIAL_CONTACT},
		&Notify{Protocol: ProtocolESP, SPI: []byte{1, 2, 3, 4}, Type: REKEY_SA},
		&Notify{Type: COOKIE, Data: pattern(0, 24)},
		&Notify{Type: INVALID_KE_PAYLOAD, Data: []byte{0, 31}},
		&Notify{Type: NotifyType(40000), Data: []byte("private")},
		&Delete{Protocol: ProtocolIKE},
		&Delete{Protocol: ProtocolESP, SPIs: []uint32{0xc0010001, 0xc0010002}},
		&Delete{Protocol: ProtocolAH, SPIs: []uint32{7}},
		&VendorID{Data: []byte("ipsecgw")},
		&TSi{Selectors: []TrafficSelector{
			{Start: netip.MustParseAddr("198.51.100.0"), End: netip.MustParseAddr("198.51.100.127"), EndPort: 65535},
			{Protocol: 17, StartPort: 500, EndPort: 500, Start: netip.MustParseAddr("192.0.2.1"), End: netip.MustParseAddr("192.0.2.1")},
		}},
		&TSr{Selectors: []TrafficSelector{
			{Protocol: 58, StartPort: 0x8000, EndPort: 0x80ff,
				Start: netip.MustParseAddr("2001:db8::"), End: netip.MustParseAddr("2001:db8::ffff")},
			{StartPort: 65535, EndPort: 0, Start: netip.MustParseAddr("::ffff:192.0.2.1"), End: netip.MustParseAddr("::ffff:192.0.2.9")},
		}},
		&TSr{},
		&CP{Type: CFG_REQUEST, Attributes: []ConfigAttribute{{Type: INTERNAL_IP4_ADDRESS}, {Type: INTERNAL_IP4_DNS}}},
		&CP{Type: CFG_REPLY, Attributes: []ConfigAttribute{
			{Type: INTERNAL_IP4_ADDRESS, Value: []byte{198, 51, 100, 10}},
			{Type: INTERNAL_IP6_ADDRESS, Value: append(netip.MustParseAddr("2001:db8::a").AsSlice(), 64)},
		}},
		&EAP{Data: []byte{1, 7, 0, 5, 1}},
		&Unknown{Type: 49, Body: []byte("skip me")},
		&Unknown{Type: 200, Critical: true, Body: []byte{1}},
		&Unknown{Type: 201},
	}
}

// sameMessage compares everything but Raw.
func sameMessage(t testing.TB, got, want *Message) {
	t.Helper()
	if !reflect.DeepEqual(got.Header, want.Header) {
		t.Fatalf("header:\n got %+v\nwant %+v", got.Header, want.Header)
	}
	samePayloads(t, got.Payloads, want.Payloads)
}

func samePayloads(t testing.TB, got, want []Payload) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d payloads, want %d:\n got %s\nwant %s", len(got), len(want), describe(got), describe(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("payload %d (%v):\n got %+v\nwant %+v", i+1, want[i].PayloadType(), got[i], want[i])
		}
	}
}

func describe(ps []Payload) string {
	var b bytes.Buffer
	for _, p := range ps {
		b.WriteString(p.PayloadType().String())
		b.WriteByte(' ')
	}
	return b.String()
}

func mustMarshal(t testing.TB, m *Message) []byte {
	t.Helper()
	b, err := m.Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	return b
}

func mustParse(t testing.TB, b []byte) *Message {
	t.Helper()
	m, err := Parse(b)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return m
}

func readVector(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

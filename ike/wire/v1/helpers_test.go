package v1

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
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

// phase1SA is what an initiator offers in Main Mode: AES-256/SHA2-256
// and 3DES/SHA1, PSK, MODP 2048 and 1024, eight hours.
func phase1SA() *SA {
	return &SA{DOI: DOIIPsec, Situation: SIT_IDENTITY_ONLY, Proposals: []Proposal{
		{Number: 1, Protocol: ProtocolISAKMP, Transforms: []Transform{
			{Number: 1, ID: KEY_IKE, Attributes: []Attribute{
				Basic(IKEEncryptionAlgorithm, EncrAES), Basic(IKEKeyLength, 256),
				Basic(IKEHashAlgorithm, HashSHA2256), Basic(IKEAuthMethod, AuthPSK),
				Basic(IKEGroupDescription, 14), Basic(IKELifeType, LifeSeconds),
				Variable(IKELifeDuration, 28800),
			}},
			{Number: 2, ID: KEY_IKE, Attributes: []Attribute{
				Basic(IKEEncryptionAlgorithm, Encr3DES), Basic(IKEHashAlgorithm, HashSHA1),
				Basic(IKEAuthMethod, AuthXAUTHInitPSK), Basic(IKEGroupDescription, 2),
				Basic(IKELifeType, LifeSeconds), Variable(IKELifeDuration, 86400), // TLV: over 16 bits
			}},
		}},
	}}
}

// phase2SA is a Quick Mode offer: ESP AES-128 or 3DES with HMAC-SHA1,
// UDP-encapsulated tunnel, PFS group 14, lifetime in seconds and bytes.
func phase2SA() *SA {
	return &SA{DOI: DOIIPsec, Situation: SIT_IDENTITY_ONLY, Proposals: []Proposal{
		{Number: 1, Protocol: ProtocolESP, SPI: []byte{0xc0, 0x01, 0xd0, 0x0d}, Transforms: []Transform{
			{Number: 1, ID: ESP_AES, Attributes: []Attribute{
				Basic(IPsecKeyLength, 128), Basic(IPsecAuthAlgorithm, AuthHMACSHA1),
				Basic(IPsecEncapsulationMode, EncapUDPTunnel), Basic(IPsecGroupDescription, 14),
				Basic(IPsecLifeType, LifeSeconds), Variable(IPsecLifeDuration, 3600),
				Basic(IPsecLifeType, LifeKilobytes), Variable(IPsecLifeDuration, 4608000),
			}},
			{Number: 2, ID: ESP_3DES, Attributes: []Attribute{
				Basic(IPsecAuthAlgorithm, AuthHMACSHA1), Basic(IPsecEncapsulationMode, EncapUDPTunnelDraft),
				Basic(IPsecExtendedSequenceNumber, 1),
			}},
			{Number: 3, ID: ESP_NULL, Attributes: []Attribute{Basic(IPsecAuthAlgorithm, AuthHMACSHA2256)}},
		}},
		// AND-ed with proposal 1's next alternative: AH and ESP together.
		{Number: 2, Protocol: ProtocolAH, SPI: []byte{0xc0, 0x01, 0xd0, 0x0e}, Transforms: []Transform{
			{Number: 1, ID: AH_SHA, Attributes: []Attribute{Basic(IPsecAuthAlgorithm, AuthHMACSHA1)}},
		}},
		{Number: 2, Protocol: ProtocolESP, SPI: []byte{0xc0, 0x01, 0xd0, 0x0f}, Transforms: []Transform{
			{Number: 1, ID: ESP_AES, Attributes: []Attribute{{Type: IPsecKeyLength, Value: []byte{0, 0, 1, 0}}}},
		}},
	}}
}

// mainModeFirst is the first message of Main Mode as an initiator sends it.
func mainModeFirst() *Message {
	return &Message{
		Header: Header{InitiatorCookie: 0x0123456789abcdef, Exchange: MainMode},
		Chain: Chain{Payloads: []Payload{
			phase1SA(),
			&VendorID{Data: VendorNATT},
			&VendorID{Data: VendorNATTDraft02N},
			&VendorID{Data: VendorDPD},
		}},
	}
}

// quickModeChain is the plaintext of Quick Mode's first message, HASH(1)
// still zero.
func quickModeChain() []Payload {
	return []Payload{
		ReserveHash(20),
		phase2SA(),
		&Nonce{Data: pattern(0x40, 32)},
		&KE{Data: pattern(0x80, 256)},
		ptr(IDFromPrefix(netip.MustParsePrefix("198.51.100.0/25"))),
		ptr(IDFromPrefix(netip.MustParsePrefix("198.51.100.128/25"))),
		&NATOA{Addr: netip.MustParseAddr("192.0.2.1")},
		&NATOA{Draft: true, Addr: netip.MustParseAddr("2001:db8::1")},
	}
}

func ptr[T any](v T) *T { return &v }

// everyPayload has one or more of each payload the codec decodes, in the
// forms that exercise their encodings.
func everyPayload() []Payload {
	rng, _ := IDFromRange(netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::ff"))
	return []Payload{
		phase1SA(),
		phase2SA(),
		&KE{Data: pattern(0x20, 128)},
		&Identification{Type: ID_FQDN, Data: []byte("gw1.example.net")},
		&Identification{Type: ID_IPV4_ADDR, Protocol: 17, Port: 500, Data: []byte{192, 0, 2, 7}},
		&Identification{Type: ID_USER_FQDN, Data: []byte("vpn@example.net")},
		&Identification{Type: ID_IPV4_ADDR_RANGE, Protocol: 6, Port: 443, Data: []byte{198, 51, 100, 1, 198, 51, 100, 9}},
		ptr(IDFromPrefix(netip.MustParsePrefix("2001:db8:1::/48"))),
		&rng,
		&Identification{Type: ID_DER_ASN1_DN, Data: []byte{0x30, 0x00}},
		&Identification{Type: ID_KEY_ID, Data: []byte{0xde, 0xad}},
		&Cert{Encoding: CertX509Signature, Data: pattern(0x30, 100)},
		&CertReq{Encoding: CertX509Signature, Authority: pattern(0x50, 40)},
		&CertReq{Encoding: CertX509Signature},
		&Hash{Data: pattern(0x60, 20)},
		&Signature{Data: pattern(0x61, 64)},
		&Nonce{Data: pattern(0x70, MinNonceLen)},
		&Nonce{Data: pattern(0x71, MaxNonceLen)},
		&Notify{DOI: DOIIPsec, Protocol: ProtocolISAKMP, SPI: CookieSPI(1, 2), Type: INITIAL_CONTACT},
		&Notify{DOI: DOIIPsec, Protocol: ProtocolESP, SPI: []byte{1, 2, 3, 4}, Type: RESPONDER_LIFETIME,
			Data: []byte{0x80, 0x01, 0x00, 0x01, 0x80, 0x02, 0x0e, 0x10}},
		&Notify{DOI: DOIIPsec, Protocol: ProtocolESP, SPI: []byte{1, 2, 3, 4}, Type: REPLAY_STATUS, Data: []byte{0, 0, 0, 1}},
		&Notify{DOI: DOIISAKMP, Protocol: ProtocolISAKMP, Type: NO_PROPOSAL_CHOSEN},
		DPD(R_U_THERE, 1, 2, 0x1234),
		DPD(R_U_THERE_ACK, 1, 2, 0x1234),
		DeleteISAKMP(1, 2),
		DeleteIPsec(ProtocolESP, 0xc0010001, 0xc0010002),
		&VendorID{Data: VendorDPD},
		&VendorID{Data: []byte("ipsecgw")},
		&NATD{Data: pattern(0x10, 20)},
		&NATD{Draft: true, Data: pattern(0x11, 20)},
		&NATOA{Addr: netip.MustParseAddr("192.0.2.1")},
		&NATOA{Draft: true, Addr: netip.MustParseAddr("::ffff:192.0.2.1")},
		&Unknown{Type: PayloadAttribute, Body: []byte{1, 0, 0, 0}},
		&Unknown{Type: 200, Body: []byte("skip me")},
		&Unknown{Type: 201},
	}
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

func sameMessage(t testing.TB, got, want *Message) {
	t.Helper()
	if got.Header != want.Header {
		t.Fatalf("header:\n got %+v\nwant %+v", got.Header, want.Header)
	}
	if !bytes.Equal(got.Encrypted, want.Encrypted) {
		t.Fatalf("encrypted body:\n got %x\nwant %x", got.Encrypted, want.Encrypted)
	}
	samePayloads(t, got.Payloads, want.Payloads)
}

func describe(ps []Payload) string {
	return (&Chain{Payloads: ps}).String()
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

// readHex reads a testdata file of hex lines.
func readHex(t testing.TB, name string) []byte {
	t.Helper()
	s, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	b, err := hex.DecodeString(strings.Join(strings.Fields(string(s)), ""))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

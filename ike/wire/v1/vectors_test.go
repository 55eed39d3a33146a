package v1

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"net/netip"
	"testing"
)

// strongSwanMessages are the datagrams of a Main Mode and Quick Mode
// exchange between two strongSwan 5.9.8 charons; testdata/README.md says
// how they were captured.
var strongSwanMessages = []string{
	"strongswan-5.9.8-main-mode-1.hex",
	"strongswan-5.9.8-main-mode-2.hex",
	"strongswan-5.9.8-main-mode-3.hex",
	"strongswan-5.9.8-main-mode-4.hex",
	"strongswan-5.9.8-main-mode-5.hex",
	"strongswan-5.9.8-quick-mode-1.hex",
}

// The decrypted bodies charon logged, padding included.
var strongSwanPlaintexts = map[string]PayloadType{
	"strongswan-5.9.8-main-mode-5-plain.hex":   PayloadID,
	"strongswan-5.9.8-quick-mode-1-plain.hex":  PayloadHash,
	"strongswan-5.9.8-quick-mode-2-plain.hex":  PayloadHash,
	"strongswan-5.9.8-informational-plain.hex": PayloadHash,
}

const (
	ssInitiatorCookie = 0x34e334d67a2be71e
	ssResponderCookie = 0x59f5ca3f799718e6
	ssQuickModeID     = 0xe2997aed
)

// Main Mode's first two messages: the initiator offers, for
// proposals = 3des-sha1-modp1024, one KEY_IKE transform with 3DES, SHA1,
// MODP 1024, PSK and a lifetime in seconds, and the vendor IDs charon
// sends; the responder answers with the same transform and no draft NAT-T.
func TestStrongSwanMainModeSA(t *testing.T) {
	for i, name := range strongSwanMessages[:2] {
		m := mustParse(t, readHex(t, name))
		h := m.Header
		wantResponder := uint64(0)
		if i == 1 {
			wantResponder = ssResponderCookie
		}
		if h.InitiatorCookie != ssInitiatorCookie || h.ResponderCookie != wantResponder ||
			h.Exchange != MainMode || h.Flags != 0 || h.MessageID != 0 || h.NextPayload != PayloadSA {
			t.Fatalf("%s: header %+v", name, h)
		}
		wantChain := []string{"[SA VID VID VID VID VID]", "[SA VID VID VID VID]"}[i]
		if got := m.Chain.String(); got != wantChain {
			t.Fatalf("%s: payloads %s, want %s as charon logged", name, got, wantChain)
		}
		sa := m.Payloads[0].(*SA)
		if sa.DOI != DOIIPsec || sa.Situation != SIT_IDENTITY_ONLY || len(sa.Proposals) != 1 {
			t.Fatalf("%s: SA %+v", name, sa)
		}
		p := sa.Proposals[0]
		if p.Number != 1 || p.Protocol != ProtocolISAKMP || p.SPI != nil || len(p.Transforms) != 1 {
			t.Fatalf("%s: proposal %+v", name, p)
		}
		tr := p.Transforms[0]
		if tr.Number != 1 || tr.ID != KEY_IKE {
			t.Fatalf("%s: transform %d ID %d", name, tr.Number, tr.ID)
		}
		for _, want := range []struct {
			typ AttributeType
			v   uint64
		}{
			{IKEEncryptionAlgorithm, Encr3DES}, {IKEHashAlgorithm, HashSHA1},
			{IKEGroupDescription, 2}, {IKEAuthMethod, AuthPSK}, {IKELifeType, LifeSeconds},
		} {
			if v, ok := tr.Uint(want.typ); !ok || v != want.v {
				t.Errorf("%s: %s = %d %v, want %d", name, AttributeName(ProtocolISAKMP, want.typ), v, ok, want.v)
			}
		}
		// charon's default rekey_time of 4 hours plus over_time, 10%.
		if a, ok := tr.Attribute(IKELifeDuration); !ok || !a.TV {
			t.Errorf("%s: Life Duration %+v, want a TV attribute", name, a)
		} else if v, _ := a.Uint(); v != 15840 {
			t.Errorf("%s: Life Duration %d, want 15840", name, v)
		}
		var vendors []string
		for _, p := range m.Payloads[1:] {
			vendors = append(vendors, p.(*VendorID).Name())
		}
		want := []string{"XAUTH", "RFC 3706 DPD", "Cisco fragmentation", "RFC 3947 NAT-T", "NAT-T draft 02"}[:len(vendors)]
		for i := range want {
			if vendors[i] != want[i] {
				t.Fatalf("%s: vendor IDs %q, want %q", name, vendors, want)
			}
		}
		// SAi_b, what HASH_I covers, is the SA payload without its header.
		if body := m.RawBody(0); len(body) != 48 || !bytes.Equal(body[:8], []byte{0, 0, 0, 1, 0, 0, 0, 1}) {
			t.Fatalf("%s: SA body %x", name, body)
		}
	}
}

// Main Mode's third and fourth: KE (MODP 1024, 128 bytes), nonce and the
// two NAT-D hashes; then the fifth, encrypted: only the header is read.
func TestStrongSwanMainModeKE(t *testing.T) {
	for _, name := range strongSwanMessages[2:4] {
		m := mustParse(t, readHex(t, name))
		if got := m.Chain.String(); got != "[KE Nonce NAT-D NAT-D]" {
			t.Fatalf("%s: payloads %s", name, got)
		}
		if ke := m.Payloads[0].(*KE); len(ke.Data) != 128 {
			t.Fatalf("%s: KE %d bytes", name, len(ke.Data))
		}
		if n := m.Payloads[1].(*Nonce); len(n.Data) != 32 {
			t.Fatalf("%s: nonce %d bytes", name, len(n.Data))
		}
		for _, p := range m.Payloads[2:] {
			if d := p.(*NATD); d.Draft || len(d.Data) != sha1.Size {
				t.Fatalf("%s: NAT-D %+v", name, d)
			}
		}
	}
	m := mustParse(t, readHex(t, strongSwanMessages[4]))
	if !m.Header.Encrypted() || m.Header.NextPayload != PayloadID || len(m.Encrypted) != 80 || m.Payloads != nil {
		t.Fatalf("Main Mode 5: header %+v, %d encrypted bytes", m.Header, len(m.Encrypted))
	}
}

// The decrypted bodies: Main Mode 5 [ID HASH N(INITIAL_CONTACT)], Quick
// Mode [HASH SA No ID ID] both ways, and the Informational [HASH
// N(NO_PROP)] the initiator sent when its kernel would not take the SAs.
func TestStrongSwanDecrypted(t *testing.T) {
	chains := map[string]*Chain{}
	for name, first := range strongSwanPlaintexts {
		b := readHex(t, name)
		c, err := ParseDecrypted(first, b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(c.Padding) == 0 || len(b)%8 != 0 {
			t.Fatalf("%s: %d bytes, padding %d; want 3DES blocks", name, len(b), len(c.Padding))
		}
		built, err := BuildChain(c.Payloads)
		if err != nil || !bytes.Equal(append(built.Bytes(), c.Padding...), b) {
			t.Fatalf("%s: re-encoding differs (%v)", name, err)
		}
		chains[name] = c
	}

	mm5 := chains["strongswan-5.9.8-main-mode-5-plain.hex"]
	if got := mm5.String(); got != "[ID HASH N]" {
		t.Fatalf("Main Mode 5: %s", got)
	}
	if id := mm5.Payloads[0].(*Identification); id.Type != ID_FQDN || string(id.Data) != "gw1.example.net" {
		t.Fatalf("IDii %v", id)
	}
	n := mm5.Payloads[2].(*Notify)
	if i, r, ok := Cookies(n.SPI); n.Type != INITIAL_CONTACT || n.Protocol != ProtocolISAKMP || !ok ||
		i != ssInitiatorCookie || r != ssResponderCookie {
		t.Fatalf("notify %+v", n)
	}

	qm1 := chains["strongswan-5.9.8-quick-mode-1-plain.hex"]
	if got := qm1.String(); got != "[HASH SA Nonce ID ID]" {
		t.Fatalf("Quick Mode 1: %s", got)
	}
	sa := qm1.Payloads[1].(*SA)
	tr := sa.Proposals[0].Transforms[0]
	if p := sa.Proposals[0]; p.Protocol != ProtocolESP || len(p.SPI) != 4 || tr.ID != ESP_AES {
		t.Fatalf("Quick Mode proposal %+v", p)
	}
	for _, want := range []struct {
		typ AttributeType
		v   uint64
	}{
		{IPsecKeyLength, 128}, {IPsecAuthAlgorithm, AuthHMACSHA1}, {IPsecEncapsulationMode, EncapTunnel},
		{IPsecLifeType, LifeSeconds},
	} {
		if v, ok := tr.Uint(want.typ); !ok || v != want.v {
			t.Errorf("%s = %d %v, want %d", AttributeName(ProtocolESP, want.typ), v, ok, want.v)
		}
	}
	for i, want := range []string{"198.51.100.0/25", "198.51.100.128/25"} {
		id := qm1.Payloads[3+i].(*Identification)
		if p, ok := id.Prefix(); !ok || p != netip.MustParsePrefix(want) || id.Type != ID_IPV4_ADDR_SUBNET {
			t.Fatalf("ID %d: %v, want %s", i+1, id, want)
		}
	}

	// HASH(1) = prf(SKEYID_a, M-ID | the payloads after HASH), with the
	// SKEYID_a charon logged: the raw bytes are the ones it hashed.
	mac := hmac.New(sha1.New, readHex(t, "strongswan-5.9.8-skeyid-a.hex"))
	mac.Write(binary.BigEndian.AppendUint32(nil, ssQuickModeID))
	mac.Write(qm1.RawAfter(0))
	if h := qm1.Payloads[0].(*Hash); !hmac.Equal(h.Data, mac.Sum(nil)) {
		t.Fatalf("HASH(1) %x, computed %x", h.Data, mac.Sum(nil))
	}
	// HASH(2) = prf(SKEYID_a, M-ID | Ni_b | the payloads after HASH).
	qm2 := chains["strongswan-5.9.8-quick-mode-2-plain.hex"]
	mac.Reset()
	mac.Write(binary.BigEndian.AppendUint32(nil, ssQuickModeID))
	mac.Write(qm1.RawBody(2))
	mac.Write(qm2.RawAfter(0))
	if h := qm2.Payloads[0].(*Hash); !hmac.Equal(h.Data, mac.Sum(nil)) {
		t.Fatalf("HASH(2) %x, computed %x", h.Data, mac.Sum(nil))
	}

	info := chains["strongswan-5.9.8-informational-plain.hex"]
	if n := info.Payloads[1].(*Notify); info.String() != "[HASH N]" || n.Type != NO_PROPOSAL_CHOSEN ||
		n.Protocol != ProtocolESP || !bytes.Equal(n.SPI, sa.Proposals[0].SPI) {
		t.Fatalf("Informational %s %+v", info, info.Payloads)
	}
}

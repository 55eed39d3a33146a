package ikev2

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"ipsecgw/config/schema"
	"ipsecgw/ike/wire"
	"ipsecgw/transform"
)

var (
	aes256sha256g14 = ikeProposal("cbc", "aes-256-cbc", "sha-256", "group14")
	gcm256sha384g20 = ikeProposal("gcm", "aes-256-gcm", "sha-384", "group20")
	chachaG31       = ikeProposal("chacha", "chacha20-poly1305", "sha-256", "group31")
	tdesSHA1G2      = ikeProposal("seed004", "3des-cbc", "sha1", "group2")
)

// TestSelectIKE: the responder's choice, Junos order (its own list first),
// echoed with the initiator's proposal number and one transform per type.
func TestSelectIKE(t *testing.T) {
	strongSwan := strongSwanSA(t).Proposals
	for _, tc := range []struct {
		name    string
		offered []wire.Proposal
		mine    []*schema.IKEProposal
		want    wire.Proposal // Number 0: no proposal chosen
		local   int
	}{
		{"strongSwan defaults, aes-256-cbc/sha-256/group14", strongSwan, []*schema.IKEProposal{aes256sha256g14},
			ikeProp(1, encr(transform.ENCR_AES_CBC, 256), prf(transform.PRF_HMAC_SHA2_256),
				integ(transform.AUTH_HMAC_SHA2_256_128), ke(transform.MODP_2048)), 0},
		{"strongSwan defaults, chacha20 is its proposal 2", strongSwan, []*schema.IKEProposal{chachaG31},
			ikeProp(2, encr(transform.ENCR_CHACHA20_POLY1305, 0), prf(transform.PRF_HMAC_SHA2_256), ke(transform.CURVE25519)), 0},
		{"strongSwan defaults, seed 004 defaults", strongSwan, []*schema.IKEProposal{tdesSHA1G2}, wire.Proposal{}, 0},
		{"local order wins over the initiator's",
			[]wire.Proposal{
				ikeProp(1, encr(transform.ENCR_AES_CBC, 256), prf(transform.PRF_HMAC_SHA2_256), integ(transform.AUTH_HMAC_SHA2_256_128), ke(transform.MODP_2048)),
				ikeProp(2, encr(transform.ENCR_AES_GCM_16, 256), prf(transform.PRF_HMAC_SHA2_384), ke(transform.ECP_384)),
			},
			[]*schema.IKEProposal{gcm256sha384g20, aes256sha256g14},
			ikeProp(2, encr(transform.ENCR_AES_GCM_16, 256), prf(transform.PRF_HMAC_SHA2_384), ke(transform.ECP_384)), 0},
		{"second local proposal",
			[]wire.Proposal{ikeProp(1, encr(transform.ENCR_3DES, 0), prf(transform.PRF_HMAC_SHA1), integ(transform.AUTH_HMAC_SHA1_96), ke(transform.MODP_1024))},
			[]*schema.IKEProposal{aes256sha256g14, tdesSHA1G2},
			ikeProp(1, encr(transform.ENCR_3DES, 0), prf(transform.PRF_HMAC_SHA1), integ(transform.AUTH_HMAC_SHA1_96), ke(transform.MODP_1024)), 1},
		{"AEAD offered with INTEG NONE echoes NONE",
			[]wire.Proposal{ikeProp(1, encr(transform.ENCR_AES_GCM_16, 256), prf(transform.PRF_HMAC_SHA2_384), integ(0), ke(transform.ECP_384))},
			[]*schema.IKEProposal{gcm256sha384g20},
			ikeProp(1, encr(transform.ENCR_AES_GCM_16, 256), prf(transform.PRF_HMAC_SHA2_384), integ(0), ke(transform.ECP_384)), 0},
		{"AEAD offered with a real INTEG is refused",
			[]wire.Proposal{ikeProp(1, encr(transform.ENCR_AES_GCM_16, 256), prf(transform.PRF_HMAC_SHA2_384), integ(transform.AUTH_HMAC_SHA2_384_192), ke(transform.ECP_384))},
			[]*schema.IKEProposal{gcm256sha384g20}, wire.Proposal{}, 0},
		{"key length must match",
			[]wire.Proposal{ikeProp(1, encr(transform.ENCR_AES_CBC, 128), prf(transform.PRF_HMAC_SHA2_256), integ(transform.AUTH_HMAC_SHA2_256_128), ke(transform.MODP_2048))},
			[]*schema.IKEProposal{aes256sha256g14}, wire.Proposal{}, 0},
		{"unknown transforms and attributes are passed over",
			[]wire.Proposal{ikeProp(1, encr(1025, 0),
				wire.Transform{Type: transform.TypeENCR, ID: transform.ENCR_AES_CBC, KeyLength: 256, Attributes: []wire.Attribute{{Type: 99, TV: true, Value: []byte{0, 0}}}},
				encr(transform.ENCR_AES_CBC, 256), prf(transform.PRF_HMAC_SHA2_256), integ(transform.AUTH_HMAC_SHA2_256_128), ke(18), ke(transform.MODP_2048))},
			[]*schema.IKEProposal{aes256sha256g14},
			ikeProp(1, encr(transform.ENCR_AES_CBC, 256), prf(transform.PRF_HMAC_SHA2_256), integ(transform.AUTH_HMAC_SHA2_256_128), ke(transform.MODP_2048)), 0},
		{"a transform type IKE does not negotiate voids the proposal (§3.3.6)",
			[]wire.Proposal{ikeProp(1, encr(transform.ENCR_AES_CBC, 256), prf(transform.PRF_HMAC_SHA2_256), integ(transform.AUTH_HMAC_SHA2_256_128), ke(transform.MODP_2048),
				wire.Transform{Type: 6, ID: 14})},
			[]*schema.IKEProposal{aes256sha256g14}, wire.Proposal{}, 0},
		{"ESN in an IKE proposal voids it",
			[]wire.Proposal{ikeProp(1, encr(transform.ENCR_AES_CBC, 256), prf(transform.PRF_HMAC_SHA2_256), integ(transform.AUTH_HMAC_SHA2_256_128), ke(transform.MODP_2048), esn(0))},
			[]*schema.IKEProposal{aes256sha256g14}, wire.Proposal{}, 0},
		{"missing KE",
			[]wire.Proposal{ikeProp(1, encr(transform.ENCR_AES_CBC, 256), prf(transform.PRF_HMAC_SHA2_256), integ(transform.AUTH_HMAC_SHA2_256_128))},
			[]*schema.IKEProposal{aes256sha256g14}, wire.Proposal{}, 0},
		{"an ESP proposal is not an IKE one",
			[]wire.Proposal{{Number: 1, Protocol: wire.ProtocolESP, Transforms: []wire.Transform{encr(transform.ENCR_AES_CBC, 256), prf(transform.PRF_HMAC_SHA2_256), integ(transform.AUTH_HMAC_SHA2_256_128), ke(transform.MODP_2048)}}},
			[]*schema.IKEProposal{aes256sha256g14}, wire.Proposal{}, 0},
		{"an SPI in IKE_SA_INIT",
			[]wire.Proposal{{Number: 1, Protocol: wire.ProtocolIKE, SPI: make([]byte, 8), Transforms: []wire.Transform{encr(transform.ENCR_AES_CBC, 256), prf(transform.PRF_HMAC_SHA2_256), integ(transform.AUTH_HMAC_SHA2_256_128), ke(transform.MODP_2048)}}},
			[]*schema.IKEProposal{aes256sha256g14}, wire.Proposal{}, 0},
		{"no offer at all", nil, []*schema.IKEProposal{aes256sha256g14}, wire.Proposal{}, 0},
	} {
		mine := mustIKEOffer(t, tc.mine...)
		got, err := SelectIKE(tc.offered, mine)
		if tc.want.Number == 0 {
			var pe *ProposalError
			if !errors.As(err, &pe) || !errors.Is(err, ErrNoProposalChosen) || NotifyFor(err) != wire.NO_PROPOSAL_CHOSEN {
				t.Errorf("%s: %v (%+v), want a no-proposal-chosen *ProposalError", tc.name, err, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !reflect.DeepEqual(got.Proposal, tc.want) || got.Local != tc.local {
			t.Errorf("%s:\n got %s (local %d)\nwant %s (local %d)", tc.name, Describe(got.Proposal), got.Local, Describe(tc.want), tc.local)
		}
		checkIKESuite(t, tc.name, got)
		// The initiator accepts the answer and reads the same suite.
		back, err := CheckIKEChosen(tc.offered, []wire.Proposal{got.Proposal})
		if err != nil || back.Suite != got.Suite || back.KE != got.KE {
			t.Errorf("%s: the initiator's check: %v", tc.name, err)
		}
	}
}

// checkIKESuite: the typed result names the rows of the echoed proposal.
func checkIKESuite(t *testing.T, name string, s *IKESelection) {
	t.Helper()
	for _, tr := range s.Proposal.Transforms {
		var got *transform.Transform
		switch tr.Type {
		case transform.TypeENCR:
			got = s.Suite.Encryption
		case transform.TypePRF:
			got = s.Suite.PRF
		case transform.TypeINTEG:
			got = s.Suite.Integrity
		case transform.TypeKE:
			got = s.KE
		}
		want, _ := tr.Lookup()
		if got != want {
			t.Errorf("%s: %v in the suite is %v, the proposal says %v", name, tr.Type, got, want)
		}
	}
}

// TestSelectIKERekey: rekeying the IKE SA in CREATE_CHILD_SA, proposals
// carry 8-byte SPIs; the answer carries ours, the result the peer's.
func TestSelectIKERekey(t *testing.T) {
	mine := mustIKEOffer(t, aes256sha256g14)
	mine[0].SPI = []byte{1, 1, 1, 1, 1, 1, 1, 1}
	offered := mustIKEOffer(t, aes256sha256g14)
	offered[0].SPI = []byte{2, 2, 2, 2, 2, 2, 2, 2}
	got, err := SelectIKE(offered, mine)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Proposal.SPI) != string(mine[0].SPI) || string(got.PeerSPI) != string(offered[0].SPI) {
		t.Errorf("SPIs: answer %x, peer %x", got.Proposal.SPI, got.PeerSPI)
	}
	offered[0].SPI = nil
	if _, err := SelectIKE(offered, mine); err == nil {
		t.Error("a rekey proposal without SPI was accepted")
	}
}

// TestInsecureRefused: a peer's insecure transforms are never chosen, even
// against a local list that names them.
func TestInsecureRefused(t *testing.T) {
	des := ikeProp(1, encr(transform.InsecureENCR_DES, 0), prf(transform.PRF_HMAC_SHA1), integ(transform.AUTH_HMAC_SHA1_96), ke(transform.MODP_1024))
	g1 := ikeProp(1, encr(transform.ENCR_3DES, 0), prf(transform.PRF_HMAC_SHA1), integ(transform.AUTH_HMAC_SHA1_96), ke(transform.InsecureMODP_768))
	for _, p := range []wire.Proposal{des, g1} {
		if s, err := SelectIKE([]wire.Proposal{p}, []wire.Proposal{p}); err == nil {
			t.Errorf("%s: chosen %s", Describe(p), Describe(s.Proposal))
		} else if !strings.Contains(err.Error(), "(insecure)") {
			t.Errorf("%s: the error does not say why: %v", Describe(p), err)
		}
	}
	// With a secure alternative in the same proposal, that one is taken.
	both := ikeProp(1, encr(transform.InsecureENCR_DES, 0), encr(transform.ENCR_3DES, 0), prf(transform.PRF_HMAC_SHA1),
		integ(transform.AUTH_HMAC_SHA1_96), ke(transform.InsecureMODP_768), ke(transform.MODP_1024))
	s, err := SelectIKE([]wire.Proposal{both}, []wire.Proposal{both})
	if err != nil {
		t.Fatal(err)
	}
	if s.Suite.Encryption.ID != transform.ENCR_3DES || s.KE.ID != transform.MODP_1024 {
		t.Errorf("chosen %s", Describe(s.Proposal))
	}
	espDES := espProp(1, 7, encr(transform.InsecureENCR_DES, 0), integ(transform.AUTH_HMAC_SHA1_96), esn(0))
	if _, err := SelectESP([]wire.Proposal{espDES}, []wire.Proposal{espDES}, wire.IKE_AUTH); err == nil {
		t.Error("ESP with DES chosen")
	}
}

// TestNoProposalChosenListsBothSides: the error an operator sees names
// every proposal of both sides.
func TestNoProposalChosenListsBothSides(t *testing.T) {
	mine := mustIKEOffer(t, seed004(t).IKE.Policies[0].Proposals...)
	_, err := SelectIKE(strongSwanSA(t).Proposals, mine)
	var pe *ProposalError
	if !errors.As(err, &pe) {
		t.Fatalf("%v, want a *ProposalError", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"no proposal chosen for IKE",
		"peer proposals: [#1 IKE ENCR=aes128-cbc,aes192-cbc,aes256-cbc INTEG=hmac-sha256-128,",
		"; #2 IKE ENCR=chacha20-poly1305 PRF=hmac-sha256,hmac-sha384,hmac-sha512,hmac-sha1 KE=DH-group-31,",
		"local proposals: [#1 IKE ENCR=3des-cbc PRF=hmac-sha1 INTEG=hmac-sha1-96 KE=DH-group-2]",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if len(pe.Peer) != 2 || len(pe.Local) != 1 || pe.Protocol != wire.ProtocolIKE || pe.Reason != "" {
		t.Errorf("fields: %+v", pe)
	}
}

func TestSelectESP(t *testing.T) {
	const ours, theirs = 0xc0010001, 0xc0020002
	gcm := ipsecProposal("gcm", "aes-256-gcm", "", false)
	cbcESN := ipsecProposal("cbc", "aes-128-cbc", "hmac-sha-256-128", true)
	for _, tc := range []struct {
		name     string
		offered  []wire.Proposal
		mine     []*schema.IPsecProposal
		pfs      string
		exchange wire.ExchangeType
		want     wire.Proposal // Number 0: none
		ke       transform.ID
		esn      bool
	}{
		{"seed 004 in IKE_AUTH",
			[]wire.Proposal{espProp(1, theirs, encr(transform.ENCR_AES_GCM_16, 256), esn(0))},
			[]*schema.IPsecProposal{gcm}, "", wire.IKE_AUTH,
			espProp(1, ours, encr(transform.ENCR_AES_GCM_16, 256), esn(0)), 0, false},
		{"KE in IKE_AUTH is ignored (§1.2)",
			[]wire.Proposal{espProp(1, theirs, encr(transform.ENCR_AES_GCM_16, 256), ke(transform.MODP_2048), esn(0))},
			[]*schema.IPsecProposal{gcm}, "group14", wire.IKE_AUTH,
			espProp(1, ours, encr(transform.ENCR_AES_GCM_16, 256), esn(0)), 0, false},
		{"PFS in CREATE_CHILD_SA",
			[]wire.Proposal{espProp(1, theirs, encr(transform.ENCR_AES_GCM_16, 256), ke(transform.ECP_256), ke(transform.MODP_2048), esn(0))},
			[]*schema.IPsecProposal{gcm}, "group14", wire.CREATE_CHILD_SA,
			espProp(1, ours, encr(transform.ENCR_AES_GCM_16, 256), ke(transform.MODP_2048), esn(0)), transform.MODP_2048, false},
		{"PFS wanted, none offered",
			[]wire.Proposal{espProp(1, theirs, encr(transform.ENCR_AES_GCM_16, 256), esn(0))},
			[]*schema.IPsecProposal{gcm}, "group14", wire.CREATE_CHILD_SA, wire.Proposal{}, 0, false},
		{"PFS offered, none wanted",
			[]wire.Proposal{espProp(1, theirs, encr(transform.ENCR_AES_GCM_16, 256), ke(transform.MODP_2048), esn(0))},
			[]*schema.IPsecProposal{gcm}, "", wire.CREATE_CHILD_SA, wire.Proposal{}, 0, false},
		{"PFS optional (KE NONE offered), none wanted",
			[]wire.Proposal{espProp(1, theirs, encr(transform.ENCR_AES_GCM_16, 256), ke(transform.MODP_2048), ke(0), esn(0))},
			[]*schema.IPsecProposal{gcm}, "", wire.CREATE_CHILD_SA,
			espProp(1, ours, encr(transform.ENCR_AES_GCM_16, 256), ke(0), esn(0)), 0, false},
		{"ESN both offered, ESN wanted",
			[]wire.Proposal{espProp(1, theirs, encr(transform.ENCR_AES_CBC, 128), integ(transform.AUTH_HMAC_SHA2_256_128), esn(0), esn(1))},
			[]*schema.IPsecProposal{cbcESN}, "", wire.IKE_AUTH,
			espProp(1, ours, encr(transform.ENCR_AES_CBC, 128), integ(transform.AUTH_HMAC_SHA2_256_128), esn(1)), 0, true},
		{"ESN wanted, not offered",
			[]wire.Proposal{espProp(1, theirs, encr(transform.ENCR_AES_CBC, 128), integ(transform.AUTH_HMAC_SHA2_256_128), esn(0))},
			[]*schema.IPsecProposal{cbcESN}, "", wire.IKE_AUTH, wire.Proposal{}, 0, false},
		{"ESN transform missing (mandatory for ESP)",
			[]wire.Proposal{espProp(1, theirs, encr(transform.ENCR_AES_GCM_16, 256))},
			[]*schema.IPsecProposal{gcm}, "", wire.IKE_AUTH, wire.Proposal{}, 0, false},
		{"CBC without INTEG",
			[]wire.Proposal{espProp(1, theirs, encr(transform.ENCR_AES_CBC, 128), esn(1))},
			[]*schema.IPsecProposal{cbcESN}, "", wire.IKE_AUTH, wire.Proposal{}, 0, false},
		{"SPI 0 refused",
			[]wire.Proposal{espProp(1, 0, encr(transform.ENCR_AES_GCM_16, 256), esn(0))},
			[]*schema.IPsecProposal{gcm}, "", wire.IKE_AUTH, wire.Proposal{}, 0, false},
		{"PRF in an ESP proposal voids it",
			[]wire.Proposal{espProp(1, theirs, encr(transform.ENCR_AES_GCM_16, 256), prf(transform.PRF_HMAC_SHA1), esn(0))},
			[]*schema.IPsecProposal{gcm}, "", wire.IKE_AUTH, wire.Proposal{}, 0, false},
		{"local order: GCM first though offered second",
			[]wire.Proposal{
				espProp(1, theirs, encr(transform.ENCR_AES_CBC, 128), integ(transform.AUTH_HMAC_SHA2_256_128), esn(1)),
				espProp(2, theirs, encr(transform.ENCR_AES_GCM_16, 256), esn(0)),
			},
			[]*schema.IPsecProposal{gcm, cbcESN}, "", wire.IKE_AUTH,
			espProp(2, ours, encr(transform.ENCR_AES_GCM_16, 256), esn(0)), 0, false},
	} {
		mine := mustESPOffer(t, tc.pfs, ours, tc.mine...)
		got, err := SelectESP(tc.offered, mine, tc.exchange)
		if tc.want.Number == 0 {
			if !errors.Is(err, ErrNoProposalChosen) {
				t.Errorf("%s: %v, want no proposal chosen", tc.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !reflect.DeepEqual(got.Proposal, tc.want) {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, Describe(got.Proposal), Describe(tc.want))
		}
		var keID transform.ID
		if got.KE != nil {
			keID = got.KE.ID
		}
		if got.PeerSPI != theirs || got.ESN != tc.esn || keID != tc.ke {
			t.Errorf("%s: peer SPI %#x, ESN %v, KE %v", tc.name, got.PeerSPI, got.ESN, got.KE)
		}
		if got.Suite.Encryption == nil || got.Suite.Encryption.IsAEAD() != (got.Suite.Integrity == nil) {
			t.Errorf("%s: suite %+v", tc.name, got.Suite)
		}
		back, err := CheckESPChosen(tc.offered, []wire.Proposal{got.Proposal}, tc.exchange)
		if err != nil || back.Suite != got.Suite || back.ESN != got.ESN || back.KE != got.KE || back.PeerSPI != ours {
			t.Errorf("%s: the initiator's check: %v %+v", tc.name, err, back)
		}
	}
	if _, err := SelectESP(nil, nil, wire.INFORMATIONAL); err == nil || errors.Is(err, ErrNoProposalChosen) {
		t.Errorf("INFORMATIONAL: %v, want a caller error", err)
	}
}

// TestCheckChosen: the initiator refuses every malformed answer.
func TestCheckChosen(t *testing.T) {
	sent := mustIKEOffer(t, aes256sha256g14, gcm256sha384g20)
	good := sent[0]
	good.Transforms = append([]wire.Transform(nil), sent[0].Transforms...)
	with := func(ts ...wire.Transform) []wire.Proposal { return []wire.Proposal{ikeProp(1, ts...)} }
	cbc, p256, i256, g14 := encr(transform.ENCR_AES_CBC, 256), prf(transform.PRF_HMAC_SHA2_256), integ(transform.AUTH_HMAC_SHA2_256_128), ke(transform.MODP_2048)
	for _, tc := range []struct {
		name   string
		chosen []wire.Proposal
		want   string // empty: accepted
	}{
		{"as offered", []wire.Proposal{good}, ""},
		{"transforms in another order", with(g14, i256, p256, cbc), ""},
		{"the second proposal", []wire.Proposal{sent[1]}, ""},
		{"two proposals", sent, "2 proposals, want exactly one"},
		{"no proposal", nil, "0 proposals"},
		{"number never sent", []wire.Proposal{ikeProp(3, cbc, p256, i256, g14)}, "proposal number 3 was not offered"},
		{"two ENCR", with(cbc, cbc, p256, i256, g14), "2 ENCR transforms, want exactly one"},
		{"unknown transform", with(encr(1025, 0), p256, i256, g14), "unknown transform ENCR unknown-1025"},
		{"transform not offered", with(encr(transform.ENCR_AES_CBC, 128), p256, i256, g14), "ENCR aes128-cbc was not offered in proposal 1"},
		{"group of the other proposal", with(cbc, p256, i256, ke(transform.ECP_384)), "KE DH-group-20 was not offered"},
		{"INTEG missing", with(cbc, p256, g14), "no INTEG transform"},
		{"INTEG with the AEAD", []wire.Proposal{ikeProp(2, encr(transform.ENCR_AES_GCM_16, 256), prf(transform.PRF_HMAC_SHA2_384), integ(transform.AUTH_HMAC_SHA2_384_192), ke(transform.ECP_384))}, "INTEG hmac-sha384-192 was not offered"},
		{"ESN in IKE", with(cbc, p256, i256, g14, esn(0)), "transform type ESN, which IKE does not negotiate"},
		{"unknown type", with(cbc, p256, i256, g14, wire.Transform{Type: 13, ID: 1}), "transform type Type(13)"},
		{"SPI in IKE_SA_INIT", []wire.Proposal{{Number: 1, Protocol: wire.ProtocolIKE, SPI: make([]byte, 8), Transforms: good.Transforms}}, "SPI of 8 bytes, want 0"},
		{"protocol", []wire.Proposal{{Number: 1, Protocol: wire.ProtocolESP, Transforms: good.Transforms}}, "protocol ESP, proposal 1 offered IKE"},
		{"attributes", with(wire.Transform{Type: transform.TypeENCR, ID: transform.ENCR_AES_CBC, KeyLength: 256, Attributes: []wire.Attribute{{Type: 5, TV: true, Value: []byte{0, 1}}}}, p256, i256, g14), "unknown transform ENCR"},
	} {
		got, err := CheckIKEChosen(sent, tc.chosen)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: accepted %+v", tc.name, got)
			continue
		}
		if !errors.Is(err, ErrNoProposalChosen) || NotifyFor(err) != wire.NO_PROPOSAL_CHOSEN || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v\nwant NO_PROPOSAL_CHOSEN with %q", tc.name, err, tc.want)
		}
		if !strings.Contains(err.Error(), "local proposals: [#1 IKE ENCR=aes256-cbc") {
			t.Errorf("%s: the error does not list what was sent: %v", tc.name, err)
		}
	}
}

func TestCheckESPChosen(t *testing.T) {
	const ours, theirs = 0x11111111, 0x22222222
	sentAuth := mustESPOffer(t, "", ours, ipsecProposal("gcm", "aes-256-gcm", "", false))
	sentPFS := mustESPOffer(t, "group19", ours, ipsecProposal("gcm", "aes-256-gcm", "", false))
	gcm := encr(transform.ENCR_AES_GCM_16, 256)
	for _, tc := range []struct {
		name     string
		sent     []wire.Proposal
		chosen   wire.Proposal
		exchange wire.ExchangeType
		want     string
	}{
		{"IKE_AUTH", sentAuth, espProp(1, theirs, gcm, esn(0)), wire.IKE_AUTH, ""},
		{"KE NONE in IKE_AUTH is tolerated", sentAuth, espProp(1, theirs, gcm, ke(0), esn(0)), wire.IKE_AUTH, ""},
		{"a group in IKE_AUTH", sentAuth, espProp(1, theirs, gcm, ke(transform.ECP_256), esn(0)), wire.IKE_AUTH, "KE DH-group-19 in IKE_AUTH"},
		{"PFS answered", sentPFS, espProp(1, theirs, gcm, ke(transform.ECP_256), esn(0)), wire.CREATE_CHILD_SA, ""},
		{"PFS dropped by the responder", sentPFS, espProp(1, theirs, gcm, esn(0)), wire.CREATE_CHILD_SA, "no KE transform"},
		{"ESN not offered", sentAuth, espProp(1, theirs, gcm, esn(1)), wire.IKE_AUTH, "ESN Enabled was not offered"},
		{"SPI 0", sentAuth, espProp(1, 0, gcm, esn(0)), wire.IKE_AUTH, "ESP SPI 0"},
		{"short SPI", sentAuth, wire.Proposal{Number: 1, Protocol: wire.ProtocolESP, SPI: []byte{1, 2}, Transforms: []wire.Transform{gcm, esn(0)}}, wire.IKE_AUTH, "SPI of 2 bytes, want 4"},
	} {
		got, err := CheckESPChosen(tc.sent, []wire.Proposal{tc.chosen}, tc.exchange)
		if tc.want == "" {
			if err != nil || got.PeerSPI != theirs {
				t.Errorf("%s: %v %+v", tc.name, err, got)
			}
			continue
		}
		if !errors.Is(err, ErrNoProposalChosen) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

package ikev2

import (
	"reflect"
	"strings"
	"testing"

	"ipsecgw/config/schema"
	"ipsecgw/ike/wire"
	"ipsecgw/transform"
)

// TestSeed004Offers: the seed 004 IKE proposal (authentication-method
// only) offers the defaults the seed negotiated, 3DES-CBC / HMAC-SHA1-96 /
// PRF-HMAC-SHA1 / group 2; its aes-256-gcm IPsec proposal offers
// ENCR_AES_GCM_16 with a 256-bit key, no INTEG and no ESN.
func TestSeed004Offers(t *testing.T) {
	c := seed004(t)
	ike, err := ikeOfferOf(c.IKE.Policies[0].Proposals)
	if err != nil {
		t.Fatal(err)
	}
	wantIKE := []wire.Proposal{ikeProp(1, encr(transform.ENCR_3DES, 0), prf(transform.PRF_HMAC_SHA1),
		integ(transform.AUTH_HMAC_SHA1_96), ke(transform.MODP_1024))}
	if !reflect.DeepEqual(ike, wantIKE) {
		t.Errorf("IKE offer:\n got %v\nwant %v", describeAll(ike), describeAll(wantIKE))
	}
	esp, err := espOfferOf(c.IPsec.Policies[0].Proposals, c.IPsec.Policies[0].PFSGroup, 0xc0010001)
	if err != nil {
		t.Fatal(err)
	}
	wantESP := []wire.Proposal{espProp(1, 0xc0010001, encr(transform.ENCR_AES_GCM_16, 256), esn(transform.NO_ESN))}
	if !reflect.DeepEqual(esp, wantESP) {
		t.Errorf("ESP offer:\n got %v\nwant %v", describeAll(esp), describeAll(wantESP))
	}
}

func TestIKEOfferMapping(t *testing.T) {
	for _, tc := range []struct {
		enc, auth, dh string
		want          []wire.Transform
	}{
		{"3des-cbc", "sha1", "group2", []wire.Transform{encr(transform.ENCR_3DES, 0),
			prf(transform.PRF_HMAC_SHA1), integ(transform.AUTH_HMAC_SHA1_96), ke(transform.MODP_1024)}},
		{"aes-128-cbc", "sha-256", "group14", []wire.Transform{encr(transform.ENCR_AES_CBC, 128),
			prf(transform.PRF_HMAC_SHA2_256), integ(transform.AUTH_HMAC_SHA2_256_128), ke(transform.MODP_2048)}},
		{"aes-192-cbc", "md5", "group5", []wire.Transform{encr(transform.ENCR_AES_CBC, 192),
			prf(transform.PRF_HMAC_MD5), integ(transform.AUTH_HMAC_MD5_96), ke(transform.MODP_1536)}},
		{"aes-256-cbc", "sha-512", "group21", []wire.Transform{encr(transform.ENCR_AES_CBC, 256),
			prf(transform.PRF_HMAC_SHA2_512), integ(transform.AUTH_HMAC_SHA2_512_256), ke(transform.ECP_521)}},
		// AEAD: the PRF still comes from authentication-algorithm, no INTEG.
		{"aes-128-gcm", "sha-256", "group19", []wire.Transform{encr(transform.ENCR_AES_GCM_16, 128),
			prf(transform.PRF_HMAC_SHA2_256), ke(transform.ECP_256)}},
		{"aes-256-gcm", "sha-384", "group20", []wire.Transform{encr(transform.ENCR_AES_GCM_16, 256),
			prf(transform.PRF_HMAC_SHA2_384), ke(transform.ECP_384)}},
		{"chacha20-poly1305", "sha-256", "group31", []wire.Transform{encr(transform.ENCR_CHACHA20_POLY1305, 0),
			prf(transform.PRF_HMAC_SHA2_256), ke(transform.CURVE25519)}},
		{"aes-256-cbc", "sha-384", "group24", []wire.Transform{encr(transform.ENCR_AES_CBC, 256),
			prf(transform.PRF_HMAC_SHA2_384), integ(transform.AUTH_HMAC_SHA2_384_192), ke(transform.MODP_2048_256)}},
	} {
		name := tc.enc + "/" + tc.auth + "/" + tc.dh
		got, err := ikeOfferOf([]*schema.IKEProposal{ikeProposal("p", tc.enc, tc.auth, tc.dh)})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		want := []wire.Proposal{ikeProp(1, tc.want...)}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %v\nwant %v", name, describeAll(got), describeAll(want))
		}
	}
}

func TestIKEOfferErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		props []*schema.IKEProposal
		want  string
	}{
		{"none", nil, "no IKE proposals"},
		{"des", []*schema.IKEProposal{ikeProposal("old", "des-cbc", "sha1", "group2")}, "proposal old: encryption-algorithm des-cbc is insecure"},
		{"group1", []*schema.IKEProposal{ikeProposal("old", "3des-cbc", "sha1", "group1")}, "dh-group group1 is insecure"},
		{"unknown cipher", []*schema.IKEProposal{ikeProposal("x", "aes-512-cbc", "sha1", "group2")}, `encryption-algorithm "aes-512-cbc" is not one ipsecgw knows`},
		{"aes-192-gcm is IPsec only", []*schema.IKEProposal{ikeProposal("x", "aes-192-gcm", "sha1", "group2")}, `"aes-192-gcm"`},
		{"IPsec keyword", []*schema.IKEProposal{ikeProposal("x", "aes-128-cbc", "hmac-sha1-96", "group2")}, `authentication-algorithm "hmac-sha1-96"`},
		{"unset", []*schema.IKEProposal{ikeProposal("x", "", "sha1", "group2")}, "has no encryption-algorithm"},
		{"predefined basic", []*schema.IKEProposal{{Name: "basic-1", EncryptionAlgorithm: "des-cbc",
			AuthenticationAlgorithm: "sha1", DHGroup: "group1", Predefined: true}}, "basic-1: encryption-algorithm des-cbc is insecure"},
	} {
		_, err := ikeOfferOf(tc.props)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	many := make([]*schema.IKEProposal, 256)
	for i := range many {
		many[i] = ikeProposal("p", "aes-128-cbc", "sha1", "group14")
	}
	if _, err := ikeOfferOf(many); err == nil {
		t.Error("256 proposals: no error, the proposal number has 8 bits")
	}
}

func TestESPOfferMapping(t *testing.T) {
	for _, tc := range []struct {
		name string
		prop *schema.IPsecProposal
		pfs  string
		want []wire.Transform
	}{
		{"aes-256-gcm", ipsecProposal("p", "aes-256-gcm", "", false), "",
			[]wire.Transform{encr(transform.ENCR_AES_GCM_16, 256), esn(transform.NO_ESN)}},
		{"aes-192-gcm with ESN", ipsecProposal("p", "aes-192-gcm", "", true), "",
			[]wire.Transform{encr(transform.ENCR_AES_GCM_16, 192), esn(transform.ESN)}},
		{"aes-128-cbc sha-256 pfs 14", ipsecProposal("p", "aes-128-cbc", "hmac-sha-256-128", true), "group14",
			[]wire.Transform{encr(transform.ENCR_AES_CBC, 128), integ(transform.AUTH_HMAC_SHA2_256_128), ke(transform.MODP_2048), esn(transform.ESN)}},
		{"3des sha1", ipsecProposal("p", "3des-cbc", "hmac-sha1-96", false), "",
			[]wire.Transform{encr(transform.ENCR_3DES, 0), integ(transform.AUTH_HMAC_SHA1_96), esn(transform.NO_ESN)}},
		{"sha-256-96 private id", ipsecProposal("p", "aes-256-cbc", "hmac-sha-256-96", false), "",
			[]wire.Transform{encr(transform.ENCR_AES_CBC, 256), integ(transform.AUTH_HMAC_SHA2_256_96), esn(transform.NO_ESN)}},
		{"chacha pfs 31", ipsecProposal("p", "chacha20-poly1305", "", false), "group31",
			[]wire.Transform{encr(transform.ENCR_CHACHA20_POLY1305, 0), ke(transform.CURVE25519), esn(transform.NO_ESN)}},
		{"protocol unset means esp", &schema.IPsecProposal{Name: "p", EncryptionAlgorithm: "aes-128-gcm"}, "",
			[]wire.Transform{encr(transform.ENCR_AES_GCM_16, 128), esn(transform.NO_ESN)}},
	} {
		got, err := espOfferOf([]*schema.IPsecProposal{tc.prop}, tc.pfs, 0x01020304)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		want := []wire.Proposal{espProp(1, 0x01020304, tc.want...)}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %v\nwant %v", tc.name, describeAll(got), describeAll(want))
		}
	}
}

func TestESPOfferErrors(t *testing.T) {
	gcm := ipsecProposal("gcm", "aes-128-gcm", "", false)
	for _, tc := range []struct {
		name  string
		props []*schema.IPsecProposal
		pfs   string
		spi   uint32
		want  string
	}{
		{"none", nil, "", 1, "no IPsec proposals"},
		{"spi 0", []*schema.IPsecProposal{gcm}, "", 0, "SPI 0 is reserved"},
		{"ah", []*schema.IPsecProposal{{Name: "a", Protocol: "ah", AuthenticationAlgorithm: "hmac-sha1-96"}}, "", 1, "protocol ah is not implemented"},
		{"aead with auth", []*schema.IPsecProposal{ipsecProposal("x", "aes-128-gcm", "hmac-sha1-96", false)}, "", 1, "is an AEAD"},
		{"cbc without auth", []*schema.IPsecProposal{ipsecProposal("x", "aes-128-cbc", "", false)}, "", 1, "has no authentication-algorithm"},
		{"des", []*schema.IPsecProposal{ipsecProposal("x", "des-cbc", "hmac-sha1-96", false)}, "", 1, "des-cbc is insecure"},
		{"pfs group1", []*schema.IPsecProposal{gcm}, "group1", 1, "group1 is insecure"},
		{"pfs unknown", []*schema.IPsecProposal{gcm}, "group99", 1, `"group99" is not one`},
	} {
		_, err := espOfferOf(tc.props, tc.pfs, tc.spi)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

// TestOffersKeepOrder: proposal i is the i-th configured one, numbered
// i+1, and the offers encode and parse back unchanged.
func TestOffersKeepOrder(t *testing.T) {
	ike := mustIKEOffer(t,
		ikeProposal("a", "aes-256-gcm", "sha-384", "group20"),
		ikeProposal("b", "aes-256-cbc", "sha-256", "group14"),
		ikeProposal("c", "3des-cbc", "sha1", "group2"))
	esp := mustESPOffer(t, "group14", 0xdeadbeef,
		ipsecProposal("a", "aes-256-gcm", "", true),
		ipsecProposal("b", "aes-128-cbc", "hmac-sha1-96", false))
	for i, want := range []transform.ID{transform.ENCR_AES_GCM_16, transform.ENCR_AES_CBC, transform.ENCR_3DES} {
		if ike[i].Number != uint8(i+1) || ike[i].Transforms[0].ID != want {
			t.Errorf("IKE proposal %d: %s", i, Describe(ike[i]))
		}
	}
	for _, ps := range [][]wire.Proposal{ike, esp} {
		_, chain, err := wire.AppendPayloads(nil, []wire.Payload{&wire.SA{Proposals: ps}})
		if err != nil {
			t.Fatal(err)
		}
		back, err := wire.ParsePayloads(wire.PayloadSA, chain)
		if err != nil {
			t.Fatal(err)
		}
		if got := back[0].(*wire.SA).Proposals; !reflect.DeepEqual(describeAll(got), describeAll(ps)) {
			t.Errorf("round trip:\n got %v\nwant %v", describeAll(got), describeAll(ps))
		}
	}
}

func TestDescribe(t *testing.T) {
	for _, tc := range []struct {
		p    wire.Proposal
		want string
	}{
		{ikeProp(1, encr(transform.ENCR_AES_CBC, 256), encr(transform.ENCR_AES_CBC, 128), prf(transform.PRF_HMAC_SHA2_256),
			integ(transform.AUTH_HMAC_SHA2_256_128), ke(transform.MODP_2048)),
			"#1 IKE ENCR=aes256-cbc,aes128-cbc PRF=hmac-sha256 INTEG=hmac-sha256-128 KE=DH-group-14"},
		{espProp(2, 0xc001d00d, encr(transform.ENCR_AES_GCM_16, 256), integ(0), ke(0), esn(transform.ESN)),
			"#2 ESP spi=0xc001d00d ENCR=aes256-gcm INTEG=none KE=none ESN=Enabled"},
		{ikeProp(3, encr(transform.InsecureENCR_DES, 0), encr(1025, 128), ke(transform.InsecureMODP_768),
			wire.Transform{Type: 6, ID: 7},
			wire.Transform{Type: transform.TypePRF, ID: 5, Attributes: []wire.Attribute{{Type: 99, TV: true, Value: []byte{0, 1}}}}),
			"#3 IKE ENCR=des-cbc(insecure),unknown-1025/128 KE=DH-group-1(insecure) Type(6)=unknown-7 PRF=unknown-5(1 unknown attributes)"},
		{wire.Proposal{Number: 4, Protocol: wire.ProtocolIKE, SPI: []byte{1, 2, 3, 4, 5, 6, 7, 8}},
			"#4 IKE spi=0x0102030405060708 (no transforms)"},
	} {
		if got := Describe(tc.p); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}

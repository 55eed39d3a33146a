package ikev2

import (
	"os"
	"testing"

	"ipsecgw/config"
	"ipsecgw/config/schema"
	"ipsecgw/ike/wire"
	"ipsecgw/transform"
)

// seed004 is the model of the seed 004 configuration (reference §6):
// an IKE proposal with only authentication-method, an IPsec proposal with
// aes-256-gcm, a route-based VPN.
func seed004(t testing.TB) *schema.Config {
	t.Helper()
	const file = "../../examples/seed004/peer1.conf"
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := config.Parse(file, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := schema.Build(tr, schema.Options{InterfaceMap: map[string]string{"et-0/2/10": "veth1"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// strongSwanSA is the SA payload of strongSwan 5.9.8's IKE_SA_INIT request
// with its default proposals (testdata/README.md).
func strongSwanSA(t testing.TB) *wire.SA {
	t.Helper()
	b, err := os.ReadFile("testdata/strongswan-5.9.8-ike-sa-init.bin")
	if err != nil {
		t.Fatal(err)
	}
	m, err := wire.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	sa, ok := wire.Find[*wire.SA](m.Payloads)
	if !ok {
		t.Fatal("no SA payload in the strongSwan request")
	}
	return sa
}

// Transform shorthands, as a packet capture lists them.
func encr(id transform.ID, bits int) wire.Transform {
	return wire.Transform{Type: transform.TypeENCR, ID: id, KeyLength: bits}
}
func prf(id transform.ID) wire.Transform   { return wire.Transform{Type: transform.TypePRF, ID: id} }
func integ(id transform.ID) wire.Transform { return wire.Transform{Type: transform.TypeINTEG, ID: id} }
func ke(id transform.ID) wire.Transform    { return wire.Transform{Type: transform.TypeKE, ID: id} }
func esn(id transform.ID) wire.Transform   { return wire.Transform{Type: transform.TypeESN, ID: id} }

func ikeProp(n uint8, ts ...wire.Transform) wire.Proposal {
	return wire.Proposal{Number: n, Protocol: wire.ProtocolIKE, Transforms: ts}
}

func espProp(n uint8, spi uint32, ts ...wire.Transform) wire.Proposal {
	return wire.Proposal{Number: n, Protocol: wire.ProtocolESP,
		SPI: []byte{byte(spi >> 24), byte(spi >> 16), byte(spi >> 8), byte(spi)}, Transforms: ts}
}

func ikeProposal(name, enc, auth, dh string) *schema.IKEProposal {
	return &schema.IKEProposal{Name: name, AuthenticationMethod: "pre-shared-keys",
		EncryptionAlgorithm: enc, AuthenticationAlgorithm: auth, DHGroup: dh}
}

func ipsecProposal(name, enc, auth string, esn bool) *schema.IPsecProposal {
	return &schema.IPsecProposal{Name: name, Protocol: "esp", EncryptionAlgorithm: enc,
		AuthenticationAlgorithm: auth, ExtendedSequenceNumbers: esn}
}

// mustIKEOffer is IKEOffer for proposals the test knows are valid.
func mustIKEOffer(t testing.TB, props ...*schema.IKEProposal) []wire.Proposal {
	t.Helper()
	ps, err := ikeOfferOf(props)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func mustESPOffer(t testing.TB, pfs string, spi uint32, props ...*schema.IPsecProposal) []wire.Proposal {
	t.Helper()
	ps, err := espOfferOf(props, pfs, spi)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

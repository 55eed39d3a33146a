package pki_test

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"
	"time"

	"ipsecgw/config/schema"
	"ipsecgw/ike"
	"ipsecgw/ike/wire"
	"ipsecgw/pki"
	"ipsecgw/pki/pkitest"
)

// peerOf is an Authenticator trusting ca, and a leaf of ca (DER) with its
// identity, as a peer would send them.
func peerOf(t testing.TB) (*pki.Authenticator, []byte, ike.Identity) {
	ca := pkitest.NewCA(t, "Root")
	a := &pki.Authenticator{Store: ca.Store(t, ca, "me.example.net", "ecdsa", false), Gateway: "g", CertificateID: "me", Method: "certificates",
		Trust: []pki.TrustPolicy{{Profile: "root"}}, RemoteIdentity: schema.Identity{Type: "distinguished-name", Wildcard: "OU=VPN"}}
	c, _ := ca.Issue(t, "peer.example.net", "rsa", false)
	b, _ := pem.Decode(c)
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return a, b.Bytes, ike.Identity{Type: ike.IDDN, Data: cert.RawSubject}
}

func TestAuthenticator(t *testing.T) {
	a, leaf, id := peerOf(t)
	cred, err := a.Local()
	if err != nil || cred.Method != wire.AuthDigitalSignature || len(cred.Certificates) != 1 || cred.ID.Type != ike.IDDN {
		t.Fatalf("Local: %+v %v", cred, err)
	}
	if len(a.CAKeyHashes()) != 1 || len(a.CASubjects()) != 1 {
		t.Fatal("the trusted CA is not named")
	}
	pc, err := a.VerifyPeer([][]byte{leaf}, id, time.Now())
	if err != nil || pc.Subject != "O=Example, OU=VPN, CN=peer.example.net" {
		t.Fatalf("VerifyPeer: %+v %v", pc, err)
	}
	// The peer's signature verifies with its certificate; ours does not.
	octets := []byte("signed octets")
	auth, err := a.SignAuth(nil, cred, nil, octets)
	if err != nil {
		t.Fatal(err)
	}
	var ae *ike.AuthError
	if err := a.VerifyAuth(pc, auth, octets); !errors.As(err, &ae) || ae.Reason != "bad signature" {
		t.Fatalf("our signature checked with the peer's key: %v", err)
	}
	for _, tc := range []struct {
		name   string
		id     ike.Identity
		at     time.Time
		reason string
	}{
		{"expired", id, time.Now().Add(48 * time.Hour), "certificate expired"},
		{"identity not in the certificate", ike.Identity{Type: ike.IDFQDN, Data: []byte("other.example.net")}, time.Now(), "identity mismatch"},
	} {
		_, err := a.VerifyPeer([][]byte{leaf}, tc.id, tc.at)
		if !errors.As(err, &ae) || ae.Reason != tc.reason {
			t.Errorf("%s: %v, want reason %q", tc.name, err, tc.reason)
		}
	}
	a.CertificateID = "missing"
	if _, err := a.Local(); err == nil {
		t.Fatal("a missing local certificate gives a credential")
	}
}

// FuzzAuthenticatorVerify: whatever a peer sends as certificate, identity
// and AUTH, the checks refuse it with a reason or accept only the real
// leaf; nothing panics.
func FuzzAuthenticatorVerify(f *testing.F) {
	a, leaf, id := peerOf(f)
	f.Add(leaf, uint8(id.Type), id.Data, uint8(wire.AuthDigitalSignature), []byte{0x0f, 0x30, 0x0d})
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01}, uint8(2), []byte("x"), uint8(1), []byte{1, 2})
	now := time.Now()
	f.Fuzz(func(t *testing.T, cert []byte, idType uint8, idData []byte, method uint8, authData []byte) {
		pc, err := a.VerifyPeer([][]byte{cert}, ike.Identity{Type: ike.IDType(idType), Data: idData}, now)
		var ae *ike.AuthError
		if err != nil {
			if !errors.As(err, &ae) || ae.Reason == "" {
				t.Fatalf("refusal without a reason: %v", err)
			}
			return
		}
		if string(cert) != string(leaf) {
			t.Fatalf("accepted a certificate that is not the CA's leaf: %x", cert)
		}
		if err := a.VerifyAuth(pc, &wire.Auth{Method: wire.AuthMethod(method), Data: authData}, []byte("octets")); err == nil {
			t.Fatal("a fuzzed AUTH verified")
		}
	})
}

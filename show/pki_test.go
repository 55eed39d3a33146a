package show

import "time"

// The pki commands on a lab store: a generated key pair without a
// certificate, a self-signed local certificate, a CA profile with a root
// and an intermediate, and its CRL.
func labLocalCertificates() []Certificate {
	nb := time.Date(2026, 12, 6, 18, 47, 0, 0, time.UTC)
	return []Certificate{
		{ID: "gw1", Version: 3, Serial: "5a0c93e1f2d4b6a8", Issuer: "DC=example, DC=net, CN=gw1", Subject: "DC=example, DC=net, CN=gw1",
			IssuerLabels: "Domain component: example, Domain component: net, Common name: gw1", SubjectLabels: "Domain component: example, Domain component: net, Common name: gw1",
			IssuedTo: "gw1", IssuedBy: "gw1", AltNames: []string{"gw1.example.net", "192.0.2.1"},
			NotBefore: nb, NotAfter: nb.Add(5 * 365 * 24 * time.Hour), PublicKey: "ecPublicKey(384 bits)",
			KeyFingerprint: "9f:86:d0:81:88:4c:7d:65", SignatureAlgorithm: "ecdsa-with-SHA384",
			SHA1: "a9:99:3e:36:47:06:81:6a", SHA256: "ba:78:16:bf:8f:01:cf:ea", KeyPairLocation: "Keypair generated locally"},
		{ID: "pending", KeyPairOnly: true, PublicKey: "rsaEncryption(3072 bits)", KeyFingerprint: "2c:26:b4:6b:68:ff:c6:8f", KeyPairLocation: "Keypair generated locally"},
	}
}

func labCACertificates() []Certificate {
	nb := time.Date(2026, 12, 6, 18, 47, 0, 0, time.UTC)
	root := Certificate{ID: "example", CAProfile: "example", Version: 3, Serial: "1c", Issuer: "C=US, O=Example, CN=Example Root CA",
		Subject: "C=US, O=Example, CN=Example Root CA", IssuerLabels: "Country: US, Organization: Example, Common name: Example Root CA",
		SubjectLabels: "Country: US, Organization: Example, Common name: Example Root CA", IssuedTo: "Example Root CA", IssuedBy: "Example Root CA",
		NotBefore: nb, NotAfter: nb.Add(3650 * 24 * time.Hour), PublicKey: "rsaEncryption(2048 bits)", KeyFingerprint: "01:02",
		SignatureAlgorithm: "sha256WithRSAEncryption", SHA1: "aa:bb", SHA256: "cc:dd"}
	inter := root
	inter.ID, inter.Serial, inter.Subject, inter.IssuedTo = "example_2", "2d", "C=US, O=Example, CN=Example Intermediate CA", "Example Intermediate CA"
	inter.SubjectLabels = "Country: US, Organization: Example, Common name: Example Intermediate CA"
	inter.PublicKey, inter.SignatureAlgorithm = "ecPublicKey(384 bits)", "sha256WithRSAEncryption"
	return []Certificate{root, inter}
}

func labCRLs() []CRL {
	t := time.Date(2026, 12, 6, 18, 47, 0, 0, time.UTC)
	return []CRL{{CAProfile: "example", Issuer: "C=US, O=Example, CN=Example Intermediate CA", Version: 1, ThisUpdate: t, NextUpdate: t.Add(15 * 24 * time.Hour),
		Revoked: []RevokedCertificate{{Serial: "7da0d54c05d07bf7", Time: t}}}}
}

func pkiGoldenCases() []goldenCase {
	return []goldenCase{
		{"pki-local-certificate", LocalCertificates(labLocalCertificates(), "", StyleDefault)},
		{"pki-local-certificate-detail", LocalCertificates(labLocalCertificates(), "gw1", StyleDetail)},
		{"pki-local-certificate-none", LocalCertificates(nil, "nope", StyleDefault)},
		{"pki-ca-certificate", CACertificates(labCACertificates(), "", StyleDefault)},
		{"pki-ca-certificate-detail", CACertificates(labCACertificates(), "example", StyleDetail)},
		{"pki-crl", CRLs(labCRLs(), "", StyleDefault)},
		{"pki-crl-detail", CRLs(labCRLs(), "", StyleDetail)},
	}
}

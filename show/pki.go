package show

import (
	"encoding/xml"
	"fmt"
	"strings"
	"time"
)

// The `show security pki` commands: local certificates, CA certificates
// and CRLs. The layouts follow Junos's (SRX, "show security pki
// local-certificate [detail]"); the XML element names are guessed (no
// capture of these RPCs), as marked on the model.

// Certificate is one certificate as the pki commands print it: every
// value already in the form printed.
type Certificate struct {
	ID            string // certificate identifier: certificate-id, or ca-profile (with _N for the Nth after the first)
	CAProfile     string // CA certificates: the profile
	Version       int
	Serial        string   // hex
	Issuer        string   // "CN=.., O=.."
	Subject       string   // "DC=example, DC=net, CN=gw1"
	IssuerLabels  string   // "Organization: Example, Common name: CA"
	SubjectLabels string   // "Domain component: example, ..."
	IssuedTo      string   // the subject's CN (or whole name)
	IssuedBy      string   // the issuer's CN (or whole name)
	AltNames      []string // subjectAltName entries: e-mail, DNS, IP
	NotBefore     time.Time
	NotAfter      time.Time
	PublicKey     string // "rsaEncryption(2048 bits)"
	// KeyFingerprint is the SHA-256 of the public key: it names the key
	// pair, whose private half is never shown.
	KeyFingerprint     string
	SignatureAlgorithm string // "sha256WithRSAEncryption"
	SHA1, SHA256       string // certificate fingerprints
	// KeyPairLocation is Junos's "Keypair Location" (local certificates).
	KeyPairLocation string
	// KeyPairOnly: generate-key-pair was run, no certificate yet.
	KeyPairOnly bool
}

// CRL is one loaded certificate revocation list.
type CRL struct {
	CAProfile  string
	Issuer     string
	Version    int
	ThisUpdate time.Time
	NextUpdate time.Time // zero when the CRL gives none
	Revoked    []RevokedCertificate
}

// RevokedCertificate is one entry of a CRL.
type RevokedCertificate struct {
	Serial string
	Time   time.Time
}

// pkiTime is how Junos prints a certificate time: "11-21-2005 23:28 UTC".
func pkiTime(t time.Time) string { return t.UTC().Format("01-02-2006 15:04 UTC") }

// LocalCertificates is `show security pki local-certificate [certificate-id
// ID] [detail]`. id selects one certificate ("" all).
func LocalCertificates(certs []Certificate, id string, style Style) Reply {
	list, t := certificates(certs, func(c Certificate) bool { return id == "" || c.ID == id }, style, true)
	if id != "" && len(list) == 0 {
		t.line("error: certificate-id %s does not exist", id)
	}
	return Reply{t.String(), &PKILocalCertificateInformation{Certificates: list}}
}

// CACertificates is `show security pki ca-certificate [ca-profile NAME]
// [detail]`.
func CACertificates(certs []Certificate, profile string, style Style) Reply {
	list, t := certificates(certs, func(c Certificate) bool { return profile == "" || c.CAProfile == profile }, style, false)
	if profile != "" && len(list) == 0 {
		t.line("error: ca-profile %s has no CA certificate", profile)
	}
	return Reply{t.String(), &PKICACertificateInformation{Certificates: list}}
}

// certificates writes the certificates keep selects, a blank line between
// them, and returns their models.
func certificates(certs []Certificate, keep func(Certificate) bool, style Style, local bool) ([]X509Certificate, *text) {
	var t text
	var list []X509Certificate
	for _, c := range certs {
		if !keep(c) {
			continue
		}
		if len(list) > 0 {
			t.line("")
		}
		list = append(list, certificateModel(c))
		writeCertificate(&t, c, style, local)
	}
	return list, &t
}

func writeCertificate(t *text, c Certificate, style Style, local bool) {
	t.line("Certificate identifier: %s", c.ID)
	if c.KeyPairOnly {
		// ipsecgw: a key pair waiting for its certificate.
		t.line("  Certificate: none (key pair only)")
		t.line("  Public key algorithm: %s", c.PublicKey)
		t.line("  Public key fingerprint: %s (sha256)", c.KeyFingerprint)
		t.line("  Keypair Location: %s", c.KeyPairLocation)
		return
	}
	if style != StyleDetail {
		t.line("  Issued to: %s, Issued by: %s", c.IssuedTo, c.IssuedBy)
		t.line("  Validity:")
		t.line("    Not before: %s", pkiTime(c.NotBefore))
		t.line("    Not after: %s", pkiTime(c.NotAfter))
		t.line("  Public key algorithm: %s", c.PublicKey)
		if local {
			t.line("  Keypair Location: %s", c.KeyPairLocation)
		}
		return
	}
	t.line("  Certificate version: %d", c.Version)
	t.line("  Serial number: %s", c.Serial)
	t.line("  Issuer:")
	t.line("    %s", c.IssuerLabels)
	t.line("  Subject:")
	t.line("    %s", c.SubjectLabels)
	t.line("  Subject string:")
	t.line("    %s", c.Subject)
	if len(c.AltNames) > 0 {
		t.line("  Alternate subject: %s", strings.Join(c.AltNames, ", "))
	}
	t.line("  Validity:")
	t.line("    Not before: %s", pkiTime(c.NotBefore))
	t.line("    Not after: %s", pkiTime(c.NotAfter))
	t.line("  Public key algorithm: %s", c.PublicKey)
	t.line("  Public key fingerprint: %s (sha256)", c.KeyFingerprint)
	t.line("  Signature algorithm: %s", c.SignatureAlgorithm)
	t.line("  Fingerprint:")
	t.line("    %s (sha1)", c.SHA1)
	t.line("    %s (sha256)", c.SHA256)
	if local {
		t.line("  Keypair Location: %s", c.KeyPairLocation)
	}
}

func certificateModel(c Certificate) X509Certificate {
	x := X509Certificate{
		Identifier: c.ID, CAProfile: c.CAProfile, PublicKeyAlgorithm: c.PublicKey, PublicKeyFingerprint: c.KeyFingerprint,
		KeyPairLocation: c.KeyPairLocation,
	}
	if c.KeyPairOnly {
		return x
	}
	x.Version = fmt.Sprint(c.Version)
	x.Serial, x.Issuer, x.Subject, x.IssuedTo, x.IssuedBy = c.Serial, c.Issuer, c.Subject, c.IssuedTo, c.IssuedBy
	x.AltNames = c.AltNames
	x.NotBefore, x.NotAfter = pkiTime(c.NotBefore), pkiTime(c.NotAfter)
	x.SignatureAlgorithm, x.SHA1, x.SHA256 = c.SignatureAlgorithm, c.SHA1, c.SHA256
	return x
}

// CRLs is `show security pki crl [ca-profile NAME] [detail]`.
func CRLs(crls []CRL, profile string, style Style) Reply {
	m := &PKICRLInformation{}
	var t text
	for _, c := range crls {
		if profile != "" && c.CAProfile != profile {
			continue
		}
		if len(m.CRLs) > 0 {
			t.line("")
		}
		e := CRLEntry{CAProfile: c.CAProfile, Version: fmt.Sprintf("V%08d", c.Version), Issuer: c.Issuer,
			EffectiveDate: pkiTime(c.ThisUpdate), RevokedCount: len(c.Revoked)}
		t.line("CA profile: %s", c.CAProfile)
		t.line("CRL version: %s", e.Version)
		t.line("CRL issuer: %s", c.Issuer)
		t.line("Effective date: %s", e.EffectiveDate)
		if !c.NextUpdate.IsZero() {
			e.NextUpdate = pkiTime(c.NextUpdate)
			t.line("Next update: %s", e.NextUpdate)
		}
		if style == StyleDetail {
			t.line("Revocation List:")
			t.line("  Serial number                        Revocation date")
			for _, r := range c.Revoked {
				t.line("  %-37s%s", r.Serial, pkiTime(r.Time))
				e.Revoked = append(e.Revoked, RevokedEntry{Serial: r.Serial, Date: pkiTime(r.Time)})
			}
		}
		m.CRLs = append(m.CRLs, e)
	}
	if profile != "" && len(m.CRLs) == 0 {
		t.line("error: ca-profile %s has no CRL", profile)
	}
	return Reply{t.String(), m}
}

// PKILocalCertificateInformation is the reply of `show security pki
// local-certificate` (element names guessed).
type PKILocalCertificateInformation struct {
	XMLName      xml.Name          `xml:"pki-local-certificate-information"`
	Certificates []X509Certificate `xml:"x509-certificate-information"`
}

// PKICACertificateInformation is the reply of `show security pki
// ca-certificate` (element names guessed).
type PKICACertificateInformation struct {
	XMLName      xml.Name          `xml:"pki-ca-certificate-information"`
	Certificates []X509Certificate `xml:"x509-certificate-information"`
}

// X509Certificate is one certificate (element names guessed).
type X509Certificate struct {
	Identifier           string   `xml:"certificate-identifier"`
	CAProfile            string   `xml:"ca-profile-name,omitempty"`
	Version              string   `xml:"certificate-version,omitempty"`
	Serial               string   `xml:"serial-number,omitempty"`
	Issuer               string   `xml:"issuer,omitempty"`
	Subject              string   `xml:"subject,omitempty"`
	IssuedTo             string   `xml:"issued-to,omitempty"`
	IssuedBy             string   `xml:"issued-by,omitempty"`
	AltNames             []string `xml:"alternate-subject,omitempty"`
	NotBefore            string   `xml:"not-before,omitempty"`
	NotAfter             string   `xml:"not-after,omitempty"`
	PublicKeyAlgorithm   string   `xml:"public-key-algorithm"`
	PublicKeyFingerprint string   `xml:"public-key-fingerprint"`
	SignatureAlgorithm   string   `xml:"signature-algorithm,omitempty"`
	SHA1                 string   `xml:"sha1-fingerprint,omitempty"`
	SHA256               string   `xml:"sha256-fingerprint,omitempty"`
	KeyPairLocation      string   `xml:"keypair-location,omitempty"`
}

// PKICRLInformation is the reply of `show security pki crl` (element
// names guessed).
type PKICRLInformation struct {
	XMLName xml.Name   `xml:"pki-crl-information"`
	CRLs    []CRLEntry `xml:"crl-information"`
}

// CRLEntry is one CRL.
type CRLEntry struct {
	CAProfile     string         `xml:"ca-profile-name"`
	Version       string         `xml:"crl-version"`
	Issuer        string         `xml:"crl-issuer"`
	EffectiveDate string         `xml:"effective-date"`
	NextUpdate    string         `xml:"next-update,omitempty"`
	RevokedCount  int            `xml:"revoked-certificate-count"`
	Revoked       []RevokedEntry `xml:"revoked-certificate"`
}

// RevokedEntry is one revoked certificate of a CRL.
type RevokedEntry struct {
	Serial string `xml:"serial-number"`
	Date   string `xml:"revocation-date"`
}

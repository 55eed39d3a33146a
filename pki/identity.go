package pki

import (
	"crypto/x509"
	"fmt"
	"net/netip"
	"strings"

	"ipsecgw/config/schema"
	"ipsecgw/ike/wire"
)

// Identities and certificates (RFC 7296 §3.5, RFC 4945 §3.1): the IKE
// identity a peer sends must be in its certificate (its subject for
// ID_DER_ASN1_DN, a subjectAltName for the others), and must be the one
// remote-identity asks for.

// CertificateHoldsID checks that the peer's ID payload names its
// certificate: ID_DER_ASN1_DN equal to the subject; ID_FQDN, ID_RFC822_ADDR,
// ID_IPV4_ADDR and ID_IPV6_ADDR among the subjectAltName entries.
func CertificateHoldsID(cert *x509.Certificate, id wire.Identification) error {
	switch id.Type {
	case wire.ID_DER_ASN1_DN:
		if wire.SameDN(id.Data, cert.RawSubject) {
			return nil
		}
		return fail(CauseIdentityMismatch, cert, "the peer's identity %s is not the certificate's subject", DNString(id.Data))
	case wire.ID_FQDN:
		for _, n := range cert.DNSNames {
			if strings.EqualFold(n, string(id.Data)) {
				return nil
			}
		}
		return fail(CauseIdentityMismatch, cert, "the peer's identity %s is not a DNS name of the certificate (%s)", id.Data, listOrNone(cert.DNSNames))
	case wire.ID_RFC822_ADDR:
		for _, n := range cert.EmailAddresses {
			if strings.EqualFold(n, string(id.Data)) {
				return nil
			}
		}
		return fail(CauseIdentityMismatch, cert, "the peer's identity %s is not an e-mail address of the certificate (%s)", id.Data, listOrNone(cert.EmailAddresses))
	case wire.ID_IPV4_ADDR, wire.ID_IPV6_ADDR:
		a, ok := netip.AddrFromSlice(id.Data)
		if !ok {
			return fail(CauseIdentityMismatch, cert, "the peer's %v identity is %d bytes", id.Type, len(id.Data))
		}
		var have []string
		for _, ip := range cert.IPAddresses {
			if b, ok := netip.AddrFromSlice(ip); ok {
				if b.Unmap() == a.Unmap() {
					return nil
				}
				have = append(have, b.Unmap().String())
			}
		}
		return fail(CauseIdentityMismatch, cert, "the peer's identity %s is not an IP address of the certificate (%s)", a, listOrNone(have))
	}
	return fail(CauseIdentityMismatch, cert, "an identity of type %v cannot be checked against a certificate", id.Type)
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "it has none"
	}
	return strings.Join(l, ", ")
}

// MatchRemoteIdentity checks a peer's certificate and ID payload against
// the gateway's remote-identity: the ID must be in the certificate
// (CertificateHoldsID), and must be what remote-identity names:
// distinguished-name exactly, by Junos's container (same attributes,
// same order, others allowed around them) or wildcard (same attributes,
// any order; "CN=" any value); hostname, user-at-hostname, inet and inet6
// exactly. An unset remote-identity accepts any identity the certificate
// holds.
func MatchRemoteIdentity(want schema.Identity, cert *x509.Certificate, id wire.Identification) error {
	if err := CertificateHoldsID(cert, id); err != nil {
		return err
	}
	mismatch := func(format string, args ...any) error {
		return fail(CauseIdentityMismatch, cert, format, args...)
	}
	switch want.Type {
	case "":
		return nil
	case "distinguished-name":
		if id.Type != wire.ID_DER_ASN1_DN {
			return mismatch("remote-identity is a distinguished name and the peer sent %v", id.Type)
		}
		switch {
		case want.Value != "":
			der, err := SubjectDER(want.Value)
			if err != nil {
				return mismatch("remote-identity: %v", err)
			}
			if !wire.SameDN(der, cert.RawSubject) {
				return mismatch("subject is not %s", want.Value)
			}
		case want.Container != "":
			ok, err := MatchContainer(want.Container, cert.RawSubject)
			if err != nil || !ok {
				return mismatch("subject does not contain %q in that order (container)", want.Container)
			}
		case want.Wildcard != "":
			ok, err := MatchWildcard(want.Wildcard, cert.RawSubject)
			if err != nil || !ok {
				return mismatch("subject does not have every attribute of %q (wildcard)", want.Wildcard)
			}
		}
		return nil
	case "hostname":
		if id.Type != wire.ID_FQDN || !strings.EqualFold(string(id.Data), want.Value) {
			return mismatch("remote-identity hostname %s, the peer sent %v %s", want.Value, id.Type, idText(id))
		}
		return nil
	case "user-at-hostname":
		if id.Type != wire.ID_RFC822_ADDR || !strings.EqualFold(string(id.Data), want.Value) {
			return mismatch("remote-identity user-at-hostname %s, the peer sent %v %s", want.Value, id.Type, idText(id))
		}
		return nil
	case "inet", "inet6":
		a, err := netip.ParseAddr(want.Value)
		got, ok := id.Addr()
		if err != nil || !ok || got != a {
			return mismatch("remote-identity %s %s, the peer sent %v %s", want.Type, want.Value, id.Type, idText(id))
		}
		return nil
	}
	return mismatch("remote-identity %s cannot be matched against a certificate", want.Type)
}

func idText(id wire.Identification) string {
	switch id.Type {
	case wire.ID_DER_ASN1_DN:
		return DNString(id.Data)
	case wire.ID_IPV4_ADDR, wire.ID_IPV6_ADDR:
		if a, ok := id.Addr(); ok {
			return a.String()
		}
	case wire.ID_FQDN, wire.ID_RFC822_ADDR:
		return string(id.Data)
	}
	return fmt.Sprintf("(%d bytes)", len(id.Data))
}

// LocalIdentity is the ID payload we send with a local certificate:
// local-identity distinguished-name without a name is the certificate's
// subject; an unset local-identity is the subject too (a certificate's
// natural identity; RFC 4945 §3.1.5); any other form is as configured and
// must be in the certificate.
func LocalIdentity(l *Local, configured schema.Identity) (wire.Identification, error) {
	if l == nil || l.Cert == nil {
		return wire.Identification{}, fmt.Errorf("local certificate is not loaded")
	}
	subject := wire.Identification{Type: wire.ID_DER_ASN1_DN, Data: l.Cert.RawSubject}
	var id wire.Identification
	switch configured.Type {
	case "":
		return subject, nil
	case "distinguished-name":
		if configured.Value == "" {
			return subject, nil
		}
		der, err := SubjectDER(configured.Value)
		if err != nil {
			return id, err
		}
		id = wire.Identification{Type: wire.ID_DER_ASN1_DN, Data: der}
	case "hostname":
		id = wire.Identification{Type: wire.ID_FQDN, Data: []byte(configured.Value)}
	case "user-at-hostname":
		id = wire.Identification{Type: wire.ID_RFC822_ADDR, Data: []byte(configured.Value)}
	case "inet", "inet6":
		a, err := netip.ParseAddr(configured.Value)
		if err != nil {
			return id, err
		}
		id = wire.IDFromAddr(a)
	default:
		return id, fmt.Errorf("local-identity %s cannot be used with a certificate", configured.Type)
	}
	if err := CertificateHoldsID(l.Cert, id); err != nil {
		return wire.Identification{}, fmt.Errorf("local-identity %s %s: %w", configured.Type, configured.Value, err)
	}
	return id, nil
}

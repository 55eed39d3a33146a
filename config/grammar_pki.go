package config

// The statements of certificate authentication: [security pki], an IKE
// policy's certificate, and the distinguished-name identity. Keys and
// certificates themselves are operational state (request security pki ...,
// package pki), not configuration, as in Junos.

var securityPKI = container("pki", "Public key infrastructure",
	list("ca-profile", "Certificate authority profile", nameType,
		leaf("ca-identity", "Certificate authority identity", text(255)).
			notApplied("ipsecgw does not enroll with a CA; load the profile's certificates with request security pki ca-certificate load"),
		container("revocation-check", "How certificates of this CA are checked for revocation", choices("revocation-check",
			flag("disable", "Do not check revocation"),
			container("crl", "Check against the CA's certificate revocation list",
				container("disable", "When the CRL cannot be had",
					flag("on-download-failure", "Accept certificates when no CRL is loaded"),
				).oneline(),
				leaf("refresh-interval", "Hours between CRL downloads", uintRange(0, 8784)).
					notApplied("ipsecgw does not download CRLs; load one with request security pki crl load"),
			),
		)...),
	),
)

// policyCertificate is an IKE policy's "certificate { ... }".
var policyCertificate = container("certificate", "Certificate authentication",
	leaf("local-certificate", "Local certificate (its certificate-id)", certificateID),
	container("trusted-ca", "Trusted certificate authority", choices("trusted-ca",
		leaf("ca-profile", "CA profile under [security pki]", nameType),
	)...).oneline(),
	leaf("peer-certificate-type", "Certificate type the peer sends", enum("pkcs7", "x509-signature")),
)

// certificateID names a local certificate (request security pki ...
// certificate-id ID); the pki store uses it as a file name, so it is a
// plain name.
var certificateID = name(32)

// distinguishedName is the distinguished-name identity in three forms:
//
//	distinguished-name;                          the local certificate's subject (local-identity)
//	distinguished-name { container "O=Example, OU=VPN"; wildcard "..."; }   Junos matching (remote-identity)
//	distinguished-name "CN=gw1, O=Example";      an exact name (ipsecgw; kept from before)
//
// The exact form is the entry of a keyword-less list below the container,
// which lets one statement take a value, a block or nothing.
func distinguishedName() *Node {
	return container("distinguished-name", "Distinguished name identity",
		leaf("container", "Match a peer whose name contains these attributes in this order", text(255)),
		leaf("wildcard", "Match a peer whose name has these attributes, in any order (empty value: any)", text(255)),
		list("", "Exact distinguished name", text(255)),
	).oneline()
}

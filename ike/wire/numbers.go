package wire

import "fmt"

// The numbers of the IKEv2 registries this codec decodes. Names follow the
// RFC's spelling where engineers grep for it (IKE_SA_INIT, ID_FQDN,
// TS_IPV4_ADDR_RANGE), as the transform package does for transform IDs.

// PayloadType is the value of a Next Payload field (RFC 7296 §3.2, IANA
// "IKEv2 Payload Types").
type PayloadType uint8

const (
	PayloadNone     PayloadType = 0  // no next payload
	PayloadSA       PayloadType = 33 // Security Association, §3.3
	PayloadKE       PayloadType = 34 // Key Exchange, §3.4
	PayloadIDi      PayloadType = 35 // Identification - Initiator, §3.5
	PayloadIDr      PayloadType = 36 // Identification - Responder, §3.5
	PayloadCERT     PayloadType = 37 // Certificate, §3.6
	PayloadCERTREQ  PayloadType = 38 // Certificate Request, §3.7
	PayloadAUTH     PayloadType = 39 // Authentication, §3.8
	PayloadNonce    PayloadType = 40 // Ni, Nr, §3.9
	PayloadNotify   PayloadType = 41 // N, §3.10
	PayloadDelete   PayloadType = 42 // D, §3.11
	PayloadVendorID PayloadType = 43 // V, §3.12
	PayloadTSi      PayloadType = 44 // Traffic Selector - Initiator, §3.13
	PayloadTSr      PayloadType = 45 // Traffic Selector - Responder, §3.13
	PayloadSK       PayloadType = 46 // Encrypted and Authenticated, §3.14
	PayloadCP       PayloadType = 47 // Configuration, §3.15
	PayloadEAP      PayloadType = 48 // Extensible Authentication, §3.16
	PayloadSKF      PayloadType = 53 // Encrypted and Authenticated Fragment, RFC 7383
)

var payloadNames = map[PayloadType]string{
	PayloadNone: "none", PayloadSA: "SA", PayloadKE: "KE", PayloadIDi: "IDi",
	PayloadIDr: "IDr", PayloadCERT: "CERT", PayloadCERTREQ: "CERTREQ",
	PayloadAUTH: "AUTH", PayloadNonce: "Nonce", PayloadNotify: "Notify",
	PayloadDelete: "Delete", PayloadVendorID: "Vendor ID", PayloadTSi: "TSi",
	PayloadTSr: "TSr", PayloadSK: "SK", PayloadCP: "CP", PayloadEAP: "EAP",
	PayloadSKF: "SKF",
}

func (t PayloadType) String() string {
	if s, ok := payloadNames[t]; ok {
		return s
	}
	return fmt.Sprintf("payload type %d", uint8(t))
}

// ExchangeType is the IKE header's Exchange Type (§3.1).
type ExchangeType uint8

const (
	IKE_SA_INIT     ExchangeType = 34
	IKE_AUTH        ExchangeType = 35
	CREATE_CHILD_SA ExchangeType = 36
	INFORMATIONAL   ExchangeType = 37
	// IKE_INTERMEDIATE runs between IKE_SA_INIT and IKE_AUTH (RFC 9242),
	// one per additional key exchange of RFC 9370.
	IKE_INTERMEDIATE ExchangeType = 43
	// IKE_FOLLOWUP_KE carries the additional key exchanges of a
	// CREATE_CHILD_SA, one each (RFC 9370 §2.2.4).
	IKE_FOLLOWUP_KE ExchangeType = 44
)

func (e ExchangeType) String() string {
	switch e {
	case IKE_SA_INIT:
		return "IKE_SA_INIT"
	case IKE_AUTH:
		return "IKE_AUTH"
	case CREATE_CHILD_SA:
		return "CREATE_CHILD_SA"
	case INFORMATIONAL:
		return "INFORMATIONAL"
	case IKE_INTERMEDIATE:
		return "IKE_INTERMEDIATE"
	case IKE_FOLLOWUP_KE:
		return "IKE_FOLLOWUP_KE"
	}
	return fmt.Sprintf("exchange type %d", uint8(e))
}

// Flags are the IKE header's flag bits (§3.1). The other bits are
// reserved: sent as zero, ignored on receipt.
type Flags uint8

const (
	// FlagInitiator is set in messages sent by the original initiator of
	// the IKE SA, whichever side sends the request.
	FlagInitiator Flags = 0x08
	// FlagVersion says the sender can speak a higher major version. It is
	// never set by IKEv2 implementations of RFC 7296.
	FlagVersion Flags = 0x10
	// FlagResponse marks a response to a request with the same Message ID.
	FlagResponse Flags = 0x20

	knownFlags = FlagInitiator | FlagVersion | FlagResponse
)

func (f Flags) String() string {
	s := ""
	for _, b := range []struct {
		f    Flags
		name string
	}{{FlagInitiator, "initiator"}, {FlagVersion, "version"}, {FlagResponse, "response"}} {
		if f&b.f != 0 {
			if s != "" {
				s += "|"
			}
			s += b.name
		}
	}
	if s == "" {
		return "none"
	}
	return s
}

// ProtocolID names the protocol of a proposal, a notification's SPI or a
// Delete payload (§3.3.1, IANA "IKEv2 Security Protocol Identifiers").
type ProtocolID uint8

const (
	ProtocolNone ProtocolID = 0 // notifications without an SPI
	ProtocolIKE  ProtocolID = 1
	ProtocolAH   ProtocolID = 2
	ProtocolESP  ProtocolID = 3
)

func (p ProtocolID) String() string {
	switch p {
	case ProtocolNone:
		return "none"
	case ProtocolIKE:
		return "IKE"
	case ProtocolAH:
		return "AH"
	case ProtocolESP:
		return "ESP"
	}
	return fmt.Sprintf("protocol %d", uint8(p))
}

// IDType is the ID Type of an IDi or IDr payload (§3.5).
type IDType uint8

const (
	ID_IPV4_ADDR   IDType = 1  // four-octet IPv4 address
	ID_FQDN        IDType = 2  // domain name, no terminator
	ID_RFC822_ADDR IDType = 3  // e-mail address, user@example.net
	ID_IPV6_ADDR   IDType = 5  // sixteen-octet IPv6 address
	ID_DER_ASN1_DN IDType = 9  // DER of an X.500 distinguished name
	ID_DER_ASN1_GN IDType = 10 // DER of an X.509 GeneralName
	ID_KEY_ID      IDType = 11 // opaque octets, vendor-specific
)

func (t IDType) String() string {
	switch t {
	case ID_IPV4_ADDR:
		return "ID_IPV4_ADDR"
	case ID_FQDN:
		return "ID_FQDN"
	case ID_RFC822_ADDR:
		return "ID_RFC822_ADDR"
	case ID_IPV6_ADDR:
		return "ID_IPV6_ADDR"
	case ID_DER_ASN1_DN:
		return "ID_DER_ASN1_DN"
	case ID_DER_ASN1_GN:
		return "ID_DER_ASN1_GN"
	case ID_KEY_ID:
		return "ID_KEY_ID"
	}
	return fmt.Sprintf("ID type %d", uint8(t))
}

// CertEncoding says what a CERT or CERTREQ payload carries (§3.6).
type CertEncoding uint8

const (
	CertPKCS7             CertEncoding = 1  // PKCS #7 wrapped X.509 certificate
	CertX509Signature     CertEncoding = 4  // DER X.509 certificate
	CertRawRSAKey         CertEncoding = 11 // PKCS #1 RSA public key
	CertHashURLX509       CertEncoding = 12 // hash and URL of an X.509 certificate
	CertHashURLX509Bundle CertEncoding = 13 // hash and URL of an X.509 bundle
)

func (e CertEncoding) String() string {
	switch e {
	case CertPKCS7:
		return "PKCS #7 wrapped X.509 certificate"
	case CertX509Signature:
		return "X.509 Certificate - Signature"
	case CertRawRSAKey:
		return "Raw RSA Key"
	case CertHashURLX509:
		return "Hash and URL of X.509 certificate"
	case CertHashURLX509Bundle:
		return "Hash and URL of X.509 bundle"
	}
	return fmt.Sprintf("cert encoding %d", uint8(e))
}

// AuthMethod is the Auth Method of an AUTH payload (§3.8, RFC 4754,
// RFC 7427).
type AuthMethod uint8

const (
	AuthRSASignature     AuthMethod = 1  // RSASSA-PKCS1-v1_5 with SHA-1
	AuthSharedKey        AuthMethod = 2  // Shared Key Message Integrity Code
	AuthDSSSignature     AuthMethod = 3  // DSS with SHA-1
	AuthECDSA256         AuthMethod = 9  // ECDSA with SHA-256 on P-256
	AuthECDSA384         AuthMethod = 10 // ECDSA with SHA-384 on P-384
	AuthECDSA521         AuthMethod = 11 // ECDSA with SHA-512 on P-521
	AuthDigitalSignature AuthMethod = 14 // RFC 7427: algorithm named in the data
)

func (m AuthMethod) String() string {
	switch m {
	case AuthRSASignature:
		return "RSA signature"
	case AuthSharedKey:
		return "pre-shared key"
	case AuthDSSSignature:
		return "DSS signature"
	case AuthECDSA256:
		return "ECDSA P-256"
	case AuthECDSA384:
		return "ECDSA P-384"
	case AuthECDSA521:
		return "ECDSA P-521"
	case AuthDigitalSignature:
		return "digital signature"
	}
	return fmt.Sprintf("auth method %d", uint8(m))
}

// TSType is the type of one traffic selector (§3.13.1).
type TSType uint8

const (
	TS_IPV4_ADDR_RANGE TSType = 7
	TS_IPV6_ADDR_RANGE TSType = 8
)

func (t TSType) String() string {
	switch t {
	case TS_IPV4_ADDR_RANGE:
		return "TS_IPV4_ADDR_RANGE"
	case TS_IPV6_ADDR_RANGE:
		return "TS_IPV6_ADDR_RANGE"
	}
	return fmt.Sprintf("TS type %d", uint8(t))
}

// CFGType is the CFG Type of a Configuration payload (§3.15).
type CFGType uint8

const (
	CFG_REQUEST CFGType = 1
	CFG_REPLY   CFGType = 2
	CFG_SET     CFGType = 3
	CFG_ACK     CFGType = 4
)

// ConfigAttributeType is the type of one Configuration payload attribute
// (§3.15.1); its value is carried opaque.
type ConfigAttributeType uint16

const (
	INTERNAL_IP4_ADDRESS ConfigAttributeType = 1
	INTERNAL_IP4_NETMASK ConfigAttributeType = 2
	INTERNAL_IP4_DNS     ConfigAttributeType = 3
	INTERNAL_IP4_NBNS    ConfigAttributeType = 4
	INTERNAL_IP4_DHCP    ConfigAttributeType = 6
	APPLICATION_VERSION  ConfigAttributeType = 7
	INTERNAL_IP6_ADDRESS ConfigAttributeType = 8
	INTERNAL_IP6_DNS     ConfigAttributeType = 10
	INTERNAL_IP6_DHCP    ConfigAttributeType = 12
	INTERNAL_IP4_SUBNET  ConfigAttributeType = 13
	SUPPORTED_ATTRIBUTES ConfigAttributeType = 14
	INTERNAL_IP6_SUBNET  ConfigAttributeType = 15
)

// AttributeType is the type of a transform attribute (§3.3.5).
type AttributeType uint16

// AttributeKeyLength is the only transform attribute IKEv2 defines: the key
// length in bits of a variable-length cipher, always in TV form.
const AttributeKeyLength AttributeType = 14

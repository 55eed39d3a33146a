package v1

// The numbers of the ISAKMP and IPsec DOI registries this codec decodes.
// IKEv1's registries are its own: payload 1 is SA here and nothing in
// IKEv2, notify 24578 is INITIAL-CONTACT here, so nothing is shared with
// ike/wire. Names follow the RFCs' spelling, with '-' as '_', where
// engineers grep for it (ID_IPV4_ADDR_SUBNET, INITIAL_CONTACT); names.go
// turns them into words for logs.

// PayloadType is the value of a Next Payload field (RFC 2408 §3.1, IANA
// "ISAKMP Next Payload Types").
type PayloadType uint8

const (
	PayloadNone         PayloadType = 0  // no next payload
	PayloadSA           PayloadType = 1  // Security Association, RFC 2408 §3.4
	PayloadProposal     PayloadType = 2  // only inside an SA payload, §3.5
	PayloadTransform    PayloadType = 3  // only inside a Proposal, §3.6
	PayloadKE           PayloadType = 4  // Key Exchange, §3.7
	PayloadID           PayloadType = 5  // Identification, §3.8
	PayloadCert         PayloadType = 6  // Certificate, §3.9
	PayloadCertReq      PayloadType = 7  // Certificate Request, §3.10
	PayloadHash         PayloadType = 8  // §3.11
	PayloadSignature    PayloadType = 9  // §3.12
	PayloadNonce        PayloadType = 10 // §3.13
	PayloadNotification PayloadType = 11 // §3.14
	PayloadDelete       PayloadType = 12 // §3.15
	PayloadVendorID     PayloadType = 13 // §3.16
	PayloadAttribute    PayloadType = 14 // Mode Config and XAUTH (draft-dukes-ike-mode-cfg); kept as *Unknown
	PayloadNATD         PayloadType = 20 // NAT Discovery, RFC 3947
	PayloadNATOA        PayloadType = 21 // NAT Original Address, RFC 3947
	// The numbers the NAT-T drafts used before RFC 3947, which peers that
	// negotiated a draft NAT-T vendor ID still send.
	PayloadNATDDraft  PayloadType = 130
	PayloadNATOADraft PayloadType = 131
)

// ExchangeType is the header's Exchange Type (RFC 2408 §3.1, RFC 2409 §5
// and §5.5).
type ExchangeType uint8

const (
	ExchangeBase     ExchangeType = 1
	MainMode         ExchangeType = 2 // Identity Protection
	ExchangeAuthOnly ExchangeType = 3 // Authentication Only
	AggressiveMode   ExchangeType = 4
	Informational    ExchangeType = 5
	Transaction      ExchangeType = 6 // Mode Config and XAUTH (draft-dukes-ike-mode-cfg)
	QuickMode        ExchangeType = 32
	NewGroupMode     ExchangeType = 33
)

// Flags are the header's flag bits (RFC 2408 §3.1). Other bits are
// dropped on parse and build.
type Flags uint8

const (
	// FlagEncryption: everything after the header is encrypted with the
	// phase 1 SA's cipher (RFC 2409 Appendix B), as one CBC run.
	FlagEncryption Flags = 0x01
	// FlagCommit asks the peer to send CONNECTED when the SA is set up
	// (RFC 2408 §3.1); Quick Mode's fourth message answers it.
	FlagCommit Flags = 0x02
	// FlagAuthOnly: Informational messages authenticated, not encrypted.
	FlagAuthOnly Flags = 0x04

	knownFlags = FlagEncryption | FlagCommit | FlagAuthOnly
)

// DOI is a Domain of Interpretation (RFC 2408 §3.4). The gateway speaks
// only the IPsec DOI; ISAKMP notifications may carry 0.
type DOI uint32

const (
	DOIISAKMP DOI = 0
	DOIIPsec  DOI = 1 // RFC 2407
)

// Situation is the IPsec DOI's situation bitmap (RFC 2407 §4.2).
type Situation uint32

const (
	SIT_IDENTITY_ONLY Situation = 0x01
	SIT_SECRECY       Situation = 0x02 // labelled domains; not supported
	SIT_INTEGRITY     Situation = 0x04 // labelled domains; not supported
)

// ProtocolID names the protocol of a proposal, a notification's SPI or a
// delete (RFC 2407 §4.4.1).
type ProtocolID uint8

const (
	ProtocolNone   ProtocolID = 0 // notifications without an SPI, as some peers send
	ProtocolISAKMP ProtocolID = 1
	ProtocolAH     ProtocolID = 2
	ProtocolESP    ProtocolID = 3
	ProtocolIPCOMP ProtocolID = 4
)

// TransformID is a Transform payload's Transform ID, read in the registry
// of the proposal's protocol (RFC 2407 §4.4.2 to §4.4.5).
type TransformID uint8

const (
	// KEY_IKE is the only transform of an ISAKMP proposal (phase 1); the
	// algorithms are its attributes.
	KEY_IKE TransformID = 1

	// ESP transform IDs (RFC 2407 §4.4.4, IANA "IPsec ESP Transform
	// Identifiers"); the ESP transform names the cipher, the
	// Authentication Algorithm attribute the integrity algorithm.
	ESP_DES                TransformID = 2
	ESP_3DES               TransformID = 3
	ESP_NULL               TransformID = 11
	ESP_AES                TransformID = 12 // AES-CBC, RFC 3602; Key Length attribute required
	ESP_AES_CTR            TransformID = 13
	ESP_AES_CCM_16         TransformID = 16
	ESP_AES_GCM_8          TransformID = 18
	ESP_AES_GCM_12         TransformID = 19
	ESP_AES_GCM_16         TransformID = 20
	ESP_NULL_AUTH_AES_GMAC TransformID = 23

	// AH transform IDs (RFC 2407 §4.4.3).
	AH_MD5      TransformID = 2
	AH_SHA      TransformID = 3
	AH_SHA2_256 TransformID = 5
	AH_SHA2_384 TransformID = 6
	AH_SHA2_512 TransformID = 7
)

// IDType is an Identification payload's ID Type (RFC 2407 §4.6.2.1).
type IDType uint8

const (
	ID_IPV4_ADDR        IDType = 1
	ID_FQDN             IDType = 2
	ID_USER_FQDN        IDType = 3
	ID_IPV4_ADDR_SUBNET IDType = 4 // address and mask, phase 2
	ID_IPV6_ADDR        IDType = 5
	ID_IPV6_ADDR_SUBNET IDType = 6
	ID_IPV4_ADDR_RANGE  IDType = 7 // first and last address, phase 2
	ID_IPV6_ADDR_RANGE  IDType = 8
	ID_DER_ASN1_DN      IDType = 9
	ID_DER_ASN1_GN      IDType = 10
	ID_KEY_ID           IDType = 11
)

// NotifyType is a Notification payload's Notify Message Type: errors
// below 8192 (RFC 2408 §3.14.1), status messages above 16383, those of
// the IPsec DOI from 24576 (RFC 2407 §4.6.3).
type NotifyType uint16

// The error types of RFC 2408 §3.14.1.
const (
	INVALID_PAYLOAD_TYPE      NotifyType = 1
	DOI_NOT_SUPPORTED         NotifyType = 2
	SITUATION_NOT_SUPPORTED   NotifyType = 3
	INVALID_COOKIE            NotifyType = 4
	INVALID_MAJOR_VERSION     NotifyType = 5
	INVALID_MINOR_VERSION     NotifyType = 6
	INVALID_EXCHANGE_TYPE     NotifyType = 7
	INVALID_FLAGS             NotifyType = 8
	INVALID_MESSAGE_ID        NotifyType = 9
	INVALID_PROTOCOL_ID       NotifyType = 10
	INVALID_SPI               NotifyType = 11
	INVALID_TRANSFORM_ID      NotifyType = 12
	ATTRIBUTES_NOT_SUPPORTED  NotifyType = 13
	NO_PROPOSAL_CHOSEN        NotifyType = 14
	BAD_PROPOSAL_SYNTAX       NotifyType = 15
	PAYLOAD_MALFORMED         NotifyType = 16
	INVALID_KEY_INFORMATION   NotifyType = 17
	INVALID_ID_INFORMATION    NotifyType = 18
	INVALID_CERT_ENCODING     NotifyType = 19
	INVALID_CERTIFICATE       NotifyType = 20
	CERT_TYPE_UNSUPPORTED     NotifyType = 21
	INVALID_CERT_AUTHORITY    NotifyType = 22
	INVALID_HASH_INFORMATION  NotifyType = 23
	AUTHENTICATION_FAILED     NotifyType = 24
	INVALID_SIGNATURE         NotifyType = 25
	ADDRESS_NOTIFICATION      NotifyType = 26
	NOTIFY_SA_LIFETIME        NotifyType = 27
	CERTIFICATE_UNAVAILABLE   NotifyType = 28
	UNSUPPORTED_EXCHANGE_TYPE NotifyType = 29
	UNEQUAL_PAYLOAD_LENGTHS   NotifyType = 30
)

// Status types.
const (
	CONNECTED NotifyType = 16384 // RFC 2408 §3.14.1, answers the Commit flag

	// The IPsec DOI's (RFC 2407 §4.6.3).
	RESPONDER_LIFETIME NotifyType = 24576 // data: SA attributes, the responder's shorter lifetime
	REPLAY_STATUS      NotifyType = 24577 // data: 4 bytes, replay detection on or off
	INITIAL_CONTACT    NotifyType = 24578 // the sender has no other SA with the receiver

	// Dead peer detection (RFC 3706 §5); data: a 4-byte sequence number.
	R_U_THERE     NotifyType = 36136
	R_U_THERE_ACK NotifyType = 36137
)

// FirstStatus is the first Notify Message Type that is not an error.
const FirstStatus NotifyType = 16384

// IsError reports whether the notification reports an error, which makes
// the exchange fail.
func (t NotifyType) IsError() bool { return t < FirstStatus }

package v1

import "fmt"

// Words for the numbers, for logs and errors: the names Wireshark and
// charon print, so that a trace and our log read alike.

var payloadNames = map[PayloadType]string{
	PayloadNone: "none", PayloadSA: "SA", PayloadProposal: "Proposal",
	PayloadTransform: "Transform", PayloadKE: "KE", PayloadID: "ID",
	PayloadCert: "CERT", PayloadCertReq: "CERTREQ", PayloadHash: "HASH",
	PayloadSignature: "SIG", PayloadNonce: "Nonce", PayloadNotification: "N",
	PayloadDelete: "D", PayloadVendorID: "VID", PayloadAttribute: "ATTR",
	PayloadNATD: "NAT-D", PayloadNATOA: "NAT-OA",
	PayloadNATDDraft: "NAT-D (draft)", PayloadNATOADraft: "NAT-OA (draft)",
}

func (t PayloadType) String() string {
	if s, ok := payloadNames[t]; ok {
		return s
	}
	return fmt.Sprintf("payload type %d", uint8(t))
}

var exchangeNames = map[ExchangeType]string{
	ExchangeBase: "Base", MainMode: "Main Mode", ExchangeAuthOnly: "Authentication Only",
	AggressiveMode: "Aggressive Mode", Informational: "Informational",
	Transaction: "Transaction", QuickMode: "Quick Mode", NewGroupMode: "New Group Mode",
}

func (e ExchangeType) String() string {
	if s, ok := exchangeNames[e]; ok {
		return s
	}
	return fmt.Sprintf("exchange type %d", uint8(e))
}

func (f Flags) String() string {
	s := ""
	for _, b := range []struct {
		f Flags
		n string
	}{{FlagEncryption, "E"}, {FlagCommit, "C"}, {FlagAuthOnly, "A"}} {
		if f&b.f != 0 {
			s += b.n
		}
	}
	if s == "" {
		return "none"
	}
	return s
}

func (p ProtocolID) String() string {
	switch p {
	case ProtocolNone:
		return "none"
	case ProtocolISAKMP:
		return "ISAKMP"
	case ProtocolAH:
		return "AH"
	case ProtocolESP:
		return "ESP"
	case ProtocolIPCOMP:
		return "IPCOMP"
	}
	return fmt.Sprintf("protocol %d", uint8(p))
}

var idNames = map[IDType]string{
	ID_IPV4_ADDR: "ID_IPV4_ADDR", ID_FQDN: "ID_FQDN", ID_USER_FQDN: "ID_USER_FQDN",
	ID_IPV4_ADDR_SUBNET: "ID_IPV4_ADDR_SUBNET", ID_IPV6_ADDR: "ID_IPV6_ADDR",
	ID_IPV6_ADDR_SUBNET: "ID_IPV6_ADDR_SUBNET", ID_IPV4_ADDR_RANGE: "ID_IPV4_ADDR_RANGE",
	ID_IPV6_ADDR_RANGE: "ID_IPV6_ADDR_RANGE", ID_DER_ASN1_DN: "ID_DER_ASN1_DN",
	ID_DER_ASN1_GN: "ID_DER_ASN1_GN", ID_KEY_ID: "ID_KEY_ID",
}

func (t IDType) String() string {
	if s, ok := idNames[t]; ok {
		return s
	}
	return fmt.Sprintf("ID type %d", uint8(t))
}

var notifyNames = map[NotifyType]string{
	INVALID_PAYLOAD_TYPE: "INVALID-PAYLOAD-TYPE", DOI_NOT_SUPPORTED: "DOI-NOT-SUPPORTED",
	SITUATION_NOT_SUPPORTED: "SITUATION-NOT-SUPPORTED", INVALID_COOKIE: "INVALID-COOKIE",
	INVALID_MAJOR_VERSION: "INVALID-MAJOR-VERSION", INVALID_MINOR_VERSION: "INVALID-MINOR-VERSION",
	INVALID_EXCHANGE_TYPE: "INVALID-EXCHANGE-TYPE", INVALID_FLAGS: "INVALID-FLAGS",
	INVALID_MESSAGE_ID: "INVALID-MESSAGE-ID", INVALID_PROTOCOL_ID: "INVALID-PROTOCOL-ID",
	INVALID_SPI: "INVALID-SPI", INVALID_TRANSFORM_ID: "INVALID-TRANSFORM-ID",
	ATTRIBUTES_NOT_SUPPORTED: "ATTRIBUTES-NOT-SUPPORTED", NO_PROPOSAL_CHOSEN: "NO-PROPOSAL-CHOSEN",
	BAD_PROPOSAL_SYNTAX: "BAD-PROPOSAL-SYNTAX", PAYLOAD_MALFORMED: "PAYLOAD-MALFORMED",
	INVALID_KEY_INFORMATION: "INVALID-KEY-INFORMATION", INVALID_ID_INFORMATION: "INVALID-ID-INFORMATION",
	INVALID_CERT_ENCODING: "INVALID-CERT-ENCODING", INVALID_CERTIFICATE: "INVALID-CERTIFICATE",
	CERT_TYPE_UNSUPPORTED: "CERT-TYPE-UNSUPPORTED", INVALID_CERT_AUTHORITY: "INVALID-CERT-AUTHORITY",
	INVALID_HASH_INFORMATION: "INVALID-HASH-INFORMATION", AUTHENTICATION_FAILED: "AUTHENTICATION-FAILED",
	INVALID_SIGNATURE: "INVALID-SIGNATURE", ADDRESS_NOTIFICATION: "ADDRESS-NOTIFICATION",
	NOTIFY_SA_LIFETIME: "NOTIFY-SA-LIFETIME", CERTIFICATE_UNAVAILABLE: "CERTIFICATE-UNAVAILABLE",
	UNSUPPORTED_EXCHANGE_TYPE: "UNSUPPORTED-EXCHANGE-TYPE", UNEQUAL_PAYLOAD_LENGTHS: "UNEQUAL-PAYLOAD-LENGTHS",
	CONNECTED: "CONNECTED", RESPONDER_LIFETIME: "RESPONDER-LIFETIME", REPLAY_STATUS: "REPLAY-STATUS",
	INITIAL_CONTACT: "INITIAL-CONTACT", R_U_THERE: "R-U-THERE", R_U_THERE_ACK: "R-U-THERE-ACK",
}

func (t NotifyType) String() string {
	if s, ok := notifyNames[t]; ok {
		return s
	}
	return fmt.Sprintf("notify type %d", uint16(t))
}

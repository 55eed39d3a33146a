package wire

import "fmt"

// NotifyType is the Notify Message Type of a Notify payload (§3.10.1).
// Types below 16384 report errors; the others carry status.
type NotifyType uint16

// Error types (§3.10.1). An error in a response to a request means the
// request failed; the IKE code picks the one to send, and NotifyFor maps a
// parse error to its answer.
const (
	UNSUPPORTED_CRITICAL_PAYLOAD NotifyType = 1
	INVALID_IKE_SPI              NotifyType = 4
	INVALID_MAJOR_VERSION        NotifyType = 5
	INVALID_SYNTAX               NotifyType = 7
	INVALID_MESSAGE_ID           NotifyType = 9
	INVALID_SPI                  NotifyType = 11
	NO_PROPOSAL_CHOSEN           NotifyType = 14
	INVALID_KE_PAYLOAD           NotifyType = 17
	AUTHENTICATION_FAILED        NotifyType = 24
	SINGLE_PAIR_REQUIRED         NotifyType = 34
	NO_ADDITIONAL_SAS            NotifyType = 35
	INTERNAL_ADDRESS_FAILURE     NotifyType = 36
	FAILED_CP_REQUIRED           NotifyType = 37
	TS_UNACCEPTABLE              NotifyType = 38
	INVALID_SELECTORS            NotifyType = 39
	TEMPORARY_FAILURE            NotifyType = 43
	CHILD_SA_NOT_FOUND           NotifyType = 44
	// STATE_NOT_FOUND answers an IKE_FOLLOWUP_KE whose ADDITIONAL_KEY_EXCHANGE
	// names no exchange the responder is waiting for (RFC 9370 §2.2.4).
	STATE_NOT_FOUND NotifyType = 47
)

// Status types (§3.10.1 and the extensions named).
const (
	INITIAL_CONTACT                 NotifyType = 16384
	SET_WINDOW_SIZE                 NotifyType = 16385
	ADDITIONAL_TS_POSSIBLE          NotifyType = 16386
	IPCOMP_SUPPORTED                NotifyType = 16387
	NAT_DETECTION_SOURCE_IP         NotifyType = 16388
	NAT_DETECTION_DESTINATION_IP    NotifyType = 16389
	COOKIE                          NotifyType = 16390
	USE_TRANSPORT_MODE              NotifyType = 16391
	HTTP_CERT_LOOKUP_SUPPORTED      NotifyType = 16392
	REKEY_SA                        NotifyType = 16393
	ESP_TFC_PADDING_NOT_SUPPORTED   NotifyType = 16394
	NON_FIRST_FRAGMENTS_ALSO        NotifyType = 16395
	MOBIKE_SUPPORTED                NotifyType = 16396 // RFC 4555
	IKEV2_FRAGMENTATION_SUPPORTED   NotifyType = 16430 // RFC 7383
	SIGNATURE_HASH_ALGORITHMS       NotifyType = 16431 // RFC 7427
	USE_PPK                         NotifyType = 16435 // RFC 8784
	PPK_IDENTITY                    NotifyType = 16436 // RFC 8784
	NO_PPK_AUTH                     NotifyType = 16437 // RFC 8784
	INTERMEDIATE_EXCHANGE_SUPPORTED NotifyType = 16438 // RFC 9242
	ADDITIONAL_KEY_EXCHANGE         NotifyType = 16441 // RFC 9370
)

// firstStatus is where status types start; every lower type is an error.
const firstStatus NotifyType = 16384

var notifyNames = map[NotifyType]string{
	UNSUPPORTED_CRITICAL_PAYLOAD:    "UNSUPPORTED_CRITICAL_PAYLOAD",
	INVALID_IKE_SPI:                 "INVALID_IKE_SPI",
	INVALID_MAJOR_VERSION:           "INVALID_MAJOR_VERSION",
	INVALID_SYNTAX:                  "INVALID_SYNTAX",
	INVALID_MESSAGE_ID:              "INVALID_MESSAGE_ID",
	INVALID_SPI:                     "INVALID_SPI",
	NO_PROPOSAL_CHOSEN:              "NO_PROPOSAL_CHOSEN",
	INVALID_KE_PAYLOAD:              "INVALID_KE_PAYLOAD",
	AUTHENTICATION_FAILED:           "AUTHENTICATION_FAILED",
	SINGLE_PAIR_REQUIRED:            "SINGLE_PAIR_REQUIRED",
	NO_ADDITIONAL_SAS:               "NO_ADDITIONAL_SAS",
	INTERNAL_ADDRESS_FAILURE:        "INTERNAL_ADDRESS_FAILURE",
	FAILED_CP_REQUIRED:              "FAILED_CP_REQUIRED",
	TS_UNACCEPTABLE:                 "TS_UNACCEPTABLE",
	INVALID_SELECTORS:               "INVALID_SELECTORS",
	TEMPORARY_FAILURE:               "TEMPORARY_FAILURE",
	CHILD_SA_NOT_FOUND:              "CHILD_SA_NOT_FOUND",
	STATE_NOT_FOUND:                 "STATE_NOT_FOUND",
	INITIAL_CONTACT:                 "INITIAL_CONTACT",
	SET_WINDOW_SIZE:                 "SET_WINDOW_SIZE",
	ADDITIONAL_TS_POSSIBLE:          "ADDITIONAL_TS_POSSIBLE",
	IPCOMP_SUPPORTED:                "IPCOMP_SUPPORTED",
	NAT_DETECTION_SOURCE_IP:         "NAT_DETECTION_SOURCE_IP",
	NAT_DETECTION_DESTINATION_IP:    "NAT_DETECTION_DESTINATION_IP",
	COOKIE:                          "COOKIE",
	USE_TRANSPORT_MODE:              "USE_TRANSPORT_MODE",
	HTTP_CERT_LOOKUP_SUPPORTED:      "HTTP_CERT_LOOKUP_SUPPORTED",
	REKEY_SA:                        "REKEY_SA",
	ESP_TFC_PADDING_NOT_SUPPORTED:   "ESP_TFC_PADDING_NOT_SUPPORTED",
	NON_FIRST_FRAGMENTS_ALSO:        "NON_FIRST_FRAGMENTS_ALSO",
	MOBIKE_SUPPORTED:                "MOBIKE_SUPPORTED",
	IKEV2_FRAGMENTATION_SUPPORTED:   "IKEV2_FRAGMENTATION_SUPPORTED",
	SIGNATURE_HASH_ALGORITHMS:       "SIGNATURE_HASH_ALGORITHMS",
	USE_PPK:                         "USE_PPK",
	PPK_IDENTITY:                    "PPK_IDENTITY",
	NO_PPK_AUTH:                     "NO_PPK_AUTH",
	INTERMEDIATE_EXCHANGE_SUPPORTED: "INTERMEDIATE_EXCHANGE_SUPPORTED",
	ADDITIONAL_KEY_EXCHANGE:         "ADDITIONAL_KEY_EXCHANGE",
}

func (t NotifyType) String() string {
	if s, ok := notifyNames[t]; ok {
		return s
	}
	if t.IsError() {
		return fmt.Sprintf("error notify %d", uint16(t))
	}
	return fmt.Sprintf("status notify %d", uint16(t))
}

// IsError reports whether t is an error type. An unknown error type in a
// response still means the request failed (§3.10.1); an unknown status
// type is ignored.
func (t NotifyType) IsError() bool { return t < firstStatus }

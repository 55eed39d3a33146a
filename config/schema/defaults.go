package schema

import "time"

// Defaults, from shared/reference/junos-ipsec.md §3. Where the reference
// marks a value unverified ([U]) we follow its recommendation and say so.
const (
	// [security ike proposal]: unset algorithms behave as sha1, 3des-cbc,
	// group2 (seed 004's negotiated SA); lifetime 28800 s ([U], consistent
	// with seed 004).
	defaultIKEAuthMethod = "pre-shared-keys"
	defaultIKEAuth       = "sha1"
	defaultIKEEncryption = "3des-cbc"
	defaultIKEDHGroup    = "group2"
	defaultIKELifetime   = 28800 * time.Second

	// [security ipsec proposal]: ESP, lifetime 3600 s ([U], consistent
	// with seed 004), kilobytes unlimited.
	defaultIPsecProtocol = "esp"
	defaultIPsecLifetime = 3600 * time.Second

	// [services ipsec-vpn] (AS PIC, seed 001): IKE 3600 s, IPsec 28800 s;
	// with no proposals at all: ESP, HMAC-SHA1-96, 3DES-CBC, and for IKE
	// pre-shared keys, sha1, 3des-cbc, group2, main mode.
	defaultServicesIKELifetime   = 3600 * time.Second
	defaultServicesIPsecLifetime = 28800 * time.Second
	defaultServicesIPsecAuth     = "hmac-sha1-96"
	defaultServicesIPsecEnc      = "3des-cbc"

	defaultPolicyMode      = "main"
	defaultDPDMode         = "optimized"
	defaultDPDInterval     = 10 * time.Second
	defaultDPDThreshold    = 5
	defaultNATKeepalive    = 20 * time.Second
	defaultReplayWindow    = 64
	defaultDFBit           = "clear"
	defaultEstablish       = "on-traffic" // [U]
	defaultUDPEncapPort    = 4500         // RFC 3948
	defaultIKEVersion      = 1            // [U]: Junos gateways are IKEv1 unless "version v2-only"
	defaultProxyIDService  = "any"
	defaultFragmentEnabled = true
)

// proposalSets are the predefined IKE proposal sets (reference §3.1, [U]:
// membership inherited from ScreenOS security levels).
var ikeProposalSets = map[string][]IKEProposal{
	"basic": {
		{AuthenticationMethod: "pre-shared-keys", DHGroup: "group1", EncryptionAlgorithm: "des-cbc", AuthenticationAlgorithm: "sha1"},
		{AuthenticationMethod: "pre-shared-keys", DHGroup: "group1", EncryptionAlgorithm: "des-cbc", AuthenticationAlgorithm: "md5"},
	},
	"compatible": {
		{AuthenticationMethod: "pre-shared-keys", DHGroup: "group2", EncryptionAlgorithm: "3des-cbc", AuthenticationAlgorithm: "sha1"},
		{AuthenticationMethod: "pre-shared-keys", DHGroup: "group2", EncryptionAlgorithm: "3des-cbc", AuthenticationAlgorithm: "md5"},
		{AuthenticationMethod: "pre-shared-keys", DHGroup: "group2", EncryptionAlgorithm: "des-cbc", AuthenticationAlgorithm: "sha1"},
		{AuthenticationMethod: "pre-shared-keys", DHGroup: "group2", EncryptionAlgorithm: "des-cbc", AuthenticationAlgorithm: "md5"},
	},
	"standard": {
		{AuthenticationMethod: "pre-shared-keys", DHGroup: "group2", EncryptionAlgorithm: "3des-cbc", AuthenticationAlgorithm: "sha1"},
		{AuthenticationMethod: "pre-shared-keys", DHGroup: "group2", EncryptionAlgorithm: "aes-128-cbc", AuthenticationAlgorithm: "sha1"},
	},
	"suiteb-gcm-128": {
		{AuthenticationMethod: "ecdsa-signatures-256", DHGroup: "group19", EncryptionAlgorithm: "aes-128-cbc", AuthenticationAlgorithm: "sha-256"},
	},
	"suiteb-gcm-256": {
		{AuthenticationMethod: "ecdsa-signatures-384", DHGroup: "group20", EncryptionAlgorithm: "aes-256-cbc", AuthenticationAlgorithm: "sha-384"},
	},
	"prime-128": {
		{AuthenticationMethod: "ecdsa-signatures-256", DHGroup: "group19", EncryptionAlgorithm: "aes-128-gcm", AuthenticationAlgorithm: "sha-256"},
	},
	"prime-256": {
		{AuthenticationMethod: "ecdsa-signatures-384", DHGroup: "group20", EncryptionAlgorithm: "aes-256-gcm", AuthenticationAlgorithm: "sha-384"},
	},
}

// ipsecProposalSets are the predefined IPsec proposal sets (§3.1, [U]); the
// PFS group some sets imply goes to the policy.
var ipsecProposalSets = map[string]struct {
	PFS       string
	Proposals []IPsecProposal
}{
	"basic": {"", []IPsecProposal{
		{EncryptionAlgorithm: "des-cbc", AuthenticationAlgorithm: "hmac-sha1-96"},
		{EncryptionAlgorithm: "des-cbc", AuthenticationAlgorithm: "hmac-md5-96"},
	}},
	"compatible": {"", []IPsecProposal{
		{EncryptionAlgorithm: "3des-cbc", AuthenticationAlgorithm: "hmac-sha1-96"},
		{EncryptionAlgorithm: "3des-cbc", AuthenticationAlgorithm: "hmac-md5-96"},
		{EncryptionAlgorithm: "des-cbc", AuthenticationAlgorithm: "hmac-sha1-96"},
		{EncryptionAlgorithm: "des-cbc", AuthenticationAlgorithm: "hmac-md5-96"},
	}},
	"standard": {"group2", []IPsecProposal{
		{EncryptionAlgorithm: "3des-cbc", AuthenticationAlgorithm: "hmac-sha1-96"},
		{EncryptionAlgorithm: "aes-128-cbc", AuthenticationAlgorithm: "hmac-sha1-96"},
	}},
	"suiteb-gcm-128": {"", []IPsecProposal{{EncryptionAlgorithm: "aes-128-gcm"}}},
	"suiteb-gcm-256": {"", []IPsecProposal{{EncryptionAlgorithm: "aes-256-gcm"}}},
	"prime-128":      {"group19", []IPsecProposal{{EncryptionAlgorithm: "aes-128-gcm"}}},
	"prime-256":      {"group20", []IPsecProposal{{EncryptionAlgorithm: "aes-256-gcm"}}},
}

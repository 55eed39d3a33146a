package config

// Quantum-safe IKEv2: postquantum preshared keys (RFC 8784) from the key
// manager, as Junos configures them ([security key-manager], a gateway's
// ppk-profile), and additional key exchanges (RFC 9370) after the
// classical one, which Junos has no statement for yet: ipsecgw's own words,
// documented in docs/configuration.md.

// securityKeyManager is [security key-manager]: named key profiles. A static
// profile holds one PPK and the identifier both peers know it by.
var securityKeyManager = container("key-manager", "Key manager (postquantum preshared keys)",
	list("profiles", "Key profile", nameType,
		container("static", "A key configured here",
			container("key-id", "Identifier both peers know the key by (PPK_ID)", choices("key-id",
				leaf("ascii-text", "Identifier as text", text(255)),
				leaf("hexadecimal", "Identifier as hexadecimal digits", typeHexID),
			)...).oneline(),
			key("key", "The postquantum preshared key"),
		),
	),
)

// A gateway's PPK: ppk-profile is Junos's statement; ppk-mandatory is
// ipsecgw's (without it the PPK is optional: a peer that has none still gets
// in through RFC 8784 §3's NO_PPK_AUTH).
var (
	gatewayPPKProfile   = leaf("ppk-profile", "Key manager profile of the postquantum preshared key (RFC 8784)", nameType)
	gatewayPPKMandatory = flag("ppk-mandatory", "ipsecgw: refuse a peer that does not use the PPK (default: optional)")
)

// kemKeywords are the key exchange methods an additional key exchange
// names: ML-KEM and the classical groups.
var kemKeywords = enum(append([]string{"mlkem512", "mlkem768", "mlkem1024"},
	dhGroup.Enum...)...)

// additionalKeyExchange is "additional-key-exchange keN METHOD;" (ipsecgw:
// RFC 9370's ADDKE1..ADDKE7), in an IKE proposal and in an IPsec policy's
// perfect-forward-secrecy. Each keN is its own leaf, so one proposal can
// have several, in any order.
func additionalKeyExchange() *Node {
	var kes []*Node
	for n := 1; n <= 7; n++ {
		kes = append(kes, leaf("ke"+string(rune('0'+n)), "Additional key exchange "+string(rune('0'+n)), kemKeywords))
	}
	return container("additional-key-exchange", "ipsecgw: key exchanges after the first (RFC 9370)", kes...).oneline()
}

// typeHexID is an identifier in hexadecimal digits: not a secret.
var typeHexID = &Type{Name: "hexadecimal digits", check: checkHex}

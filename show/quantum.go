package show

// writeQuantum prints, below PPK-profile, whether the IKE SA is quantum
// secured (its keys mix in a postquantum preshared key, RFC 8784, or an
// ML-KEM additional key exchange, RFC 9370), as the Junos IPsec detail's
// "Quantum Secured" line, and the additional key exchanges run (ipsecgw's
// line: Junos has none). Both only when the gateway is configured for
// either: seed 004's detail has neither line.
func writeQuantum(t *text, sa *IKESA) {
	if !quantumConfigured(sa) {
		return
	}
	t.line("  Quantum Secured: %s", yesNo(sa.QuantumSecured))
	for _, ke := range sa.AdditionalKE {
		t.line("  Additional key exchange: %s", ke)
	}
}

// quantumConfigured reports whether the gateway has a PPK profile or the SA
// ran additional key exchanges.
func quantumConfigured(sa *IKESA) bool { return sa.PPKProfile != "" || len(sa.AdditionalKE) > 0 }

// quantumSecured is the XML's ike-sa-is-quantum-secured: "" (left out) when
// quantumConfigured is not.
func quantumSecured(sa *IKESA) string {
	if !quantumConfigured(sa) {
		return ""
	}
	return yesNo(sa.QuantumSecured)
}

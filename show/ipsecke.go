package show

import "slices"

// The key exchanges an IPsec SA's keys came from, in its detail: the PFS
// group of the CREATE_CHILD_SA that made it and the additional key
// exchanges after it (RFC 9370). Junos prints "Quantum Secured" and "PFS
// group" once per tunnel (the configured group); an SA made with IKE_AUTH
// (its keys from the IKE SA's) and a manual one have neither, and their
// detail stays seed 004's layout. The per-SA lines are ipsecgw's, spelled
// as the tunnel's "PFS group" and the IKE SA's "Additional key exchange".

// hasKeyExchanges reports whether the SA's keys came from key exchanges
// of their own.
func hasKeyExchanges(sa *IPsecSA) bool { return sa.PFSGroup != 0 || len(sa.AdditionalKE) > 0 }

// writeSAKeyExchanges prints an SA's key exchanges below its algorithms.
func writeSAKeyExchanges(t *text, sa *IPsecSA) {
	if !hasKeyExchanges(sa) {
		return
	}
	t.line("    PFS group: %s", pfsGroup(sa.PFSGroup))
	for _, ke := range sa.AdditionalKE {
		t.line("    Additional key exchange: %s", ke)
	}
}

// saKeyExchangesModel fills an SA's sa-pfs-group (Junos's tag, per tunnel
// there) and sa-additional-key-exchange (ipsecgw's).
func saKeyExchangesModel(e *IPsecSAEntry, sa *IPsecSA) {
	if !hasKeyExchanges(sa) {
		return
	}
	e.PFSGroup, e.AdditionalKE = pfsGroup(sa.PFSGroup), slices.Clone(sa.AdditionalKE)
}

// Package examples ships the seeds' Junos configurations inside the
// binary, so that "ipsecgw demo" runs from any directory. The files
// themselves are the ones "ipsecgw config check examples/*/*" validates.
package examples

import "embed"

// FS holds seed004/ (the MX inline IPsec example, both peers, both
// formats) and seed001/ (the AS PIC example, four routers).
//
//go:embed seed004 seed001
var FS embed.FS

// Package termtest drives the real "ipsecgw cli" binary in a
// pseudo-terminal against a daemon running in memory: configuration mode,
// commit, compare, rollback, commit confirmed, Tab and "?" as a user at a
// terminal sees them. It holds tests only and needs no root.
package termtest

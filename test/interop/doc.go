// Package interop proves that ipsecgw's ESP interoperates with an
// independent implementation: the Linux kernel's XFRM. The machine's own
// kernel has no ESP, so every test boots User-Mode Linux (package
// ipsecgw/test/uml) and builds, inside one boot, four namespaces:
//
//	h1 ── gwa (ipsecgw daemon, st0.1) ══ ESP ══ gwk (kernel XFRM) ── h2
//
//	h1  198.18.1.2/24 2001:db8:1::2/64      gwa-h1  198.18.1.1 2001:db8:1::1
//	gwa-gwk 192.0.2.1/24 2001:db8:ff::1/64  gwk-gwa 192.0.2.2 2001:db8:ff::2
//	h2  198.18.2.2/24 2001:db8:2::2/64      gwk-h2  198.18.2.1 2001:db8:2::1
//
// gwa runs "ipsecgw daemon" with a Junos manual SA; gwk carries the same SPI
// and keys as two tunnel-mode states (one per direction) with out, in and
// fwd policies for both inner families. Each case re-keys that one topology:
// the daemon restarts with a new configuration, the kernel's states and
// policies are flushed and installed again. Hosts then ping each other over
// IPv4 and IPv6 and move TCP both ways, so every packet is sealed by one
// implementation and opened by the other; the test then holds each side's
// per-SA packet counter and sequence number against the other's.
//
// The package has only tests; this file is its documentation.
package interop

// Package header gives zero-copy views of the packet headers the ESP data
// plane reads and rewrites (IPv4, IPv6, UDP, ESP, ICMPv4, ICMPv6), and the
// packet surgery built on them: traffic-class (DSCP/ECN) propagation,
// IPv4 fragmentation, ICMP "too big" messages, the traffic-selector 5-tuple
// and a per-flow hash for ECMP source ports.
//
// A view is a byte slice with a name: IPv4 is []byte holding one IPv4
// packet, starting at its header. Each view has exactly one validity gate,
// ParseXxx, which checks everything its accessors rely on. A view that came
// out of its gate (or out of the matching EncodeXxx) may be read with its
// accessors without further bounds checks, and they never panic. Converting
// an arbitrary slice to a view by hand skips the gate and voids that
// promise.
//
// Setters write one field and leave the header checksum alone, so that
// several fields can be rewritten for the price of one checksum pass:
// call UpdateChecksum after the last change. The package-level helpers that
// change one field of a whole packet (SetTrafficClass) keep the checksum
// right themselves.
//
// Nothing here allocates: results are written into caller-provided
// buffers, and addresses come back as netip.Addr values.
package header

// Package wire is the IKEv2 message codec (RFC 7296 §3): the IKE header,
// the payload chain, and every payload the gateway speaks, decoded into
// typed values and encoded back. It is pure: no I/O, no keys, no state.
//
// Parsing reads with ike/wire/octets calls that return false at the end of
// the data and never panic. Every length and count is checked against the
// bytes that carry it (payload, proposal, transform and selector lengths,
// Num Transforms, Number of TSs, attribute forms), and a failure is a
// *ParseError naming the payload, the offset and what was expected; it
// wraps ErrInvalidSyntax (answer INVALID_SYNTAX) or ErrUnsupportedVersion
// (answer INVALID_MAJOR_VERSION), and NotifyFor turns it into the Notify
// type. Payload types the codec does not know are kept as *Unknown with
// their Critical bit, for the IKE code to answer
// UNSUPPORTED_CRITICAL_PAYLOAD. Parsed values alias the input, and a parsed
// Message keeps the bytes in Raw, which IKE_AUTH signs (§2.15).
//
// Building writes the header and each payload with its length zero, then
// back-patches it once the contents are known; Next Payload fields follow
// the order of the payload list. Encoding a parsed message and parsing the
// result gives the same value; the fuzz targets check it.
//
//	msg := &wire.Message{
//		Header:   wire.Header{InitiatorSPI: spi, Exchange: wire.IKE_SA_INIT, Flags: wire.FlagInitiator},
//		Payloads: []wire.Payload{sa, ke, nonce, natSource, natDestination},
//	}
//	b, err := msg.Marshal()
//
// Protected messages: the codec frames the Encrypted (SK) and Encrypted
// Fragment (SKF, RFC 7383) payloads and hands the IKE SA the byte ranges to
// encrypt, MAC or authenticate as associated data (Regions); the cipher
// work stays with the IKE SA, which holds the keys. encrypted.go shows the
// recipe for both directions. A message too large for the path is cut
// into SKF fragments by AppendFragments (fragment.go), each sealed with the
// same recipe; package ike/fragment reassembles received ones.
//
// Payload contents that have a layout of their own are decoded on demand
// by methods of the payload or by Parse functions, with the same errors:
// certificates and CA hashes (cert.go), signature AUTH data and
// SIGNATURE_HASH_ALGORITHMS (auth.go), PPK_IDENTITY (ppk.go).
package wire

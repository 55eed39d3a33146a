// Package esp is one direction of an ESP security association in tunnel
// mode (RFC 4303): Outbound seals inner IP packets, Inbound opens ESP
// packets. Both work in place on the caller's buffer and allocate nothing
// per packet; both are safe for use by many cores at once.
//
// Seal, for an outbound SA:
//
//	sequence number (atomic, never wraps) → ESP header → trailer (padding,
//	pad length, next header) → IV → encrypt (AEAD, or CBC then HMAC) → ICV
//
// Open, for an inbound SA:
//
//	length and SPI checks → replay pre-check → ICV / AEAD verification →
//	replay window update → decrypt (CBC) → trailer and next header checks
//
// The replay window moves only for packets that authenticated (RFC 4303
// §3.4.3), and every reason a packet is refused has its own error value.
//
// Buffers: the data plane reads an inner packet into a pooled buffer at an
// offset of at least Headroom() plus its outer headers, with Tailroom()
// spare capacity behind it; Seal then writes around the packet without
// copying it. Overhead and MaxInner size the tunnel MTU.
//
// IVs: with an AEAD the explicit IV is the 64-bit sequence number, unique
// under the key by construction (RFC 4106 §3.1). With CBC it is the
// sequence number encrypted under a second, random key of the SA's cipher
// (see cbcIV), which makes it unpredictable as RFC 3602 requires without a
// call to the system's random source per packet.
package esp

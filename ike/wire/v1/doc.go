// Package v1 is the IKEv1 (ISAKMP) message codec: the ISAKMP header of
// RFC 2408 §3.1, the payload chain, and the payloads of the IPsec DOI
// (RFC 2407), Main, Aggressive and Quick Mode (RFC 2409), NAT traversal
// (RFC 3947) and dead peer detection (RFC 3706), decoded into typed values
// and encoded back. It is pure: no I/O, no keys, no state. IKEv2 is
// ike/wire; the two share no numbers.
//
// Parsing reads with ike/wire/octets calls that return false at the end
// of the data and never panic; every length and count is checked against
// the bytes that carry it, the message is bounded by MaxMessageLen, and a
// failure is a *ParseError naming the payload, the offset and what was
// expected, which NotifyFor turns into the notification to answer with.
// Unknown payload types are kept as *Unknown and skipped by their length:
// IKEv1 has no critical bit.
//
// IKEv1 encrypts everything after the header as one CBC run when the
// Encryption flag is set, so the codec works in two steps the exchange
// puts its cipher between. Receiving:
//
//	m, err := v1.Parse(datagram)          // m.Encrypted holds the ciphertext
//	plain := decrypt(m.Encrypted)         // the exchange's IV chain
//	c, err := v1.ParseDecrypted(m.Header.NextPayload, plain)
//
// Sending, with Quick Mode's HASH(1) over the payloads after it:
//
//	c, err := v1.BuildChain([]v1.Payload{v1.ReserveHash(20), sa, nonce, idci, idcr})
//	c.SetHash(0, prf(skeyidA, messageID, c.RawAfter(0)))
//	b, err := v1.MarshalEncrypted(h, v1.PayloadHash, encrypt(pad(c.Bytes())))
//
// HASH payloads cover bytes as sent, so a parsed or built Chain keeps each
// payload's bytes (Raw, RawBody, RawAfter), and a parsed Message the whole
// datagram. Parsed values alias the input.
package v1

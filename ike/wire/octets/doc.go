// Package octets reads and builds the big-endian layouts of IKE's two wire
// codecs, ISAKMP (ike/wire/v1) and IKEv2 (ike/wire). Both put a length
// field inside the structure it counts, after other fields, and nest such
// structures (payload, proposal, transform); both must survive any bytes a
// peer sends.
//
// A Reader is a cursor over a region of a message that knows its offset
// from the message's first byte, so a codec can name where a field went
// wrong. Its reads return false at the end of the region and never panic;
// a failed read consumes nothing. Bytes it returns alias the input, with
// their capacity clipped so that appending to one never overwrites the
// message.
//
// A Builder appends. A structure is opened at its first byte, its length
// field written as zero, and closed once its contents are appended, which
// back-patches the length: cryptobyte's length prefixes do not fit, since
// IKE's lengths count their own header and come after other fields.
// Closing reports a length that does not fit its field; the codec, which
// knows what it was writing, turns that into its own error.
//
// The package knows nothing of payload types or errors: each codec keeps
// its own registry of payloads and its own error types.
package octets

package esp

import "errors"

// Every reason Seal or Open fails has its own error value, so the data
// plane can count each (the Junos statistics group them: Bad headers,
// Replay errors, ESP authentication failures, ESP decryption failures, Bad
// trailers). They are plain values, never wrapped on the packet path, so a
// flood of bad packets allocates nothing.
var (
	// ErrTruncated: the packet is shorter than ESP header, IV, the smallest
	// body and the ICV.
	ErrTruncated = errors.New("esp: packet too short: want ESP header, IV, at least one cipher block or trailer, and ICV")
	// ErrSPIMismatch: the packet's SPI is not this SA's.
	ErrSPIMismatch = errors.New("esp: packet SPI does not match the SA")
	// ErrReplay: the sequence number is older than the window or was
	// already received (RFC 4303 §3.4.3).
	ErrReplay = errors.New("esp: replayed or too old sequence number")
	// ErrAuthentication: the ICV or AEAD tag did not verify.
	ErrAuthentication = errors.New("esp: integrity check failed")
	// ErrDecryption: the body cannot be decrypted, e.g. its length is not a
	// multiple of the cipher block size.
	ErrDecryption = errors.New("esp: encrypted body is not a multiple of the cipher block size")
	// ErrBadTrailer: pad length larger than the body, or padding bytes
	// other than 1, 2, 3, ...
	ErrBadTrailer = errors.New("esp: bad trailer: padding must be 1, 2, 3, ... and fit in the body")
	// ErrBadNextHeader: the next header is neither IPv4 (4) nor IPv6 (41),
	// the only ones tunnel mode carries.
	ErrBadNextHeader = errors.New("esp: next header is not IPv4 (4) or IPv6 (41)")
	// ErrDummyPacket: next header 59, a traffic flow confidentiality dummy
	// that authenticated and is to be dropped (RFC 4303 §2.6).
	ErrDummyPacket = errors.New("esp: dummy packet (next header 59)")
	// ErrSequenceExhausted: the outbound SA has sent sequence number
	// 2^32-1 (2^64-1 with ESN) and must be rekeyed; ESP never wraps
	// (RFC 4303 §3.3.3).
	ErrSequenceExhausted = errors.New("esp: sequence numbers exhausted, SA must be rekeyed")
	// ErrSequenceOutOfRange: SealWithSequence was given 0 or a number
	// beyond the SA's last.
	ErrSequenceOutOfRange = errors.New("esp: sequence number outside 1..2^32-1 (2^64-1 with ESN)")
	// ErrNoRoom: the buffer given to Seal lacks Headroom before the inner
	// packet or Tailroom after it.
	ErrNoRoom = errors.New("esp: buffer lacks headroom or tailroom for ESP")
)

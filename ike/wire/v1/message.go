package v1

import (
	"encoding/binary"
	"math"
)

// Message is one ISAKMP message. A plaintext message carries its payloads
// in Chain; an encrypted one (FlagEncryption) carries its body in
// Encrypted, which the exchange decrypts with the phase 1 SA's key and IV
// chain and then decodes with ParseDecrypted(Header.NextPayload, ...).
type Message struct {
	Header Header
	Chain  // empty when the body is encrypted
	// Encrypted is the body of an encrypted message, as received or to
	// send: ciphertext, padding included, up to the end of the message.
	Encrypted []byte
	// Received is the whole message as received, set by Parse (not
	// named Raw, which is the Chain's per-payload bytes). The codec never
	// sets it when building.
	Received []byte
}

// Parse decodes a whole message, b being exactly the UDP payload (after
// the non-ESP marker on port 4500). The Message and its payloads alias b:
// the caller must not reuse b while they are in use.
//
// Errors are *ParseError values; NotifyFor names the notification that
// answers them.
func Parse(b []byte) (*Message, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return nil, err
	}
	m := &Message{Header: h, Received: b}
	if h.Encrypted() {
		if len(b) > HeaderLen {
			m.Encrypted = b[HeaderLen:]
		}
		return m, nil
	}
	c, err := parseChain(h.NextPayload, b[HeaderLen:], HeaderLen, false)
	if err != nil {
		return nil, err
	}
	m.Chain = *c
	return m, nil
}

// Marshal encodes the message: the header, then the payload chain, or the
// Encrypted body when the header's Encryption flag is set. Length is
// computed; Next Payload is the first payload's type for a plaintext
// message and Header.NextPayload for an encrypted one. The chain's Padding
// must be empty: only an encrypted body is padded.
func (m *Message) Marshal() ([]byte, error) {
	if m.Header.Encrypted() {
		if len(m.Payloads) != 0 {
			return nil, encodeError("an encrypted message carries its payloads in Encrypted, not Payloads")
		}
		return MarshalEncrypted(m.Header, m.Header.NextPayload, m.Encrypted)
	}
	if len(m.Encrypted) != 0 {
		return nil, encodeError("Encrypted body without the Encryption flag")
	}
	if len(m.Padding) != 0 {
		return nil, encodeError("padding in a plaintext message")
	}
	first := PayloadNone
	if len(m.Payloads) > 0 && m.Payloads[0] != nil {
		first = m.Payloads[0].PayloadType()
	}
	b := newBuilder(appendHeader(make([]byte, 0, 512), m.Header, first))
	b.chain(m.Payloads)
	if b.err != nil {
		return nil, b.err
	}
	return closeMessage(b.Bytes())
}

// MarshalEncrypted builds a message around a body the exchange has
// already encrypted: the header with the Encryption flag set, first as its
// Next Payload (the type of the first payload inside), and the ciphertext,
// padding included, which the Length field covers.
func MarshalEncrypted(h Header, first PayloadType, ciphertext []byte) ([]byte, error) {
	h.Flags |= FlagEncryption
	b := appendHeader(make([]byte, 0, HeaderLen+len(ciphertext)), h, first)
	return closeMessage(append(b, ciphertext...))
}

// closeMessage patches the Length of a whole message.
func closeMessage(b []byte) ([]byte, error) {
	if len(b) > MaxMessageLen || uint64(len(b)) > math.MaxUint32 {
		return nil, encodeError("message is %d bytes, more than the %d allowed", len(b), MaxMessageLen)
	}
	binary.BigEndian.PutUint32(b[offsetLength:], uint32(len(b)))
	return b, nil
}

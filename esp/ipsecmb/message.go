package ipsecmb

// Message is one message of SealRun or OpenRun. SealRun seals Text in
// place and writes the 16-byte tag after it, within its capacity.
// OpenRun opens Text (ciphertext, then tag) into Out and sets Bad when
// the message fails authentication.
type Message struct {
	Text, Nonce, AAD []byte
	Out              []byte
	Bad              bool
}

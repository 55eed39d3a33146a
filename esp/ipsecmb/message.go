package ipsecmb

// Message is one message of SealRun: Text is sealed in place and the
// 16-byte tag written after it, within its capacity.
type Message struct {
	Text, Nonce, AAD []byte
}

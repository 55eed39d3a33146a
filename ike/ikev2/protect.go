package ikev2

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"errors"
	"fmt"
	"hash"
	"io"

	"ipsecgw/ike/wire"
	"ipsecgw/transform"
)

// messageCipher protects the messages one side of an IKE SA sends, or
// checks and opens those it receives (RFC 7296 §3.14): the SK payload
// encrypted with SK_e and integrity-protected with SK_a, or sealed by an
// AEAD (RFC 5282) with SK_e's salt.
type messageCipher struct {
	enc     *transform.Transform
	aead    cipher.AEAD // AEAD transforms
	salt    []byte
	block   cipher.Block // CBC transforms
	integ   *transform.Transform
	macKey  []byte
	newHash func() hash.Hash
	rand    io.Reader
}

// errIntegrity is an SK payload whose ICV or AEAD tag does not verify: the
// message is dropped without an answer (§2.21.2).
var errIntegrity = errors.New("ikev2: integrity check of the encrypted payload failed")

// newMessageCipher keys one direction. encKey is SK_ei or SK_er (for an
// AEAD the salt follows the key); integKey is SK_ai or SK_ar (nil with an
// AEAD).
func newMessageCipher(enc, integ *transform.Transform, encKey, integKey []byte, r io.Reader) (*messageCipher, error) {
	if r == nil {
		r = rand.Reader
	}
	c := &messageCipher{enc: enc, integ: integ, rand: r}
	switch {
	case enc.IsAEAD():
		if integ != nil {
			return nil, fmt.Errorf("ikev2: %s authenticates by itself; no integrity transform goes with it", enc)
		}
		n := enc.KeySize()
		if len(encKey) != n+enc.SaltSize {
			return nil, fmt.Errorf("ikev2: %s needs %d bytes of key and salt, got %d", enc, n+enc.SaltSize, len(encKey))
		}
		a, err := enc.NewAEAD(encKey[:n])
		if err != nil {
			return nil, err
		}
		c.aead, c.salt = a, append([]byte(nil), encKey[n:]...)
	case enc.IsCBC():
		if integ == nil {
			return nil, fmt.Errorf("ikev2: %s needs an integrity transform", enc)
		}
		b, err := enc.NewBlock(encKey)
		if err != nil {
			return nil, err
		}
		if _, err := integ.NewMAC(integKey); err != nil {
			return nil, err
		}
		c.block, c.macKey = b, append([]byte(nil), integKey...)
		c.newHash = func() hash.Hash { h, _ := integ.NewMAC(c.macKey); return h }
	default:
		return nil, fmt.Errorf("ikev2: %s cannot protect IKE messages", enc)
	}
	return c, nil
}

func (c *messageCipher) sizes() wire.CipherSizes {
	if c.aead != nil {
		return wire.CipherSizes{IV: c.enc.IVSize, Block: 1, ICV: c.enc.ICVSize}
	}
	return wire.CipherSizes{IV: c.enc.IVSize, Block: c.enc.BlockSize, ICV: c.integ.ICVSize}
}

// seal builds msg (header and any clear payloads) with inner encrypted in
// an SK payload, and returns the bytes to send.
func (c *messageCipher) seal(msg *wire.Message, inner []wire.Payload) ([]byte, error) {
	out, r, err := msg.AppendEncrypted(nil, inner, c.sizes())
	if err != nil {
		return nil, err
	}
	if err := c.sealRegions(r); err != nil {
		return nil, err
	}
	return out, nil
}

// sealRegions encrypts and integrity-protects one laid-out SK or SKF
// payload in place (wire.Regions).
func (c *messageCipher) sealRegions(r wire.Regions) error {
	// A fresh random IV for every message: IKE's rate makes a random
	// 64-bit AEAD nonce part safe, and CBC needs unpredictable IVs.
	if _, err := io.ReadFull(c.rand, r.IV); err != nil {
		return fmt.Errorf("ikev2: IV: %w", err)
	}
	if c.aead != nil {
		nonce := append(append(make([]byte, 0, len(c.salt)+len(r.IV)), c.salt...), r.IV...)
		c.aead.Seal(r.Ciphertext[:0], nonce, r.Ciphertext, r.AssociatedData)
		return nil
	}
	cbcEncrypt(c.block, r.IV, r.Ciphertext)
	h := c.newHash()
	h.Write(r.Integrity)
	copy(r.ICV, h.Sum(nil))
	return nil
}

// open checks and decrypts the SK payload of a parsed message in place and
// returns the inner payloads.
func (c *messageCipher) open(msg *wire.Message) ([]wire.Payload, error) {
	r, err := msg.Regions(c.sizes())
	if err != nil {
		return nil, err
	}
	sk, _ := wire.Find[*wire.Encrypted](msg.Payloads)
	if sk == nil {
		return nil, fmt.Errorf("ikev2: no SK payload (an SKF fragment goes to ikeSA.open)")
	}
	plain, err := c.openRegions(r)
	if err != nil {
		return nil, err
	}
	return wire.ParseInner(sk.First, plain)
}

// openRegions checks and decrypts one SK or SKF payload in place and
// returns its plaintext: the inner payloads, Padding and Pad Length.
func (c *messageCipher) openRegions(r wire.Regions) ([]byte, error) {
	if c.aead != nil {
		nonce := append(append(make([]byte, 0, len(c.salt)+len(r.IV)), c.salt...), r.IV...)
		plain, err := c.aead.Open(r.Ciphertext[:0], nonce, r.Sealed(), r.AssociatedData)
		if err != nil {
			return nil, errIntegrity
		}
		return plain, nil
	}
	h := c.newHash()
	h.Write(r.Integrity)
	if !hmac.Equal(h.Sum(nil)[:len(r.ICV)], r.ICV) {
		return nil, errIntegrity
	}
	cbcDecrypt(c.block, r.IV, r.Ciphertext)
	return r.Ciphertext, nil
}

func cbcEncrypt(b cipher.Block, iv, data []byte) {
	cipher.NewCBCEncrypter(b, iv).CryptBlocks(data, data)
}

func cbcDecrypt(b cipher.Block, iv, data []byte) {
	cipher.NewCBCDecrypter(b, iv).CryptBlocks(data, data)
}

package ikev1

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"

	"ipsecgw/transform"
)

// IKEv1 encrypts everything after the header as one CBC run (RFC 2409
// App. B). Its IV is not sent: phase 1 starts from hash(g^xi | g^xr) and
// each message's last ciphertext block is the next message's IV; every
// phase 2 or Informational exchange starts from hash(last phase 1 IV |
// Message ID) and chains the same way within the exchange.

// cbc is the phase 1 cipher with its hash (for IVs).
type cbc struct {
	block cipher.Block
	hash  *transform.Transform // the negotiated hash (a PRF row)
}

func newCBC(encr *transform.Transform, key []byte, hash *transform.Transform) (*cbc, error) {
	b, err := encr.NewBlock(key)
	if err != nil {
		return nil, err
	}
	return &cbc{block: b, hash: hash}, nil
}

// ivFrom returns hash(parts…) cut to the block size.
func (c *cbc) ivFrom(parts ...[]byte) []byte {
	h, err := c.hash.NewHash()
	if err != nil {
		return make([]byte, c.block.BlockSize()) // unreachable: PRF rows have a hash
	}
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)[:c.block.BlockSize()]
}

// phase2IV is the first IV of a phase 2 or Informational exchange.
func (c *cbc) phase2IV(phase1IV []byte, msgID uint32) []byte {
	return c.ivFrom(phase1IV, binary.BigEndian.AppendUint32(nil, msgID))
}

// seal pads plain with zeros to the block size and encrypts it from iv. It
// returns the ciphertext and the next IV (its last block).
func (c *cbc) seal(plain, iv []byte) (ct, next []byte) {
	bs := c.block.BlockSize()
	n := (len(plain) + bs - 1) / bs * bs
	if n == 0 {
		n = bs
	}
	ct = make([]byte, n)
	copy(ct, plain)
	cipher.NewCBCEncrypter(c.block, iv).CryptBlocks(ct, ct)
	return ct, append([]byte(nil), ct[n-bs:]...)
}

var errCiphertext = errors.New("ikev1: ciphertext is not a whole number of blocks")

// open decrypts ct from iv and returns the plaintext (padding included)
// and the next IV.
func (c *cbc) open(ct, iv []byte) (plain, next []byte, err error) {
	bs := c.block.BlockSize()
	if len(ct) == 0 || len(ct)%bs != 0 {
		return nil, nil, fmt.Errorf("%w (%d bytes, block %d)", errCiphertext, len(ct), bs)
	}
	plain = make([]byte, len(ct))
	cipher.NewCBCDecrypter(c.block, iv).CryptBlocks(plain, ct)
	return plain, append([]byte(nil), ct[len(ct)-bs:]...), nil
}

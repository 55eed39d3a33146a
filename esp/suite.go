package esp

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sync"

	"ipsecgw/esp/ipsecmb"
	"ipsecgw/transform"
)

// Config describes one direction of a child SA as IKE negotiated it or as a
// manual SA configures it.
type Config struct {
	SPI uint32
	// Encryption is an ENCR row: an AEAD (AES-GCM, ChaCha20-Poly1305) or a
	// CBC cipher (AES-CBC, 3DES).
	Encryption *transform.Transform
	// EncryptionKey is Encryption.KeyMaterialSize() bytes of KEYMAT: the
	// cipher key, then for an AEAD the 4-byte salt (RFC 4106 §8.1,
	// RFC 7634 §3).
	EncryptionKey []byte
	// Integrity is an INTEG row, required with a CBC cipher and nil with an
	// AEAD (which authenticates by itself).
	Integrity    *transform.Transform
	IntegrityKey []byte
	// ESN selects 64-bit extended sequence numbers (RFC 4303 §2.2.1).
	ESN bool

	// Inbound only. ReplayWindow is the anti-replay window in packets (0
	// means 64); NoAntiReplay turns the check off (Junos no-anti-replay).
	ReplayWindow int
	NoAntiReplay bool

	// Outbound only. Rand supplies the secret key of the CBC IV generator;
	// nil means crypto/rand.
	Rand io.Reader
}

// suite is the cryptographic state both directions share. It is immutable
// after newSuite, except for the work pool, so any number of cores may use
// it at once.
type suite struct {
	spi    uint32
	esn    bool
	enc    *transform.Transform
	integ  *transform.Transform // nil with an AEAD
	aead   cipher.AEAD          // set for AEAD transforms
	block  cipher.Block         // set for CBC transforms
	macKey []byte               // integrity key, kept to key new work areas

	icvLen    int
	align     int // body alignment: max(cipher block, 4)
	minBody   int // smallest body Open can decrypt
	headroom  int // ESP header + IV
	salt      [4]byte
	saltLen   int
	workSlots workPool
	// sealRuns: aead is ipsec-mb's, which seals a run of packets in one
	// call into C (Outbound.SealRun).
	sealRuns bool
}

func newSuite(cfg *Config) (*suite, error) {
	enc := cfg.Encryption
	if cfg.SPI == 0 {
		return nil, errors.New("esp: SPI 0 is reserved and never sent (RFC 4303 §2.1)")
	}
	if enc == nil || enc.Type != transform.TypeENCR {
		return nil, fmt.Errorf("esp: SA 0x%08x: encryption transform must be an ENCR row, got %v", cfg.SPI, enc)
	}
	if enc.Insecure {
		return nil, fmt.Errorf("esp: SA 0x%08x: %s is insecure and not supported", cfg.SPI, enc)
	}
	if len(cfg.EncryptionKey) != enc.KeyMaterialSize() {
		return nil, fmt.Errorf("esp: SA 0x%08x: %s needs %d bytes of key material, got %d",
			cfg.SPI, enc, enc.KeyMaterialSize(), len(cfg.EncryptionKey))
	}
	s := &suite{
		spi:      cfg.SPI,
		esn:      cfg.ESN,
		enc:      enc,
		align:    max(enc.BlockSize, minAlign),
		headroom: headerLen + enc.IVSize,
	}
	if s.align&(s.align-1) != 0 {
		return nil, fmt.Errorf("esp: SA 0x%08x: %s: block size %d is not a power of two", cfg.SPI, enc, enc.BlockSize)
	}
	key := cfg.EncryptionKey[:enc.KeySize()]
	var err error
	switch {
	case enc.IsAEAD():
		if cfg.Integrity != nil {
			return nil, fmt.Errorf("esp: SA 0x%08x: %s is an AEAD and takes no integrity transform, got %s",
				cfg.SPI, enc, cfg.Integrity)
		}
		if s.aead, err = NewAEAD(enc, key); err != nil {
			return nil, fmt.Errorf("esp: SA 0x%08x: %w", cfg.SPI, err)
		}
		if enc.SaltSize != len(s.salt) || s.aead.NonceSize() != enc.SaltSize+enc.IVSize {
			return nil, fmt.Errorf("esp: SA 0x%08x: %s: nonce must be a 4-byte salt and the IV", cfg.SPI, enc)
		}
		s.saltLen = copy(s.salt[:], cfg.EncryptionKey[enc.KeySize():])
		s.sealRuns = ipsecmb.SealRun(s.aead, nil)
		s.icvLen = enc.ICVSize
		s.minBody = trailerLen
	case enc.IsCBC():
		if err := s.setIntegrity(cfg); err != nil {
			return nil, err
		}
		if s.block, err = enc.NewBlock(key); err != nil {
			return nil, fmt.Errorf("esp: SA 0x%08x: %w", cfg.SPI, err)
		}
		s.minBody = enc.BlockSize
	default:
		return nil, fmt.Errorf("esp: SA 0x%08x: %s has no cipher implementation", cfg.SPI, enc)
	}
	s.workSlots.init(s.newWork)
	return s, nil
}

// NewAEAD builds an SA's AEAD: AES-GCM through ipsec-mb where it is built
// in (-tags ipsecmb) and faster on this CPU, otherwise the transform
// table's crypto/cipher one. IKE's own encryption keeps crypto/cipher.
// The data plane's benchmarks measure the bare AEAD through it, so that
// the pipeline is set against the AEAD it really runs.
func NewAEAD(enc *transform.Transform, key []byte) (cipher.AEAD, error) {
	if enc.ID == transform.ENCR_AES_GCM_16 && useIPsecMB() {
		return ipsecmb.NewGCM(key)
	}
	return enc.NewAEAD(key)
}

// useIPsecMB is decided once per process: IPSECGW_AEAD=go keeps
// crypto/cipher, for A/B runs and as an escape hatch.
var useIPsecMB = sync.OnceValue(func() bool {
	return os.Getenv("IPSECGW_AEAD") != "go" && ipsecmb.Available()
})

// AEADImplementation names what seals and opens ESP's AES-GCM in this
// process, for the daemon's start-up log.
func AEADImplementation() string {
	if useIPsecMB() {
		return ipsecmb.Implementation()
	}
	if os.Getenv("IPSECGW_AEAD") == "go" {
		return "go crypto/cipher (IPSECGW_AEAD=go)"
	}
	return "go crypto/cipher; ipsec-mb " + ipsecmb.Implementation()
}

// setIntegrity checks and keeps the integrity transform of a CBC SA. ESP
// with encryption alone is open to active attacks (RFC 4303 §3.2, RFC 8221
// §5), so a CBC cipher without integrity is refused.
func (s *suite) setIntegrity(cfg *Config) error {
	integ := cfg.Integrity
	if integ == nil || integ.Type != transform.TypeINTEG {
		return fmt.Errorf("esp: SA 0x%08x: %s needs an INTEG transform, got %v", cfg.SPI, s.enc, integ)
	}
	if integ.ICVSize > maxSum {
		return fmt.Errorf("esp: SA 0x%08x: %s ICV longer than %d bytes", cfg.SPI, integ, maxSum)
	}
	// Build one MAC now so that a bad key fails here, not on a packet.
	if _, err := integ.NewMAC(cfg.IntegrityKey); err != nil {
		return fmt.Errorf("esp: SA 0x%08x: %w", cfg.SPI, err)
	}
	s.integ = integ
	s.macKey = append([]byte(nil), cfg.IntegrityKey...)
	s.icvLen = integ.ICVSize
	return nil
}

// maxSum bounds the HMAC output a work area holds (SHA-512).
const maxSum = 64

// work is the scratch one Seal or Open needs for its duration: the nonce
// and AAD an AEAD reads, and the keyed HMAC state, which is not safe for
// concurrent use. Keeping them here instead of on the stack matters: a
// slice of a local array passed to an interface method escapes, so each
// packet would allocate.
type work struct {
	nonce   [12]byte // salt || IV; the salt is written once by newWork
	aad     [12]byte // SPI || seq high || seq low (RFC 4106 §5, with ESN)
	esnHigh [4]byte  // seq high, appended to the HMAC input with ESN
	sum     [maxSum]byte
	mac     hash.Hash // nil with an AEAD
}

func (s *suite) newWork() *work {
	w := &work{}
	copy(w.nonce[:], s.salt[:s.saltLen])
	if s.integ != nil {
		// The key was accepted by setIntegrity, so this cannot fail.
		w.mac, _ = s.integ.NewMAC(s.macKey)
		// The first Reset precomputes the padded-key states, making every
		// later Reset a copy instead of two hash blocks.
		w.mac.Reset()
	}
	return w
}

// nonce returns salt || iv in w (whose salt newWork wrote).
func (s *suite) nonce(w *work, iv []byte) []byte {
	n := copy(w.nonce[s.saltLen:], iv)
	return w.nonce[:s.saltLen+n]
}

// nonceIn returns salt || iv in buf, for the runs (SealRun, DecryptRun),
// whose packets each carry their own.
func (s *suite) nonceIn(buf *[12]byte, iv []byte) []byte {
	copy(buf[:], s.salt[:s.saltLen])
	n := copy(buf[s.saltLen:], iv)
	return buf[:s.saltLen+n]
}

// aad returns the AEAD's additional data in w (see aadIn).
func (s *suite) aad(w *work, pkt []byte, seq uint64) []byte { return s.aadIn(&w.aad, pkt, seq) }

// aadIn returns the AEAD's additional data: SPI and the 32-bit sequence
// number, which are the packet's first 8 bytes as they stand, or with ESN
// SPI, high and low halves of the 64-bit number (RFC 4106 §5) in buf.
func (s *suite) aadIn(buf *[12]byte, pkt []byte, seq uint64) []byte {
	if !s.esn {
		return pkt[:headerLen]
	}
	binary.BigEndian.PutUint32(buf[0:], s.spi)
	binary.BigEndian.PutUint64(buf[4:], seq)
	return buf[:]
}

// icv computes the truncated HMAC over the packet up to the ICV, followed
// with ESN by the high 32 bits of the sequence number (RFC 4303 §2.2.1).
// The result lives in w.
func (s *suite) icv(w *work, authenticated []byte, seq uint64) []byte {
	w.mac.Reset()
	w.mac.Write(authenticated)
	if s.esn {
		binary.BigEndian.PutUint32(w.esnHigh[:], uint32(seq>>32))
		w.mac.Write(w.esnHigh[:])
	}
	return w.mac.Sum(w.sum[:0])[:s.icvLen]
}

// SPI returns the SA's Security Parameters Index.
func (s *suite) SPI() uint32 { return s.spi }

// ESN reports whether the SA uses 64-bit extended sequence numbers.
func (s *suite) ESN() bool { return s.esn }

// Encryption returns the SA's cipher, for show commands.
func (s *suite) Encryption() *transform.Transform { return s.enc }

// Integrity returns the SA's integrity transform, nil with an AEAD.
func (s *suite) Integrity() *transform.Transform { return s.integ }

// Headroom is how many bytes Seal writes in front of the inner packet: the
// ESP header and IV. Outer IP and UDP headers go in front of those.
func (s *suite) Headroom() int { return s.headroom }

// Tailroom is the most Seal writes after the inner packet: padding up to
// the alignment, the 2-byte trailer and the ICV.
func (s *suite) Tailroom() int { return s.align - 1 + trailerLen + s.icvLen }

// Overhead is exactly how many bytes ESP adds to an inner packet of n bytes.
func (s *suite) Overhead(n int) int {
	return s.headroom + bodyLen(n, s.align) - n + s.icvLen
}

// MaxInner is the largest inner packet whose ESP packet fits in space
// bytes (the tunnel MTU minus outer headers); 0 if none does.
func (s *suite) MaxInner(space int) int {
	body := (space - s.headroom - s.icvLen) / s.align * s.align
	return max(body-trailerLen, 0)
}

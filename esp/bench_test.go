package esp

import (
	"crypto/cipher"
	"fmt"
	"hash"
	"testing"

	"ipsecgw/transform"
)

// Each benchmark runs ESP ("esp") next to the bare primitive on the same
// body ("bare": one AEAD call, or CBC plus HMAC with no IV generation), the
// ceiling ESP cannot beat. MB/s counts inner packet bytes.

var benchSizes = []int{64, 1400, 8900}

func benchSuites(b *testing.B) []suiteCase {
	row := func(typ transform.Type, id transform.ID, bits int) *transform.Transform {
		return lookup(b, typ, id, bits)
	}
	sha1 := row(transform.TypeINTEG, transform.AUTH_HMAC_SHA1_96, 0)
	sha256 := row(transform.TypeINTEG, transform.AUTH_HMAC_SHA2_256_128, 0)
	return []suiteCase{
		{"aes128gcm", row(transform.TypeENCR, transform.ENCR_AES_GCM_16, 128), nil},
		{"aes256gcm", row(transform.TypeENCR, transform.ENCR_AES_GCM_16, 256), nil},
		{"chacha20poly1305", row(transform.TypeENCR, transform.ENCR_CHACHA20_POLY1305, 0), nil},
		{"aes128cbc-sha1", row(transform.TypeENCR, transform.ENCR_AES_CBC, 128), sha1},
		{"aes256cbc-sha256", row(transform.TypeENCR, transform.ENCR_AES_CBC, 256), sha256},
		{"3des-sha1", row(transform.TypeENCR, transform.ENCR_3DES, 0), sha1},
	}
}

func BenchmarkSeal(b *testing.B) {
	for _, sc := range benchSuites(b) {
		for _, n := range benchSizes {
			out, _ := newPair(b, testConfig(sc, true))
			off := 32 + out.Headroom()
			buf := make([]byte, off+n, off+n+out.Tailroom())
			copy(buf[off:], innerPacket(n, NextHeaderIPv4))
			b.Run(fmt.Sprintf("%s/%d/esp", sc.name, n), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(n))
				for b.Loop() {
					if _, err := out.Seal(buf[:off+n], off, NextHeaderIPv4); err != nil {
						b.Fatal(err)
					}
				}
			})
			bare := newBare(b, sc, out, n)
			b.Run(fmt.Sprintf("%s/%d/bare", sc.name, n), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(n))
				for b.Loop() {
					bare.seal()
				}
			})
		}
	}
}

// BenchmarkOpen opens copies of pre-sealed packets. Anti-replay is off so
// that the same packets can be opened again and again; the window is
// measured on its own in package replay (about 25 ns for Check+Accept).
// The copy into the work buffer is part of both esp and bare.
func BenchmarkOpen(b *testing.B) {
	const ring = 64
	for _, sc := range benchSuites(b) {
		for _, n := range benchSizes {
			cfg := testConfig(sc, true)
			cfg.NoAntiReplay = true
			out, in := newPair(b, cfg)
			var pkts [ring][]byte
			for i := range pkts {
				pkts[i] = sealCopy(b, out, innerPacket(n, NextHeaderIPv4), NextHeaderIPv4)
			}
			work := make([]byte, len(pkts[0]))
			b.Run(fmt.Sprintf("%s/%d/esp", sc.name, n), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(n))
				i := 0
				for b.Loop() {
					copy(work, pkts[i%ring])
					i++
					if _, _, err := in.Open(work); err != nil {
						b.Fatal(err)
					}
				}
			})
			bare := newBare(b, sc, out, n)
			bare.seal()
			sealed := append([]byte(nil), bare.buf...)
			b.Run(fmt.Sprintf("%s/%d/bare", sc.name, n), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(n))
				for b.Loop() {
					copy(bare.buf, sealed)
					if !bare.open() {
						b.Fatal("bare open failed")
					}
				}
			})
		}
	}
}

// bare is the crypto of one ESP packet with nothing around it.
type bare struct {
	buf       []byte // IV || body || ICV
	ivLen     int
	nonce     []byte
	aad       []byte
	aead      cipher.AEAD
	enc, dec  cipher.BlockMode
	mac       hash.Hash
	sum       []byte
	icvLen    int
	ivSetters [2]interface{ SetIV([]byte) }
}

func newBare(b *testing.B, sc suiteCase, sa *Outbound, n int) *bare {
	x := &bare{
		ivLen: sc.enc.IVSize,
		aad:   make([]byte, 12),
		nonce: make([]byte, 12),
		sum:   make([]byte, 0, maxSum),
	}
	body := bodyLen(n, sa.align)
	x.icvLen = sa.icvLen
	x.buf = make([]byte, x.ivLen+body+x.icvLen)
	key := keyBytes(sc.enc.KeyMaterialSize(), 1)
	var err error
	if sc.enc.IsAEAD() {
		x.aead, err = sc.enc.NewAEAD(key[:sc.enc.KeySize()])
	} else {
		var block cipher.Block
		block, err = sc.enc.NewBlock(key)
		iv := make([]byte, block.BlockSize())
		x.enc, x.dec = cipher.NewCBCEncrypter(block, iv), cipher.NewCBCDecrypter(block, iv)
		x.ivSetters[0], _ = x.enc.(interface{ SetIV([]byte) })
		x.ivSetters[1], _ = x.dec.(interface{ SetIV([]byte) })
		x.mac, _ = sc.integ.NewMAC(keyBytes(sc.integ.KeySize(), 2))
		x.mac.Reset()
	}
	if err != nil {
		b.Fatal(err)
	}
	return x
}

func (x *bare) seal() {
	iv, rest := x.buf[:x.ivLen], x.buf[x.ivLen:]
	body := rest[:len(rest)-x.icvLen]
	if x.aead != nil {
		x.aead.Seal(body[:0], x.nonce, body, x.aad)
		return
	}
	x.ivSetters[0].SetIV(iv)
	x.enc.CryptBlocks(body, body)
	x.mac.Reset()
	x.mac.Write(x.buf[:len(x.buf)-x.icvLen])
	copy(rest[len(body):], x.mac.Sum(x.sum[:0]))
}

func (x *bare) open() bool {
	iv, rest := x.buf[:x.ivLen], x.buf[x.ivLen:]
	if x.aead != nil {
		_, err := x.aead.Open(rest[:0], x.nonce, rest, x.aad)
		return err == nil
	}
	body := rest[:len(rest)-x.icvLen]
	x.mac.Reset()
	x.mac.Write(x.buf[:len(x.buf)-x.icvLen])
	ok := string(x.mac.Sum(x.sum[:0])[:x.icvLen]) == string(rest[len(body):])
	x.ivSetters[1].SetIV(iv)
	x.dec.CryptBlocks(body, body)
	return ok
}

// BenchmarkSealParallel seals on every core at once through one SA, the
// contended case: the sequence counter and the work pool are shared.
func BenchmarkSealParallel(b *testing.B) {
	const n = 1400
	sc := benchSuites(b)[1] // aes256gcm
	out, _ := newPair(b, testConfig(sc, true))
	b.ReportAllocs()
	b.SetBytes(n)
	b.RunParallel(func(pb *testing.PB) {
		off := 32 + out.Headroom()
		buf := make([]byte, off+n, off+n+out.Tailroom())
		for pb.Next() {
			if _, err := out.Seal(buf[:off+n], off, NextHeaderIPv4); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

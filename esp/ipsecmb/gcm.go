//go:build ipsecmb && linux && amd64 && cgo

package ipsecmb

/*
#cgo CFLAGS: -O2 -DLINUX
#cgo LDFLAGS: -lIPSec_MB
// Seal and Open pass Go memory (packet, nonce, tag) that C keeps no longer
// than the call and never calls back into Go with: saying so keeps those
// arguments on the Go stack (no allocation per packet) and skips the
// runtime's callback bookkeeping.
//
// A key travels to C as a uintptr_t (igw_key), not as a struct igw_gcm
// pointer: on every call cgo checks each pointer argument whose target may
// hold pointers (the struct's function pointers), to refuse Go memory that
// holds Go pointers; byte pointers it leaves alone. A key is C memory
// (aligned_alloc), which that check always passes, so the check only cost
// time: 3 % of the seal pipeline's CPU (BenchmarkPipelineSeal1400).
#cgo noescape igw_gcm_new
#cgo nocallback igw_gcm_new
#cgo noescape igw_gcm_seal
#cgo nocallback igw_gcm_seal
#cgo noescape igw_gcm_open
#cgo nocallback igw_gcm_open
#cgo noescape igw_gcm_seal_run
#cgo nocallback igw_gcm_seal_run
#cgo noescape igw_gcm_open_run
#cgo nocallback igw_gcm_open_run
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <intel-ipsec-mb.h>

// igw_key is a struct igw_gcm *, which C allocated, as Go passes it.
typedef uintptr_t igw_key;

// igw_gcm is one key: ipsec-mb's expanded key (gcm_key_data, which the
// header aligns to 64 bytes) and the manager's functions for its size.
struct igw_gcm {
	struct gcm_key_data key;
	aes_gcm_enc_dec_t enc, dec;
};

// igw_mgr is set up once and only read afterwards: the direct GCM API
// takes the manager only to look up a function pointer.
static IMB_MGR *igw_mgr;

// igw_setup returns the architecture init_mb_mgr_auto chose, or -1.
static int igw_setup(uint64_t *features) {
	IMB_ARCH arch = IMB_ARCH_NONE;
	igw_mgr = alloc_mb_mgr(0);
	if (igw_mgr == NULL)
		return -1;
	init_mb_mgr_auto(igw_mgr, &arch);
	if (imb_get_errno(igw_mgr) != 0)
		return -1;
	*features = igw_mgr->features;
	return arch;
}

static igw_key igw_gcm_new(const uint8_t *key, int n) {
	struct igw_gcm *g = aligned_alloc(64, (sizeof *g + 63) & ~(size_t)63);
	if (g == NULL)
		return 0;
	switch (n) {
	case 16:
		IMB_AES128_GCM_PRE(igw_mgr, key, &g->key);
		g->enc = igw_mgr->gcm128_enc;
		g->dec = igw_mgr->gcm128_dec;
		break;
	case 24:
		IMB_AES192_GCM_PRE(igw_mgr, key, &g->key);
		g->enc = igw_mgr->gcm192_enc;
		g->dec = igw_mgr->gcm192_dec;
		break;
	case 32:
		IMB_AES256_GCM_PRE(igw_mgr, key, &g->key);
		g->enc = igw_mgr->gcm256_enc;
		g->dec = igw_mgr->gcm256_dec;
		break;
	default:
		free(g);
		return 0;
	}
	return (igw_key)g;
}

static void igw_gcm_free(igw_key k) {
	struct igw_gcm *g = (struct igw_gcm *)k;
	explicit_bzero(g, sizeof *g);
	free(g);
}

// The per-call context lives on the C stack: nothing is shared between
// calls but the read-only key, so any number of threads may seal and open
// with one key at once. It holds keystream and hash state, hence the zeroing.
static void igw_gcm_seal(igw_key k, uint8_t *out, const uint8_t *in, uint64_t n,
		const uint8_t *iv, const uint8_t *aad, uint64_t aadn, uint8_t *tag) {
	const struct igw_gcm *g = (const struct igw_gcm *)k;
	struct gcm_context_data ctx;
	g->enc(&g->key, &ctx, out, in, n, iv, aad, aadn, tag, 16);
	explicit_bzero(&ctx, sizeof ctx);
}

// igw_msg is one message of igw_gcm_seal_run, sealed in place: text's n
// bytes, then the tag at text + n; or of igw_gcm_open_run: text's n bytes
// and the tag after them, opened into out, and bad set when the tag is
// wrong. The addresses are of Go heap memory (SealRun says why that is
// safe).
struct igw_msg {
	uintptr_t text, out, iv, aad;
	uint64_t n, aadn;
	int32_t bad;
};

static void igw_gcm_seal_run(igw_key k, const struct igw_msg *m, int count) {
	const struct igw_gcm *g = (const struct igw_gcm *)k;
	struct gcm_context_data ctx;
	for (int i = 0; i < count; i++) {
		uint8_t *t = (uint8_t *)m[i].text;
		g->enc(&g->key, &ctx, t, t, m[i].n, (const uint8_t *)m[i].iv,
			(const uint8_t *)m[i].aad, m[i].aadn, t + m[i].n, 16);
	}
	explicit_bzero(&ctx, sizeof ctx);
}

// igw_gcm_open_run opens each message; one that fails leaves zeros in out.
static void igw_gcm_open_run(igw_key k, struct igw_msg *m, int count) {
	const struct igw_gcm *g = (const struct igw_gcm *)k;
	struct gcm_context_data ctx;
	uint8_t tag[16];
	uint64_t t[2], w[2];
	for (int i = 0; i < count; i++) {
		const uint8_t *in = (const uint8_t *)m[i].text;
		uint8_t *out = (uint8_t *)m[i].out;
		g->dec(&g->key, &ctx, out, in, m[i].n, (const uint8_t *)m[i].iv,
			(const uint8_t *)m[i].aad, m[i].aadn, tag, 16);
		// Two words XORed: a comparison in constant time.
		memcpy(t, tag, 16);
		memcpy(w, in + m[i].n, 16);
		m[i].bad = ((t[0] ^ w[0]) | (t[1] ^ w[1])) != 0;
		if (m[i].bad)
			explicit_bzero(out, m[i].n);
	}
	explicit_bzero(&ctx, sizeof ctx);
	explicit_bzero(tag, sizeof tag);
}

// igw_gcm_open decrypts and writes the tag it computed; the caller compares.
static void igw_gcm_open(igw_key k, uint8_t *out, const uint8_t *in, uint64_t n,
		const uint8_t *iv, const uint8_t *aad, uint64_t aadn, uint8_t *tag) {
	const struct igw_gcm *g = (const struct igw_gcm *)k;
	struct gcm_context_data ctx;
	g->dec(&g->key, &ctx, out, in, n, iv, aad, aadn, tag, 16);
	explicit_bzero(&ctx, sizeof ctx);
}
*/
import "C"

import (
	"crypto/cipher"
	"crypto/subtle"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// errOpen is crypto/cipher's message, so a log reads the same either way.
var errOpen = errors.New("cipher: message authentication failed")

const (
	nonceSize = 12
	tagSize   = 16
	// maxPlaintext is GCM's limit with a 96-bit nonce: 2^32-2 blocks
	// (NIST SP 800-38D §5.2.1.1), as crypto/cipher enforces it.
	maxPlaintext = (1<<32 - 2) * 16
)

// setup is ipsec-mb's one manager, made on first use.
var setup = sync.OnceValues(func() (ok bool, impl string) {
	var features C.uint64_t
	arch := C.igw_setup(&features)
	version := C.GoString(C.imb_get_version_str())
	if arch < 0 {
		return false, "unavailable (ipsec-mb " + version + ": no manager)"
	}
	name := archName(int(arch))
	if features&C.IMB_FEATURE_SELF_TEST != 0 && features&C.IMB_FEATURE_SELF_TEST_PASS == 0 {
		return false, "unavailable (ipsec-mb " + version + " " + name + ": self-test failed)"
	}
	// Without VAES and VPCLMULQDQ ipsec-mb's GCM is no faster than Go's
	// AES-NI code, and a cgo call per packet costs more than it saves.
	vaes := features&C.IMB_FEATURE_VAES != 0 && features&C.IMB_FEATURE_VPCLMULQDQ != 0
	if !vaes || arch < C.IMB_ARCH_AVX2 {
		return false, "unavailable (ipsec-mb " + version + " " + name + ": no VAES)"
	}
	return true, "ipsec-mb " + version + " " + name
})

func archName(arch int) string {
	switch arch {
	case C.IMB_ARCH_NOAESNI:
		return "noaesni"
	case C.IMB_ARCH_SSE:
		return "sse"
	case C.IMB_ARCH_AVX:
		return "avx"
	case C.IMB_ARCH_AVX2:
		return "avx2"
	case C.IMB_ARCH_AVX512:
		return "avx512"
	}
	return fmt.Sprintf("arch %d", arch)
}

// Available reports whether NewGCM works: built with the tag, and ipsec-mb
// chose an implementation with VAES on this CPU.
func Available() bool {
	ok, _ := setup()
	return ok
}

// Implementation names the library and the architecture ipsec-mb chose
// (init_mb_mgr_auto), or why NewGCM is unavailable, for the daemon's log.
func Implementation() string {
	_, impl := setup()
	return impl
}

// gcm is one AES-GCM key. key is C memory, freed and zeroed by a cleanup
// once the gcm is unreachable; every method ends with runtime.KeepAlive(g)
// so the cleanup cannot run while C still reads the key. Held as an
// integer, it is nothing the garbage collector would look at anyway.
type gcm struct {
	key C.igw_key
}

// NewGCM returns AES-GCM with a 12-byte nonce and 16-byte tag for a 16, 24
// or 32-byte key.
func NewGCM(key []byte) (cipher.AEAD, error) {
	if ok, impl := setup(); !ok {
		return nil, errors.New("ipsecmb: " + impl)
	}
	switch len(key) {
	case 16, 24, 32:
	default:
		return nil, fmt.Errorf("ipsecmb: AES-GCM key of %d bytes, want 16, 24 or 32", len(key))
	}
	k := C.igw_gcm_new((*C.uint8_t)(unsafe.Pointer(&key[0])), C.int(len(key)))
	if k == 0 {
		return nil, errors.New("ipsecmb: out of memory for an expanded key")
	}
	g := &gcm{key: k}
	runtime.AddCleanup(g, func(k C.igw_key) { C.igw_gcm_free(k) }, k)
	return g, nil
}

func (g *gcm) NonceSize() int { return nonceSize }
func (g *gcm) Overhead() int  { return tagSize }

func (g *gcm) Seal(dst, nonce, plaintext, aad []byte) []byte {
	if len(nonce) != nonceSize {
		panic("crypto/cipher: incorrect nonce length given to GCM")
	}
	if uint64(len(plaintext)) > maxPlaintext {
		panic("crypto/cipher: message too large for GCM")
	}
	ret, out := sliceForAppend(dst, len(plaintext)+tagSize)
	checkOverlap(out, plaintext, aad)
	n := len(plaintext)
	C.igw_gcm_seal(g.key, ptr(out), ptr(plaintext), C.uint64_t(n),
		ptr(nonce), ptr(aad), C.uint64_t(len(aad)), ptr(out[n:]))
	runtime.KeepAlive(g)
	return ret
}

func (g *gcm) Open(dst, nonce, ciphertext, aad []byte) ([]byte, error) {
	if len(nonce) != nonceSize {
		panic("crypto/cipher: incorrect nonce length given to GCM")
	}
	if len(ciphertext) < tagSize || uint64(len(ciphertext)) > maxPlaintext+tagSize {
		return nil, errOpen
	}
	n := len(ciphertext) - tagSize
	ret, out := sliceForAppend(dst, n)
	checkOverlap(out, ciphertext, aad)
	var tag [tagSize]byte
	C.igw_gcm_open(g.key, ptr(out), ptr(ciphertext), C.uint64_t(n),
		ptr(nonce), ptr(aad), C.uint64_t(len(aad)), (*C.uint8_t)(unsafe.Pointer(&tag[0])))
	runtime.KeepAlive(g)
	if subtle.ConstantTimeCompare(tag[:], ciphertext[n:]) != 1 {
		// The plaintext is already written: wipe it, as crypto/cipher does.
		clear(out)
		return nil, errOpen
	}
	return ret, nil
}

// ptr is b's first byte for C, nil when b is empty (ipsec-mb reads no
// input or output pointer for a zero length, and an empty slice's data
// pointer may point past its allocation).
func ptr(b []byte) *C.uint8_t {
	if len(b) == 0 {
		return nil
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0]))
}

// runMax is how many messages one call into C seals: a C array of them
// lives on SealRun's stack (40 bytes each).
const runMax = 32

// escape makes SealRun's messages' memory escape to the heap at compile
// time, as cgo's own _Cgo_use does: the compiler cannot tell that on is
// never set, so whatever a Message points to is allocated on the heap,
// never on a goroutine's stack (see SealRun).
var escape struct {
	on   bool
	sink Message
}

// SealRun seals each message in place, with aead, which must be NewGCM's,
// in one call into C per runMax messages instead of one per message: the
// call's own cost (the switch to the system stack and back, about 30 ns)
// was a tenth of the data plane's CPU time per 1400-byte packet. It
// reports whether aead is NewGCM's; if not it seals nothing, and with no
// messages it only reports. It panics as Seal does on a wrong nonce
// length, a text too long, or additional data overlapping the output, and
// when a text's capacity has no room for the tag after it.
//
// C gets the messages' addresses as integers, not pointers: an array
// passed to C may hold no Go pointers, and pinning each buffer
// (runtime.Pinner) costs more than the call it saves. That is sound
// because Go's collector does not move heap objects, and the memory the
// messages point to is on the heap (escape forces it there), alive until
// SealRun returns: the caller holds msgs, which point to it, and
// runtime.KeepAlive(msgs) keeps msgs. Stack memory would not do: a
// goroutine's stack moves when it grows or shrinks, which may happen
// between taking an address and the call.
func SealRun(aead cipher.AEAD, msgs []Message) bool {
	g, ok := aead.(*gcm)
	if !ok {
		return false
	}
	if escape.on && len(msgs) > 0 {
		escape.sink = msgs[0]
	}
	var d [runMax]C.struct_igw_msg
	for lo := 0; lo < len(msgs); lo += runMax {
		run := msgs[lo:min(lo+runMax, len(msgs))]
		for i := range run {
			m := &run[i]
			if len(m.Nonce) != nonceSize {
				panic("crypto/cipher: incorrect nonce length given to GCM")
			}
			if uint64(len(m.Text)) > maxPlaintext {
				panic("crypto/cipher: message too large for GCM")
			}
			if cap(m.Text)-len(m.Text) < tagSize {
				panic("ipsecmb: no room for the tag after the text")
			}
			checkOverlap(m.Text[:len(m.Text)+tagSize], m.Text, m.AAD)
			// Field by field: a composite literal is built on the
			// stack with word stores and copied with wider loads, which
			// stall (store forwarding fails).
			c := &d[i]
			c.text, c.n = addr(m.Text[:cap(m.Text)]), C.uint64_t(len(m.Text))
			c.iv, c.aad, c.aadn = addr(m.Nonce), addr(m.AAD), C.uint64_t(len(m.AAD))
		}
		C.igw_gcm_seal_run(g.key, &d[0], C.int(len(run)))
	}
	runtime.KeepAlive(msgs)
	runtime.KeepAlive(g)
	return true
}

// addr is b's first byte's address for C, 0 when b is empty (ipsec-mb
// reads nothing of a zero length).
func addr(b []byte) C.uintptr_t {
	if len(b) == 0 {
		return 0
	}
	return C.uintptr_t(uintptr(unsafe.Pointer(&b[0])))
}

// OpenRun opens each message with aead, which must be NewGCM's, in one
// call into C per runMax messages (as SealRun seals): Text is ciphertext
// and tag, the plaintext goes to Out, which is Text itself (in place) or
// lies apart from it and has room for it. A message that fails
// authentication gets Bad set and zeros in Out where its plaintext
// would be. OpenRun reports whether aead is NewGCM's; if not it opens
// nothing. It panics as Open does on a wrong nonce length, misplaced
// output, and on an Out too short. Its memory is as SealRun's.
func OpenRun(aead cipher.AEAD, msgs []Message) bool {
	g, ok := aead.(*gcm)
	if !ok {
		return false
	}
	if escape.on && len(msgs) > 0 {
		escape.sink = msgs[0]
	}
	var d [runMax]C.struct_igw_msg
	var which [runMax]int // d[j] is run[which[j]]
	for lo := 0; lo < len(msgs); lo += runMax {
		run := msgs[lo:min(lo+runMax, len(msgs))]
		k := 0
		for i := range run {
			m := &run[i]
			if len(m.Nonce) != nonceSize {
				panic("crypto/cipher: incorrect nonce length given to GCM")
			}
			n := len(m.Text) - tagSize
			if n < 0 || uint64(n) > maxPlaintext {
				m.Bad = true // as Open: too short to hold a tag
				continue
			}
			if len(m.Out) < n {
				panic("ipsecmb: no room for the plaintext")
			}
			checkOverlap(m.Out[:n], m.Text, m.AAD)
			which[k] = i
			c := &d[k] // field by field, as in SealRun
			c.text, c.out, c.n = addr(m.Text), addr(m.Out[:n]), C.uint64_t(n)
			c.iv, c.aad, c.aadn = addr(m.Nonce), addr(m.AAD), C.uint64_t(len(m.AAD))
			k++
		}
		C.igw_gcm_open_run(g.key, &d[0], C.int(k))
		for j := range k {
			run[which[j]].Bad = d[j].bad != 0
		}
	}
	runtime.KeepAlive(msgs)
	runtime.KeepAlive(g)
	return true
}

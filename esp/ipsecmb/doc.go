// Package ipsecmb is AES-GCM through Intel's ipsec-mb library (the one VPP
// and DPDK use), for ESP's data plane. On CPUs with VAES and VPCLMULQDQ its
// GCM seals and opens a 1400-byte packet about twice as fast as
// crypto/cipher's, cgo call included (214-226 against 434-476 ns here; the
// library alone 2.7 times), which does not use VAES (golang/go#42726).
//
// It is built only with the build tag ipsecmb on linux/amd64 with cgo, and needs
// libipsec-mb-dev (Debian; header intel-ipsec-mb.h, library -lIPSec_MB).
// Every other build gets a stub whose Available is false, so callers keep
// crypto/cipher. Available is also false where ipsec-mb picked an
// implementation without VAES: there crypto/cipher is as fast or faster.
//
// SealRun and OpenRun seal and open a run of messages (ESP's packets of
// one SA in a batch) in one call into C, which saves the call's own cost,
// about 30 ns a message, on all but the first.
//
// The AEAD NewGCM returns keeps crypto/cipher's GCM contract exactly: a
// 12-byte nonce and a 16-byte tag, Seal appends to dst and may work in
// place (dst = plaintext[:0]), Open refuses any change to ciphertext, tag,
// nonce or additional data and then leaves no plaintext behind, and the
// same panics for a wrong nonce length or inexactly overlapping buffers.
package ipsecmb

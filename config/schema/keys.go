package schema

import (
	"encoding/hex"
	"fmt"
	"strings"

	"ipsecgw/config"
	"ipsecgw/transform"
)

// Bytes returns the key material: the text itself for ascii-text keys, the
// decoded digits for hexadecimal keys. Errors never contain the key.
func (k Key) Bytes() ([]byte, error) {
	plain := k.Value.Plain()
	if !k.Hex {
		return plain, nil
	}
	h := strings.TrimPrefix(strings.TrimPrefix(string(plain), "0x"), "0X")
	out, err := hex.DecodeString(h)
	if err != nil {
		return nil, fmt.Errorf("hexadecimal key is not valid hexadecimal")
	}
	return out, nil
}

// encKeyBytes is the manual-SA key size of an IPsec encryption keyword: for
// AES-GCM and ChaCha20-Poly1305 the 4-byte salt follows the cipher key
// (RFC 4106 §8.1, RFC 7634 §2). 0 when the keyword is unknown.
func encKeyBytes(keyword string) int {
	if t, ok := transform.LookupKeyword(transform.IPsec, transform.TypeENCR, keyword); ok {
		return t.KeyMaterialSize()
	}
	return 0
}

// authKeyBytes is the manual-SA key size of an IPsec authentication keyword.
func authKeyBytes(keyword string) int {
	if t, ok := transform.LookupKeyword(transform.IPsec, transform.TypeINTEG, keyword); ok {
		return t.KeySize()
	}
	return 0
}

// isAEAD reports whether an IPsec encryption keyword authenticates by itself.
func isAEAD(keyword string) bool {
	t, ok := transform.LookupKeyword(transform.IPsec, transform.TypeENCR, keyword)
	if !ok {
		t, ok = transform.LookupKeyword(transform.IKE, transform.TypeENCR, keyword)
	}
	return ok && t.IsAEAD()
}

// checkKeyLength reports a manual key whose length does not fit its
// algorithm. The message gives lengths only, never the key.
func (b *builder) checkKeyLength(s *config.Stmt, k Key, want int, alg string) {
	if s == nil || !k.IsSet() || want == 0 {
		return
	}
	kb, err := k.Bytes()
	if err != nil {
		b.fail(s, err.Error(), "hexadecimal digits")
		return
	}
	if len(kb) != want {
		form := "characters"
		if k.Hex {
			form = "bytes (" + itoa(uint64(2*want)) + " hexadecimal digits)"
		}
		b.fail(s, fmt.Sprintf("%s needs a %d-byte key, this key has %d bytes", alg, want, len(kb)), fmt.Sprintf("a key of %d %s", want, form))
	}
}

// refuseInsecure reports algorithms kept in the table only so that
// configurations naming them parse (DES, MODP-768): ipsecgw will not run them.
func (b *builder) refuseInsecure(ps *config.Stmt, ctx transform.Context, typ transform.Type, leaf string) {
	st := child(ps, leaf)
	if st == nil {
		return
	}
	if t, ok := transform.LookupKeyword(ctx, typ, st.Value()); ok && t.Insecure {
		b.fail(st, fmt.Sprintf("%s is insecure and not implemented by ipsecgw", st.Value()), "a current algorithm (for example aes-256-gcm, group14 or stronger)")
	}
}

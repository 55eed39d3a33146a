package schema

import (
	"encoding/hex"
	"fmt"
	"strings"

	"ipsecgw/config"
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

// Manual-SA key sizes in bytes. For AES-GCM and ChaCha20-Poly1305 the key
// carries the 4-byte salt after the cipher key (RFC 4106 §8.1, RFC 7634 §2).
var encKeyBytes = map[string]int{
	"des-cbc": 8, "3des-cbc": 24,
	"aes-128-cbc": 16, "aes-192-cbc": 24, "aes-256-cbc": 32,
	"aes-128-gcm": 20, "aes-192-gcm": 28, "aes-256-gcm": 36,
	"chacha20-poly1305": 36,
}

var authKeyBytes = map[string]int{
	"hmac-md5-96": 16, "hmac-sha1-96": 20,
	"hmac-sha-256-96": 32, "hmac-sha-256-128": 32,
	"hmac-sha-384-192": 48, "hmac-sha-512-256": 64,
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

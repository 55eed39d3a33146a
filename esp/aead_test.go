package esp

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"ipsecgw/esp/ipsecmb"
	"ipsecgw/transform"
)

// TestAESGCMThroughIPsecMB: where ipsec-mb is built in and usable, every
// AES-GCM SA seals and opens with it (so the rest of this package's tests,
// the RFC vectors among them, run through it); elsewhere, and with
// IPSECGW_AEAD=go, with crypto/cipher. Other AEADs never take it.
func TestAESGCMThroughIPsecMB(t *testing.T) {
	want := ipsecmb.Available() && os.Getenv("IPSECGW_AEAD") != "go"
	t.Logf("ESP AEAD: %s", AEADImplementation())
	for _, sc := range allSuites(t) {
		if !sc.enc.IsAEAD() {
			continue
		}
		out, in := newPair(t, testConfig(sc, false))
		for dir, s := range map[string]*suite{"outbound": out.suite, "inbound": in.suite} {
			typ := fmt.Sprintf("%T", s.aead)
			got := strings.Contains(typ, "ipsecmb")
			if sc.enc.ID == transform.ENCR_AES_GCM_16 && got != want {
				t.Errorf("%s %s: AEAD %s, ipsec-mb wanted %v (%s)", sc.name, dir, typ, want, AEADImplementation())
			}
			if sc.enc.ID != transform.ENCR_AES_GCM_16 && got {
				t.Errorf("%s %s: AEAD %s, want crypto/cipher's", sc.name, dir, typ)
			}
		}
	}
}

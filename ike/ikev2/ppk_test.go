package ikev2

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"ipsecgw/ike"
)

// ppkConf gives a side a key manager profile with PPK_ID id and key key,
// optionally mandatory.
func ppkConf(id, key string, mandatory bool) string {
	s := fmt.Sprintf(`set security key-manager profiles km static key-id ascii-text %s
set security key-manager profiles km static key ascii-text "%s"
set security ike gateway gw ppk-profile km
`, id, key)
	if mandatory {
		s += "set security ike gateway gw ppk-mandatory\n"
	}
	return s
}

const (
	ppkA = "postquantum-preshared-key-number-one"
	ppkB = "postquantum-preshared-key-number-two"
)

// ppkPair runs one negotiation between sides with the given extra
// configuration; it returns the engines and their installers after the
// initiator is up or has failed.
func ppkPair(t *testing.T, extraA, extraB string) (a, b *Engine, ia, ib *installs, p *pipe) {
	t.Helper()
	p = &pipe{engines: map[netip.Addr]*Engine{}}
	a, ia, _ = newSide(t, side{me: 1, peer: 2, group: "group31", ikeEnc: "aes-256-gcm", psk: "secret", espEnc: "aes-256-gcm", extra: extraA}, p)
	b, ib, _ = newSide(t, side{me: 2, peer: 1, group: "group31", ikeEnc: "aes-256-gcm", psk: "secret", espEnc: "aes-256-gcm", extra: extraB}, p)
	t.Cleanup(func() { a.Close(); p.wg.Wait(); b.Close() })
	if err := a.Initiate(netip.MustParseAddr("192.0.2.2")); err != nil {
		t.Fatal(err)
	}
	return a, b, ia, ib, p
}

// TestPPKUsed: both sides with the same PPK, mandatory or optional, come
// up quantum secured, and their Child SA keys pair.
func TestPPKUsed(t *testing.T) {
	for _, mand := range [][2]bool{{false, false}, {true, true}, {true, false}, {false, true}} {
		t.Run(fmt.Sprintf("mandatory %v/%v", mand[0], mand[1]), func(t *testing.T) {
			a, b, ia, ib, _ := ppkPair(t, ppkConf("id1", ppkA, mand[0]), ppkConf("id1", ppkA, mand[1]))
			sa, sb := waitUp(t, a), waitUp(t, b)
			if !sa.PPKUsed || !sb.PPKUsed || sa.PPKProfile != "km" {
				t.Fatalf("PPK not used: %+v %+v", sa, sb)
			}
			ca, cb := ia.get()[0], ib.get()[0]
			if !bytes.Equal(ca.Outbound.Encryption, cb.Inbound.Encryption) {
				t.Fatal("child keys do not pair")
			}
		})
	}
}

// TestPPKWrongKeyFails: the same PPK_ID with different keys fails, and the
// responder, whose NO_PPK_AUTH check passes, says that the PPKs differ.
func TestPPKWrongKeyFails(t *testing.T) {
	a, b, ia, ib, p := ppkPair(t, ppkConf("id1", ppkA, false), ppkConf("id1", ppkB, false))
	eventually(t, "the initiator's failure", func() bool { return len(a.Failures()) > 0 })
	p.wg.Wait()
	if len(ia.get())+len(ib.get()) != 0 {
		t.Fatal("a Child SA was installed with different PPKs")
	}
	b.mu.Lock()
	rf := b.failures.List()
	b.mu.Unlock()
	if len(rf) == 0 || !strings.Contains(rf[0].Failure.Message, "the peer's PPK differs from ours (its pre-shared key is right)") {
		t.Fatalf("responder's reason: %+v", rf)
	}
	af := a.Failures()
	if !strings.Contains(af[0].Failure.Message, "AUTHENTICATION_FAILED) with PPK km") {
		t.Fatalf("initiator's reason: %q", af[0].Failure.Message)
	}
	for _, f := range append(af, rf...) {
		if strings.Contains(f.Failure.Message, ppkA) || strings.Contains(f.Failure.Message, ppkB) {
			t.Fatalf("a failure shows the PPK: %q", f.Failure.Message)
		}
	}
}

// TestPPKOptionalFallback: one side without a PPK (or with another PPK_ID)
// and the other optional: up without the PPK, through NO_PPK_AUTH where
// the initiator has one.
func TestPPKOptionalFallback(t *testing.T) {
	for _, tc := range []struct{ name, a, b string }{
		{"responder has none", ppkConf("id1", ppkA, false), ""},
		{"initiator has none", "", ppkConf("id1", ppkA, false)},
		{"responder knows another PPK_ID", ppkConf("id1", ppkA, false), ppkConf("id2", ppkA, false)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b, ia, ib, _ := ppkPair(t, tc.a, tc.b)
			sa, sb := waitUp(t, a), waitUp(t, b)
			if sa.PPKUsed || sb.PPKUsed {
				t.Fatalf("PPK used: %+v %+v", sa, sb)
			}
			ca, cb := ia.get()[0], ib.get()[0]
			if !bytes.Equal(ca.Outbound.Encryption, cb.Inbound.Encryption) {
				t.Fatal("child keys do not pair")
			}
		})
	}
}

// TestPPKMandatoryRefuses: a mandatory side refuses a peer that does not
// use the PPK, with the reason.
func TestPPKMandatoryRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, a, b string
		who        string // which side's failure carries the reason
		want       string
	}{
		{"initiator mandatory, responder none", ppkConf("id1", ppkA, true), "", "a", "no USE_PPK in IKE_SA_INIT"},
		{"responder mandatory, initiator none", "", ppkConf("id1", ppkA, true), "b", "no USE_PPK in IKE_SA_INIT"},
		{"responder mandatory, other PPK_ID", ppkConf("id2", ppkA, false), ppkConf("id1", ppkA, true), "b", "did not use it (no PPK_IDENTITY with PPK_ID \"id1\")"},
		{"initiator mandatory, other PPK_ID", ppkConf("id2", ppkA, true), ppkConf("id1", ppkA, false), "b", "PPK_ID we do not know and sent no NO_PPK_AUTH"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b, ia, ib, p := ppkPair(t, tc.a, tc.b)
			e := a
			if tc.who == "b" {
				e = b
			}
			eventually(t, "the failure", func() bool { return len(e.Failures()) > 0 })
			p.wg.Wait()
			if len(ia.get())+len(ib.get()) != 0 {
				t.Fatal("a Child SA was installed")
			}
			f := e.Failures()[0].Failure
			if !strings.Contains(f.Message, tc.want) || f.Cause != ike.CauseAuthentication {
				t.Fatalf("reason %q (%v), want %q", f.Message, f.Cause, tc.want)
			}
		})
	}
}

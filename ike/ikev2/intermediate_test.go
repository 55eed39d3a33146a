package ikev2

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// addKEConf gives a side's IKE proposal additional key exchanges.
func addKEConf(kes ...string) string {
	var b strings.Builder
	for i, m := range kes {
		b.WriteString("set security ike proposal p1 additional-key-exchange ke")
		b.WriteByte(byte('1' + i))
		b.WriteString(" " + m + "\n")
	}
	return b.String()
}

// TestAdditionalKeyExchanges: two engines run x25519 then ML-KEM in
// IKE_INTERMEDIATE exchanges, with a PPK on top in one case, both roles;
// their Child SA keys pair and each lists the exchanges.
func TestAdditionalKeyExchanges(t *testing.T) {
	for _, tc := range []struct {
		name  string
		kes   []string
		extra string
		want  []string
	}{
		{"mlkem768", []string{"mlkem768"}, "", []string{"ke1 ML-KEM-768"}},
		{"mlkem1024", []string{"mlkem1024"}, "", []string{"ke1 ML-KEM-1024"}},
		{"mlkem512", []string{"mlkem512"}, "", []string{"ke1 ML-KEM-512"}},
		{"mlkem768+mlkem1024+group19", []string{"mlkem768", "mlkem1024", "group19"}, "", []string{"ke1 ML-KEM-768", "ke2 ML-KEM-1024", "ke3 DH-group-19"}},
		{"mlkem768+ppk", []string{"mlkem768"}, ppkConf("id1", ppkA, true), []string{"ke1 ML-KEM-768"}},
		{"mlkem1024 unfragmented", []string{"mlkem1024"}, "set security ike gateway gw fragmentation disable\n", []string{"ke1 ML-KEM-1024"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			extra := addKEConf(tc.kes...) + tc.extra
			a, b, ia, ib, p := ppkPair(t, extra, extra)
			sa, sb := waitUp(t, a), waitUp(t, b)
			if !slices.Equal(sa.AdditionalKE, tc.want) || !slices.Equal(sb.AdditionalKE, tc.want) {
				t.Fatalf("additional key exchanges %v / %v, want %v", sa.AdditionalKE, sb.AdditionalKE, tc.want)
			}
			if strings.Contains(tc.extra, "ppk") && (!sa.PPKUsed || !sb.PPKUsed) {
				t.Fatal("PPK not used with the additional key exchanges")
			}
			ca, cb := ia.get()[0], ib.get()[0]
			if !bytes.Equal(ca.Outbound.Encryption, cb.Inbound.Encryption) {
				t.Fatal("child keys do not pair")
			}
			p.mu.Lock()
			sent := p.sent
			p.mu.Unlock()
			// IKE_SA_INIT, one IKE_INTERMEDIATE per method, IKE_AUTH: two
			// messages each, the ML-KEM ones in RFC 7383 fragments (of 576
			// bytes, the default) unless fragmentation is disabled.
			want := 2 * (2 + len(tc.kes))
			if strings.Contains(tc.extra, "fragmentation disable") {
				if sent != want {
					t.Errorf("%d messages, want %d", sent, want)
				}
			} else if sent <= want || sa.OutFragments == 0 || sb.OutFragments == 0 {
				t.Errorf("%d datagrams (want more than %d messages), fragments sent %d and %d", sent, want, sa.OutFragments, sb.OutFragments)
			}
		})
	}
}

// TestAdditionalKeyExchangeMismatch: a responder without the additional
// key exchange refuses the proposal that requires it.
func TestAdditionalKeyExchangeMismatch(t *testing.T) {
	a, _, _, _, p := ppkPair(t, addKEConf("mlkem768"), "")
	eventually(t, "the initiator's failure", func() bool { return len(a.Failures()) > 0 })
	p.wg.Wait()
	if f := a.Failures()[0].Failure.Message; !strings.Contains(f, "NO_PROPOSAL_CHOSEN") {
		t.Fatalf("initiator's reason: %q", f)
	}
}

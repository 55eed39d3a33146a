package ikev2

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"ipsecgw/clock"
)

// TestRekeysWithAdditionalKeyExchanges: with ML-KEM after x25519 in the
// IKE proposal and the IPsec policy's perfect-forward-secrecy, the IKE SA
// rekey and the Child SA rekey run IKE_FOLLOWUP_KE (RFC 9370 §2.2.4): the
// rekeyed IKE SA lists the exchange, the rekeyed Child SAs pair with new
// keys, and a PPK stays in the rekeyed IKE SA.
func TestRekeysWithAdditionalKeyExchanges(t *testing.T) {
	for _, tc := range []struct{ name, extra string }{
		{"mlkem768", ""},
		{"mlkem768+mlkem1024+ppk", addKEConf("mlkem768", "mlkem1024") + ppkConf("id1", ppkA, true)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			p := &pipe{engines: map[netip.Addr]*Engine{}}
			extra := tc.extra
			if extra == "" {
				extra = addKEConf("mlkem768")
			}
			extra += "set security ike proposal p1 lifetime-seconds 600\n" +
				"set security ipsec proposal ip1 lifetime-seconds 180\n" +
				"set security ipsec policy ipol perfect-forward-secrecy keys group31\n" +
				"set security ipsec policy ipol perfect-forward-secrecy additional-key-exchange ke1 mlkem1024\n"
			a, ia, _ := newSide(t, side{me: 1, peer: 2, group: "group31", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", extra: extra, clock: clk}, p)
			b, ib, _ := newSide(t, side{me: 2, peer: 1, group: "group31", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", extra: extra, clock: clk}, p)
			defer func() { a.Close(); p.wg.Wait(); b.Close() }()
			a.Initiate(netip.MustParseAddr("192.0.2.2"))
			first := waitUp(t, a)
			waitUp(t, b)
			// Time runs a second at a time, each step's exchanges done
			// before the next, so no lifetime or retransmission fires
			// while an exchange is in flight.
			run := func(d time.Duration) {
				for i := time.Duration(0); i < d; i += time.Second {
					clk.Advance(time.Second)
					p.wg.Wait()
				}
			}
			// Past the Child SA's soft lifetime (153-162 s).
			run(165 * time.Second)
			if ni, nr := ia.counts(); ni != 2 || nr != 1 {
				t.Fatalf("Child SA rekey: %d installed, %d removed", ni, nr)
			}
			ca, cb := ia.get()[1], ib.get()[1]
			if ca.OutboundSPI != cb.InboundSPI || string(ca.Outbound.Encryption) != string(cb.Inbound.Encryption) ||
				string(ca.Outbound.Encryption) == string(ia.get()[0].Outbound.Encryption) {
				t.Fatalf("rekeyed Child SAs do not pair or reuse keys: %+v %+v", ca, cb)
			}
			// Past the IKE SA's soft lifetime (510-540 s of 600).
			run(380 * time.Second)
			for _, e := range []*Engine{a, b} {
				sas := e.SAs()
				if len(sas) != 1 || sas[0].InitiatorSPI == first.InitiatorSPI || sas[0].State != "UP" || sas[0].Children != 1 ||
					!slices.Equal(sas[0].AdditionalKE, first.AdditionalKE) || sas[0].PPKUsed != first.PPKUsed {
					t.Fatalf("after the IKE rekey: %+v (first %+v)", sas, first)
				}
			}
			// Another Child SA rekey, under the rekeyed IKE SA (its SK_d).
			n0, _ := ia.counts()
			run(170 * time.Second)
			n, _ := ia.counts()
			m, _ := ib.counts()
			if n <= n0 || m != n {
				t.Fatalf("no Child SA rekey under the rekeyed IKE SA: %d, %d installed (%d before)", n, m, n0)
			}
			ca, cb = ia.get()[n-1], ib.get()[n-1]
			if string(ca.Outbound.Encryption) != string(cb.Inbound.Encryption) {
				t.Fatal("the Child SA rekeyed under the rekeyed IKE SA does not pair")
			}
		})
	}
}

// TestExportImportKeepsQuantum: an IKE SA resumed on another node (HA)
// still says it mixed a PPK in and ran its additional key exchanges.
func TestExportImportKeepsQuantum(t *testing.T) {
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	extra := addKEConf("mlkem768") + ppkConf("id1", ppkA, true)
	s := side{me: 1, peer: 2, group: "group31", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", extra: extra}
	a, _, _ := newSide(t, s, p)
	b, _, _ := newSide(t, side{me: 2, peer: 1, group: "group31", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", extra: extra}, p)
	defer func() { a.Close(); p.wg.Wait(); b.Close() }()
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	first := waitUp(t, a)
	waitUp(t, b)
	all := func(netip.Addr) bool { return true }
	states := a.Export(all)
	if len(states) != 1 || !states[0].PPKUsed || !slices.Equal(states[0].AddKE, []string{"ke1 ML-KEM-768"}) {
		t.Fatalf("exported %+v", states)
	}
	a.Forget(all)
	a2, ia2, _ := newSide(t, s, p)
	a2.installer = resumeInstalls{installs: ia2, seq: map[uint32][2]uint64{}}
	defer a2.Close()
	if err := a2.Import(states[0]); err != nil {
		t.Fatal(err)
	}
	sas := a2.SAs()
	if len(sas) != 1 || sas[0].InitiatorSPI != first.InitiatorSPI || !sas[0].PPKUsed || !slices.Equal(sas[0].AdditionalKE, first.AdditionalKE) {
		t.Fatalf("resumed %+v", sas)
	}
}

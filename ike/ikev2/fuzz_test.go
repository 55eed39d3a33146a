package ikev2

import (
	"encoding/binary"
	"testing"

	"ipsecgw/ike/wire"
	"ipsecgw/transform"
)

// saBody encodes ps as an SA payload and returns its body, without the
// generic payload header: the fuzz input.
func saBody(t testing.TB, ps []wire.Proposal) []byte {
	_, chain, err := wire.AppendPayloads(nil, []wire.Payload{&wire.SA{Proposals: ps}})
	if err != nil {
		t.Fatal(err)
	}
	return chain[4:]
}

// FuzzSelect feeds any SA payload the codec accepts to every selection and
// check: none may panic, and whatever the responder chooses must encode,
// and pass the initiator's check against the proposals it came from.
func FuzzSelect(f *testing.F) {
	ike := mustIKEOffer(f, gcm256sha384g20, aes256sha256g14, chachaG31, tdesSHA1G2)
	mineESP := mustESPOffer(f, "", 0xc0010001,
		ipsecProposal("gcm", "aes-256-gcm", "", false),
		ipsecProposal("cbc", "aes-128-cbc", "hmac-sha-256-128", true))
	minePFS := mustESPOffer(f, "group14", 0xc0010001, ipsecProposal("gcm", "aes-128-gcm", "", true))
	f.Add(saBody(f, strongSwanSA(f).Proposals))
	f.Add(saBody(f, ike))
	f.Add(saBody(f, mineESP))
	f.Add(saBody(f, minePFS))
	f.Add(saBody(f, ike[1:2])) // an answer the initiator's check accepts
	f.Add(saBody(f, []wire.Proposal{espProp(1, 7, encr(transform.ENCR_AES_GCM_16, 256), integ(0), ke(0), ke(transform.MODP_2048), esn(0), esn(1))}))
	f.Fuzz(func(t *testing.T, body []byte) {
		chain := make([]byte, 4, 4+len(body))
		if len(body) > 0xffff-4 {
			return
		}
		binary.BigEndian.PutUint16(chain[2:], uint16(4+len(body)))
		chain = append(chain, body...)
		ps, err := wire.ParsePayloads(wire.PayloadSA, chain)
		if err != nil {
			return
		}
		offered := ps[0].(*wire.SA).Proposals
		if s, err := SelectIKE(offered, ike); err == nil {
			checkAnswer(t, offered, s.Proposal, func(sent, chosen []wire.Proposal) error {
				_, err := CheckIKEChosen(sent, chosen)
				return err
			})
		} else if NotifyFor(err) != wire.NO_PROPOSAL_CHOSEN {
			t.Fatalf("SelectIKE: %v", err)
		}
		for _, c := range []struct {
			mine     []wire.Proposal
			exchange wire.ExchangeType
		}{{mineESP, wire.IKE_AUTH}, {mineESP, wire.CREATE_CHILD_SA}, {minePFS, wire.IKE_AUTH}, {minePFS, wire.CREATE_CHILD_SA}} {
			if s, err := SelectESP(offered, c.mine, c.exchange); err == nil {
				checkAnswer(t, offered, s.Proposal, func(sent, chosen []wire.Proposal) error {
					_, err := CheckESPChosen(sent, chosen, c.exchange)
					return err
				})
			} else if NotifyFor(err) != wire.NO_PROPOSAL_CHOSEN {
				t.Fatalf("SelectESP: %v", err)
			}
		}
		// The offer read as a responder's answer: refused or accepted,
		// never a panic, and never an error of another kind.
		for _, err := range []error{
			func() error { _, err := CheckIKEChosen(ike, offered); return err }(),
			func() error { _, err := CheckESPChosen(mineESP, offered, wire.IKE_AUTH); return err }(),
			func() error { _, err := CheckESPChosen(minePFS, offered, wire.CREATE_CHILD_SA); return err }(),
		} {
			if err != nil && NotifyFor(err) != wire.NO_PROPOSAL_CHOSEN {
				t.Fatalf("check: %v", err)
			}
		}
	})
}

func checkAnswer(t *testing.T, offered []wire.Proposal, chosen wire.Proposal, check func(sent, chosen []wire.Proposal) error) {
	t.Helper()
	if _, _, err := wire.AppendPayloads(nil, []wire.Payload{&wire.SA{Proposals: []wire.Proposal{chosen}}}); err != nil {
		t.Fatalf("the answer %s does not encode: %v", Describe(chosen), err)
	}
	if err := check(offered, []wire.Proposal{chosen}); err != nil {
		t.Fatalf("the initiator refuses the answer %s to %v: %v", Describe(chosen), describeAll(offered), err)
	}
}

package ikev2

import (
	"net/netip"
	"sync"
	"testing"
	"time"

	"ipsecgw/clock"
	"ipsecgw/ike"
)

// stagedInstalls is an installer that installs the directions apart
// (ike.StagedInstaller) and records the outbound SAs put in.
type stagedInstalls struct {
	*installs
	mu  sync.Mutex
	out []uint32 // outbound SPIs, in order
}

func (s *stagedInstalls) InstallInbound(vpn string, c *ike.ChildSA) error {
	return s.installs.InstallChild(vpn, c)
}

func (s *stagedInstalls) InstallOutbound(vpn string, c *ike.ChildSA) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.out = append(s.out, c.OutboundSPI)
	return nil
}

func (s *stagedInstalls) InstallChild(vpn string, c *ike.ChildSA) error {
	s.InstallOutbound(vpn, c)
	return s.installs.InstallChild(vpn, c)
}

func (s *stagedInstalls) outbound() []uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint32(nil), s.out...)
}

// TestResponderOutboundWaitsForDelete: the responder of a Child SA rekey
// installs the new inbound SA at once and the new outbound SA only when
// the initiator deletes the old pair (by then the initiator receives on
// the new one), also after an IKE SA rekey moved the Child SA; without the
// DELETE it puts it in after stagedOutboundDelay.
func TestResponderOutboundWaitsForDelete(t *testing.T) {
	for _, ikeRekeyFirst := range []bool{false, true} {
		clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		p := &pipe{engines: map[netip.Addr]*Engine{}}
		a, ia, _ := newSide(t, side{me: 1, peer: 2, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", clock: clk}, p)
		b, ib, _ := newSide(t, side{me: 2, peer: 1, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", clock: clk}, p)
		sb := &stagedInstalls{installs: ib}
		b.installer = sb
		a.Initiate(netip.MustParseAddr("192.0.2.2"))
		waitUp(t, a)
		waitUp(t, b)
		if ikeRekeyFirst {
			first := a.SAs()[0].InitiatorSPI
			a.RekeyIKE(func(ike.SAInfo) bool { return true })
			eventually(t, "the IKE SA rekey", func() bool { s := b.SAs(); return len(s) == 1 && s[0].InitiatorSPI != first })
			p.wg.Wait()
		}
		a.RekeyChildren(func(string) bool { return true })
		eventually(t, "the rekeyed Child SA on both sides", func() bool {
			na, ra := ia.counts()
			nb, rb := ib.counts()
			return na == 2 && ra == 1 && nb == 2 && rb == 1
		})
		p.wg.Wait()
		newOut := ib.get()[1].OutboundSPI
		if out := sb.outbound(); len(out) != 2 || out[1] != newOut {
			t.Fatalf("IKE rekey first %v: the responder's outbound SAs %x, want the new one %x after the DELETE", ikeRekeyFirst, out, newOut)
		}
		a.Close()
		b.Close()
		p.wg.Wait()
	}

	// Without the DELETE (dropped), after stagedOutboundDelay.
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, _, _ := newSide(t, side{me: 1, peer: 2, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", clock: clk}, p)
	b, ib, _ := newSide(t, side{me: 2, peer: 1, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", clock: clk}, p)
	defer func() { a.Close(); b.Close(); p.wg.Wait() }()
	sb := &stagedInstalls{installs: ib}
	b.installer = sb
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	waitUp(t, a)
	waitUp(t, b)
	p.mu.Lock()
	p.drop = func(msg []byte) bool { return len(msg) > 18 && msg[18] == 37 } // INFORMATIONAL
	p.mu.Unlock()
	a.RekeyChildren(func(string) bool { return true })
	eventually(t, "the responder's new inbound SA", func() bool { n, _ := ib.counts(); return n == 2 })
	p.wg.Wait()
	if out := sb.outbound(); len(out) != 1 {
		t.Fatalf("the responder put the new outbound SA in before the DELETE: %x", out)
	}
	for waited := time.Duration(0); len(sb.outbound()) == 1; waited += time.Second {
		if waited > 2*stagedOutboundDelay {
			t.Fatalf("no outbound SA %v after the rekey", waited)
		}
		clk.Advance(time.Second)
		p.wg.Wait()
	}
}

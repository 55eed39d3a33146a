package daemon

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"ipsecgw/dataplane"
	"ipsecgw/esp"
	"ipsecgw/header"
	"ipsecgw/ike/ikev2"
	"ipsecgw/netio"
	"ipsecgw/transform"
)

// fakeStore stands for etcd: a Put that fails while down.
type fakeStore struct {
	down    bool
	written []uint64 // the marks written
}

func (f *fakeStore) put(st ikev2.State) error {
	if f.down {
		return errors.New("etcdserver: request timed out")
	}
	f.written = append(f.written, st.Children[0].OutSeq)
	return nil
}

// The outbound SA sends up to the mark confirmed written and no further,
// kicks the sync at half a step before it, and goes on once the next
// mark is written; a write that fails grants nothing.
func TestMarkFollowsConfirmedWrites(t *testing.T) {
	const spi = 0x4242
	n := netio.NewMemNetwork()
	h, err := n.AddHost(netip.MustParseAddr("192.0.2.1"))
	if err != nil {
		t.Fatal(err)
	}
	s4, _ := h.NewRawSender(4)
	e := dataplane.New(dataplane.Config{Send4: s4})
	t.Cleanup(func() { e.Close() })
	tun := netio.NewMemTUN("st0.1", 1400)
	if _, err := e.AddTunnel(tun, nil); err != nil {
		t.Fatal(err)
	}
	enc, _ := transform.LookupKeyword(transform.IPsec, transform.TypeENCR, "aes-128-gcm")
	o, err := e.InstallOutbound("st0.1", dataplane.OutboundParams{
		ESP:   esp.Config{SPI: spi, Encryption: enc, EncryptionKey: make([]byte, enc.KeyMaterialSize())},
		Local: netip.MustParseAddr("192.0.2.1"), Remote: netip.MustParseAddr("192.0.2.2"),
		Selectors: dataplane.AnySelectors,
	})
	if err != nil {
		t.Fatal(err)
	}
	kick := make(chan struct{}, 1)
	e.SetSequenceKick(kick)
	s := &haSync{d: &Daemon{engine: e}, hw: map[uint32]uint64{}}
	inst := &installer{outbound: map[uint32]*dataplane.OutboundSA{spi: o}}
	store := &fakeStore{}
	// sync is one pass of syncOnce for the SA's record.
	sync := func() {
		st := ikev2.State{Children: []ikev2.ChildState{{OutSPI: spi}}}
		s.sequences(inst, &st)
		if store.put(st) == nil {
			s.hw[spi] = st.Children[0].OutSeq
			markWritten(inst, spi, st.Children[0].OutSeq)
		}
	}
	pkt := make([]byte, 100)
	header.EncodeIPv4(pkt, header.IPv4Fields{TotalLength: 100, TTL: 64, Protocol: header.IPProtoUDP,
		Source: netip.MustParseAddr("198.18.1.1"), Destination: netip.MustParseAddr("198.18.2.1")})
	// send passes n packets and waits until the SA took their numbers.
	send := func(n int) {
		t.Helper()
		want := o.Sequence() + uint64(n)
		for range n {
			tun.Inject(pkt)
		}
		deadline := time.Now().Add(5 * time.Second)
		for o.Sequence() < want {
			if time.Now().After(deadline) {
				t.Fatalf("sequence %d, want %d", o.Sequence(), want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	kicked := func() bool {
		select {
		case <-kick:
			return true
		default:
			return false
		}
	}

	sync()
	if limit, at := o.SequenceMark(); limit != seqStep || at != seqStep/2+1 {
		t.Fatalf("first mark %d, kick at %d", limit, at)
	}
	o.ResumeAt(seqStep / 2) // as if half a step of packets went
	send(1)
	if !kicked() {
		t.Fatal("no kick half a step before the mark")
	}

	// etcd does not confirm: the mark stays, the SA stops at it.
	store.down = true
	sync()
	o.ResumeAt(seqStep - 1)
	send(3) // seqStep goes; seqStep+1 and +2 are held
	if got := o.Counters.SequenceHeld.Load(); got != 2 {
		t.Fatalf("held %d packets, want 2 (the mark is %d, sequence %d)", got, seqStep, o.Sequence())
	}
	if got := o.Counters.EncryptedPackets.Load(); got != 2 {
		t.Fatalf("sent %d packets, want 2", got)
	}

	// Written: the SA goes on.
	store.down = false
	sync()
	send(1)
	if got := o.Counters.EncryptedPackets.Load(); got != 3 || o.Counters.SequenceHeld.Load() != 2 {
		t.Fatalf("after the write: sent %d, held %d", got, o.Counters.SequenceHeld.Load())
	}
	if len(store.written) != 2 || store.written[1] <= seqStep+2 {
		t.Fatalf("marks written %v: the second must be above every number taken", store.written)
	}
}

// testOutbound is an outbound AES-GCM SA of SPI spi on a data plane of
// its own, and the TUN whose packets it seals.
func testOutbound(t *testing.T, spi uint32) (*dataplane.OutboundSA, *netio.MemTUN) {
	t.Helper()
	n := netio.NewMemNetwork()
	h, err := n.AddHost(netip.MustParseAddr("192.0.2.1"))
	if err != nil {
		t.Fatal(err)
	}
	s4, _ := h.NewRawSender(4)
	e := dataplane.New(dataplane.Config{Send4: s4})
	t.Cleanup(func() { e.Close() })
	tun := netio.NewMemTUN("st0.1", 1400)
	if _, err := e.AddTunnel(tun, nil); err != nil {
		t.Fatal(err)
	}
	enc, _ := transform.LookupKeyword(transform.IPsec, transform.TypeENCR, "aes-128-gcm")
	o, err := e.InstallOutbound("st0.1", dataplane.OutboundParams{
		ESP:   esp.Config{SPI: spi, Encryption: enc, EncryptionKey: make([]byte, enc.KeyMaterialSize())},
		Local: netip.MustParseAddr("192.0.2.1"), Remote: netip.MustParseAddr("192.0.2.2"),
		Selectors: dataplane.AnySelectors,
	})
	if err != nil {
		t.Fatal(err)
	}
	return o, tun
}

// A resumed SA, of either IKE version, waits at its mark until this node
// wrote its own; an SA resumed without a mark is not held.
func TestResumedSAHeldAtMark(t *testing.T) {
	o, _ := testOutbound(t, 7)
	o.ResumeAt(3 * seqStep)
	holdAtMark(o, 0)
	if limit, at := o.SequenceMark(); limit != 0 || at != 0 {
		t.Fatalf("an SA without a mark is held: mark %d, kick at %d", limit, at)
	}
	holdAtMark(o, 3*seqStep)
	if limit, at := o.SequenceMark(); limit != 3*seqStep || at != 3*seqStep {
		t.Fatalf("resumed SA's mark %d, kick at %d", limit, at)
	}
}

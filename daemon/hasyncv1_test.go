package daemon

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"ipsecgw/cluster"
	"ipsecgw/cluster/etcdtest"
	"ipsecgw/dataplane"
	"ipsecgw/header"
	"ipsecgw/ike/ikev1"
)

// The DPD mark stays ahead of every probe sent and moves (a write) only
// once every dpdStep/2 probes.
func TestDPDMark(t *testing.T) {
	mark, had, moves := uint32(0), false, 0
	for seq := uint32(0); seq < 10*dpdStep; seq++ {
		m := dpdMark(seq, mark, had)
		if m <= seq {
			t.Fatalf("probe %d: mark %d not ahead", seq, m)
		}
		if had && m != mark {
			moves++
		}
		mark, had = m, true
	}
	if moves != 19 {
		t.Fatalf("the mark moved %d times in %d probes, want 19", moves, 10*dpdStep)
	}
}

// A record's signature ignores the inbound edges (refreshed at most every
// haRefresh) and nothing else: a new DPD mark, high-water mark or key is
// written at once.
func TestSignatureV1(t *testing.T) {
	st := ikev1.State{CkyI: 1, CkyR: 2, DPDSeq: 512, SKEYIDa: []byte{1}, Children: []ikev1.ChildState{{InSPI: 1, OutSPI: 2, OutSeq: 1 << 20, InTop: 5}}}
	base := signatureV1(st)
	edge := st
	edge.Children = []ikev1.ChildState{st.Children[0]}
	edge.Children[0].InTop = 900
	if signatureV1(edge) != base {
		t.Fatal("an inbound edge changed the signature")
	}
	if st.Children[0].InTop != 5 {
		t.Fatal("signatureV1 changed its argument")
	}
	for name, change := range map[string]func(*ikev1.State){
		"dpd":  func(s *ikev1.State) { s.DPDSeq = 1024 },
		"hw":   func(s *ikev1.State) { s.Children[0].OutSeq = 2 << 20 },
		"key":  func(s *ikev1.State) { s.SKEYIDa = []byte{2} },
		"pair": func(s *ikev1.State) { s.Children = append(s.Children, ikev1.ChildState{InSPI: 3}) },
	} {
		x := st
		x.Children = []ikev1.ChildState{st.Children[0]}
		change(&x)
		if signatureV1(x) == base {
			t.Errorf("%s: the signature did not change", name)
		}
	}
}

// An IKEv1 IPsec SA sends nothing above the mark last written to etcd: a
// fresh SA has no mark (nothing can resume it) and is not held; a write
// that fails grants nothing, so the SA stops at its mark; a write that
// lands lets it go on. A resumed SA waits at the mark it was resumed at
// until this node's first write.
func TestIKEv1SAHeldAtWrittenMark(t *testing.T) {
	const spi = 0x1717
	srv, err := etcdtest.Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{srv.Endpoint}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	store, err := cluster.NewSAStore(cli, make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	// This node owns group 1: its token is the owner key's revision.
	resp, err := cli.Put(context.Background(), "/ipsecgw/srg/1/owner", "1")
	if err != nil {
		t.Fatal(err)
	}
	tok := resp.Header.Revision

	o, tun := testOutbound(t, spi)
	s := &haSync{d: &Daemon{engine: dataplane.New(dataplane.Config{}), log: slog.New(slog.DiscardHandler)}, store: store,
		v1: haSyncV1{hw: map[uint32]uint64{}, dpd: map[string]uint32{}}}
	inst := &installer{version: 1, outbound: map[uint32]*dataplane.OutboundSA{spi: o}}
	w := map[string]haWritten{}
	// put is one pass of syncV1 for the SA's record, with token tok.
	put := func(tok int64) error {
		st := ikev1.State{Version: 1, CkyI: 1, CkyR: 2, Children: []ikev1.ChildState{{InSPI: 9, OutSPI: spi}}}
		s.marksV1(inst, &st)
		return s.putV1(context.Background(), inst, 1, tok, "v1/"+st.Name(), st, w, false, time.Now())
	}
	pkt := make([]byte, 100)
	header.EncodeIPv4(pkt, header.IPv4Fields{TotalLength: 100, TTL: 64, Protocol: header.IPProtoUDP,
		Source: netip.MustParseAddr("198.18.1.1"), Destination: netip.MustParseAddr("198.18.2.1")})
	// send passes n packets and waits until the SA sent or held each.
	send := func(n int) {
		t.Helper()
		want := o.Counters.EncryptedPackets.Load() + o.Counters.SequenceHeld.Load() + uint64(n)
		for range n {
			tun.Inject(pkt)
		}
		deadline := time.Now().Add(5 * time.Second)
		for o.Counters.EncryptedPackets.Load()+o.Counters.SequenceHeld.Load() < want {
			if time.Now().After(deadline) {
				t.Fatalf("sent %d, held %d: want %d in all", o.Counters.EncryptedPackets.Load(), o.Counters.SequenceHeld.Load(), want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	sent := func() uint64 { return o.Counters.EncryptedPackets.Load() }
	held := func() uint64 { return o.Counters.SequenceHeld.Load() }

	// Fresh, before any write: no mark, not held.
	o.ResumeAt(2 * seqStep)
	send(1)
	if sent() != 1 || held() != 0 {
		t.Fatalf("fresh SA: sent %d, held %d", sent(), held())
	}
	// A write that fails (fenced: another node owns the group) grants nothing.
	if err := put(tok + 1); !errors.Is(err, cluster.ErrFenced) {
		t.Fatalf("write under a stale token: %v", err)
	}
	if limit, _ := o.SequenceMark(); limit != 0 {
		t.Fatalf("a failed write granted mark %d", limit)
	}
	// Written: the mark is the limit.
	if err := put(tok); err != nil {
		t.Fatal(err)
	}
	mark, at := o.SequenceMark()
	if mark != 3*seqStep+1 || at != kickPoint(mark) {
		t.Fatalf("mark %d, kick at %d after the write", mark, at)
	}
	// Near the mark, the next write fails: the SA stops at the mark.
	o.ResumeAt(mark - 1)
	if err := put(tok + 1); err == nil {
		t.Fatal("write under a stale token succeeded")
	}
	send(3) // mark goes; mark+1 and mark+2 are held
	if sent() != 2 || held() != 2 {
		t.Fatalf("at mark %d: sent %d, held %d (want 2, 2)", mark, sent(), held())
	}
	// The write lands: the SA goes on.
	if err := put(tok); err != nil {
		t.Fatal(err)
	}
	if next, _ := o.SequenceMark(); next <= mark {
		t.Fatalf("mark %d after the write, was %d", next, mark)
	}
	send(1)
	if sent() != 3 || held() != 2 {
		t.Fatalf("after the write: sent %d, held %d", sent(), held())
	}

	// Resumed at a mark: held there until this node writes its own.
	o.ResumeAt(10 * seqStep)
	holdAtMark(o, 10*seqStep)
	send(1)
	if sent() != 3 || held() != 3 {
		t.Fatalf("resumed SA: sent %d, held %d", sent(), held())
	}
	if err := put(tok); err != nil {
		t.Fatal(err)
	}
	send(1)
	if sent() != 4 || held() != 3 {
		t.Fatalf("resumed SA after the write: sent %d, held %d", sent(), held())
	}
}

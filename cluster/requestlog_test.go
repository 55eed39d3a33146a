package cluster

import (
	"bytes"
	"context"
	"encoding/binary"
	"net/netip"
	"sync"
	"testing"
	"time"

	"ipsecgw/config/schema"
)

// sendRecorder is a Sender that notes, for each message, whether its
// record was in etcd when it went out.
type sendRecorder struct {
	mu      sync.Mutex
	sent    [][]byte
	inStore []bool
	check   func(msg []byte) bool
}

func (s *sendRecorder) Send(msg []byte, from, to netip.AddrPort) error {
	ok := s.check(msg)
	s.mu.Lock()
	s.sent = append(s.sent, append([]byte(nil), msg...))
	s.inStore = append(s.inStore, ok)
	s.mu.Unlock()
	return nil
}

func (s *sendRecorder) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent)
}

// ikeMessage is a header-only IKE message (enough for the log).
func ikeMessage(spiI, spiR uint64, exchange byte, response bool, id uint32) []byte {
	b := make([]byte, ikeHeaderLen)
	binary.BigEndian.PutUint64(b[0:], spiI)
	binary.BigEndian.PutUint64(b[8:], spiR)
	b[17], b[18] = 0x20, exchange
	if response {
		b[19] = ikeFlagResponse
	}
	binary.BigEndian.PutUint32(b[20:], id)
	binary.BigEndian.PutUint32(b[24:], ikeHeaderLen)
	return b
}

// fragment is fragment num of total of a request (an SKF payload header
// after the IKE header).
func fragment(spiI, spiR uint64, id uint32, num, total uint16) []byte {
	b := ikeMessage(spiI, spiR, exchangeCreateChild, false, id)
	b[16] = payloadSKF
	b = append(b, 0, 0, 0, 8)
	b = binary.BigEndian.AppendUint16(b, num)
	return binary.BigEndian.AppendUint16(b, total)
}

func TestEncodeRequest(t *testing.T) {
	msgs := [][]byte{[]byte("first"), {}, []byte("third")}
	got, err := DecodeRequest(EncodeRequest(msgs))
	if err != nil || len(got) != 3 || string(got[2]) != "third" || len(got[1]) != 0 {
		t.Fatalf("%q %v", got, err)
	}
	if _, err := DecodeRequest(EncodeRequest(msgs)[:7]); err == nil {
		t.Fatal("a truncated record decoded")
	}
}

// A request from a group's virtual IP is in etcd before it is sent; a
// retransmission of it, a response, or a message from another address is
// not written; after the group moves, requests are dropped.
func TestRequestLogRecordsBeforeSending(t *testing.T) {
	fresh(t)
	rec := &recorder{}
	groups := []*schema.SRG{srg(1, false, map[int]int{1: 200, 2: 100})}
	n1 := joinTTL(t, 1, etcdURL, rec, groups, 6*time.Second)
	waitFor(t, 5*time.Second, "node 1 owns the group", func() bool { return rec.owner(1) == 1 })
	store, err := NewSAStore(n1.Client(), bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	vip := netip.MustParseAddr("198.51.100.10")
	owner := func(a netip.Addr) (int, int64, bool) {
		tok, ok := n1.Owned()[1]
		return 1, tok, ok && a == vip
	}
	snd := &sendRecorder{check: func(msg []byte) bool {
		recs, err := store.Load(context.Background(), 1)
		if err != nil {
			return false
		}
		msgs, err := DecodeRequest(recs["mid/"+RecordName(binary.BigEndian.Uint64(msg), binary.BigEndian.Uint64(msg[8:]))])
		for _, m := range msgs {
			if bytes.Equal(m, msg) {
				return err == nil
			}
		}
		return false
	}}
	l := NewRequestLog(store, snd, owner, testLogger())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go l.Run(ctx)

	from, to := netip.AddrPortFrom(vip, 4500), netip.MustParseAddrPort("198.51.100.100:4500")
	req := ikeMessage(1, 2, exchangeInformational, false, 7)
	l.Send(req, from, to)
	waitFor(t, 5*time.Second, "the request sent", func() bool { return snd.count() == 1 })
	l.Send(req, from, to)                                                                                     // retransmission
	l.Send(ikeMessage(1, 2, exchangeInformational, true, 3), from, to)                                        // response
	l.Send(ikeMessage(3, 4, exchangeCreateChild, false, 2), netip.MustParseAddrPort("198.51.100.11:500"), to) // not a VIP
	waitFor(t, 5*time.Second, "all sent", func() bool { return snd.count() == 4 })
	if w, _ := l.Stats(); w != 1 {
		t.Fatalf("%d records written, want 1", w)
	}
	snd.mu.Lock()
	if !snd.inStore[0] {
		t.Fatal("the request went out before its record was in etcd")
	}
	snd.mu.Unlock()

	// A request in two fragments is recorded whole, then both go out.
	f1, f2 := fragment(1, 2, 8, 1, 2), fragment(1, 2, 8, 2, 2)
	l.Send(f1, from, to)
	time.Sleep(100 * time.Millisecond)
	if snd.count() != 4 {
		t.Fatal("a first fragment went out before the whole request was recorded")
	}
	l.Send(f2, from, to)
	waitFor(t, 5*time.Second, "both fragments sent", func() bool { return snd.count() == 6 })
	snd.mu.Lock()
	if !snd.inStore[4] || !snd.inStore[5] || !bytes.Equal(snd.sent[4], f1) || !bytes.Equal(snd.sent[5], f2) {
		t.Fatalf("fragments sent %v, in the record %v", snd.sent[4:], snd.inStore[4:])
	}
	snd.mu.Unlock()

	// The group moves: the next request is dropped, not sent.
	n2 := joinTTL(t, 2, etcdURL, rec, groups, 6*time.Second)
	tok := n1.Owned()[1]
	if _, err := n2.Failover(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	stale := func(netip.Addr) (int, int64, bool) { return 1, tok, true }
	l2 := NewRequestLog(store, snd, stale, testLogger())
	go l2.Run(ctx)
	l2.Send(ikeMessage(1, 2, exchangeInformational, false, 8), from, to)
	time.Sleep(500 * time.Millisecond)
	if snd.count() != 6 {
		t.Fatal("a request of a group that moved was sent")
	}
}

package dataplane

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"sync/atomic"

	"ipsecgw/esp"
	"ipsecgw/header"
	"ipsecgw/netio"
)

// recvHeadroom is where received payloads start in their buffer; the
// decrypted inner packet always starts later, so moving it down to
// writeOffset for the TUN write never overlaps wrongly.
const recvHeadroom = 64

// tunnelWrites collects decrypted packets per tunnel during one batch.
type tunnelWrites struct {
	tunnels []*Tunnel
	bufs    [][][]byte
}

func (w *tunnelWrites) add(t *Tunnel, b []byte) {
	for i, x := range w.tunnels {
		if x == t {
			w.bufs[i] = append(w.bufs[i], b)
			return
		}
	}
	w.tunnels = append(w.tunnels, t)
	w.bufs = append(w.bufs, append(make([][]byte, 0, maxBatch), b))
}

func (w *tunnelWrites) flush(e *Engine) {
	for i, t := range w.tunnels {
		if len(w.bufs[i]) == 0 {
			continue
		}
		if _, err := t.dev.Write(w.bufs[i], writeOffset); err != nil {
			e.Stats.TunnelWriteErrors.Add(1)
		}
		w.bufs[i] = w.bufs[i][:0]
	}
}

// openItem is one received ESP packet on its way in: what the reader
// found, then what the worker made of it.
type openItem struct {
	sa  *InboundSA
	pkt []byte // from the SPI to the ICV
	out []byte // the buffer whose writeOffset the inner packet moves to
	seq uint64
	// Set by the worker: the frame for the tunnel, or why there is none
	// (err from esp.Decrypt, or drop for a check after it).
	frame []byte
	err   error
	drop  dropReason
	tos   uint8 // outer DS field and ECN
	// alone: pkt is the only packet in out, so the inner packet can be
	// written to the tunnel where it was decrypted (see frameInPlace).
	alone bool
	// apart: pkt does not lie in out, which holds nothing else, and is
	// decrypted straight to out's writeOffset (decryptTo): a frame the
	// receiver lent (netio.FrameReceiver), or a GRO run's later
	// datagram, whose out is a spare buffer of its own.
	apart bool
}

// dropReason is a check after decryption that refused a packet.
type dropReason uint8

const (
	dropNone dropReason = iota
	dropBadHeader
	dropSelector
	dropECN
)

// inBatch is one socket read travelling through the pipeline.
type inBatch struct {
	fence
	engine  *Engine
	udpPort uint16
	storage [][]byte
	msgs    []netio.Message
	items   []openItem
	// opens are the items' packets as esp.Inbound.DecryptRun takes them,
	// index for index: one SA's run of items is opened at once.
	opens []esp.Opening
	extra fragmentPool // output buffers for the second and later datagrams of a GRO run
	spis  spiCache     // the reader's last SA lookup
	// Scratch of release: a run's sequence numbers for esp.AcceptRun and
	// its answers.
	seqs     []uint64
	accepted []bool
}

func newInBatch(e *Engine, udpPort uint16) *inBatch {
	b := &inBatch{engine: e, udpPort: udpPort, storage: make([][]byte, maxBatch), msgs: make([]netio.Message, maxBatch), items: make([]openItem, 0, maxBatch),
		opens: make([]esp.Opening, maxBatch), seqs: make([]uint64, 0, maxBatch), accepted: make([]bool, maxBatch)}
	for i := range b.msgs {
		b.storage[i] = make([]byte, bufSize)
		b.msgs[i].Buf = b.storage[i][recvHeadroom:]
	}
	b.init()
	return b
}

// add prepares datagram p of message m as the batch's next item (see
// Engine.prepare), written where it lies in the batch: an item is too
// large to be returned and appended per packet. alone: p is the only
// packet in out.
func (b *inBatch) add(m *netio.Message, p, out []byte, udpPort uint16, alone, apart bool) {
	n := len(b.items)
	if n == cap(b.items) {
		// A GRO run holds more datagrams than the batch has messages.
		b.items = append(b.items, openItem{})
	}
	b.items = b.items[:n+1]
	it := &b.items[n]
	if !b.engine.prepare(it, m, p, out, udpPort, &b.spis) {
		b.items = b.items[:n]
		return
	}
	it.alone, it.apart = alone, apart
}

// sizeOpens gives opens an entry for every item; the reader calls it
// before the items are opened (a GRO run may bring more items than the
// batch has messages).
func (b *inBatch) sizeOpens() {
	if len(b.items) > len(b.opens) {
		b.opens = make([]esp.Opening, cap(b.items))
	}
}

func (b *inBatch) crypt(lo, hi int) {
	for i := lo; i < hi; {
		// Each run of one SA's packets is opened at once (esp.DecryptRun:
		// with ipsec-mb one call into C for the run), with one work
		// area (esp.Lease), then checked.
		sa := b.items[i].sa
		j := i + 1
		for j < hi && b.items[j].sa == sa {
			j++
		}
		run := b.opens[i:j]
		for k := range run {
			it := &b.items[i+k]
			run[k].Pkt, run[k].Seq, run[k].Dst = it.pkt, it.seq, it.decryptTo()
		}
		lease := sa.esp.Lease()
		sa.esp.DecryptRun(&lease, run)
		lease.Release()
		for k := range run {
			b.engine.opened(&b.items[i+k], run[k].Inner, run[k].NextHeader, run[k].Err)
		}
		i = j
	}
}

// releaseChunk is how many opened packets the inline reader lets pile up
// before it releases them to the tunnels, within a batch. One recvmmsg
// of a busy UDP GRO socket brings dozens of runs (seen in
// bench/throughput: 51 runs, 1.6 MB, opened for 1.6 ms before the first
// TUN write), and every datagram after a run's first is opened into a
// spare buffer of 64 KB: released once per read, the spares of a read
// grew to thousands (gw2's RSS 85 MB against 56 MB, the packets spread
// over memory) and the TCP receiver saw nothing until the whole read was
// open. Released in chunks, the spares are reused while in the cache
// (BenchmarkPipelineOpenGRO1400 inline: 1064 cpu-ns/pkt before, 660-700
// after), the data reaches the receiver as it is opened, and the TUN
// still coalesces a chunk's TCP segments into one write per flow.
const releaseChunk = 64

// inboundLoop is a socket's reader: batch → SPI, encapsulation and replay
// pre-check → workers.
func (e *Engine) inboundLoop(r netio.Receiver, udpPort uint16, free, ordered chan *inBatch, inflight *atomic.Int32) {
	defer close(ordered)
	failures := 0
	var writes tunnelWrites
	var count tally
	for {
		b := <-free
		b.items = b.items[:0]
		b.extra.reset()
		n, err := e.readBatch(r, b.msgs)
		for i := 0; i < n; i++ {
			m := &b.msgs[i]
			switch {
			case m.DstPort != 0:
				// A ring carrying ESP in UDP beside raw ESP.
				b.add(m, payload(m), b.storage[i], m.DstPort, true, m.Lent != nil)
			case m.SegmentSize <= 0 || m.N <= m.SegmentSize:
				b.add(m, payload(m), b.storage[i], udpPort, true, m.Lent != nil)
			default:
				// A GRO run: the datagrams lie back to back. The first
				// one's inner packet moves down in its own buffer, in
				// front of the second datagram; the others are decrypted
				// straight into spare buffers, which spares them a copy
				// of the inner packet each (a third of the socket
				// copy's open, BenchmarkPipelineOpenGRO1400).
				for off := 0; off < m.N; off += m.SegmentSize {
					out, spare := b.storage[i], off > 0
					if spare {
						out = b.extra.get()
					}
					b.add(m, m.Buf[off:min(off+m.SegmentSize, m.N)], out, udpPort, spare, spare)
				}
			}
			if e.work.inline && len(b.items) >= releaseChunk {
				b.sizeOpens()
				b.crypt(0, len(b.items))
				e.release(b, &writes, &count)
				b.items = b.items[:0]
				b.extra.reset()
			}
		}
		b.sizeOpens()
		if e.work.solo(len(b.items), inflight) {
			b.crypt(0, len(b.items))
			if e.work.inline {
				releaseFrames(r) // lent only inline (readBatch)
			}
			e.release(b, &writes, &count)
			free <- b
		} else {
			inflight.Add(1)
			e.work.run(b, len(b.items))
			ordered <- b
		}
		if err == nil {
			failures = 0
			continue
		}
		e.mu.Lock()
		closed := e.closed
		e.mu.Unlock()
		if closed {
			return
		}
		e.Stats.InternalErrors.Add(1)
		if failures++; failures > 100 {
			e.log.Error("socket keeps failing; stopping its inbound path", "port", udpPort, "err", err)
			return
		}
	}
}

// releaseInbound finishes a socket's batches in the order they were read:
// the replay window moves, packets are counted and written to their
// tunnels.
func (e *Engine) releaseInbound(free, ordered chan *inBatch, inflight *atomic.Int32) {
	var writes tunnelWrites
	var count tally
	for b := range ordered {
		b.wait()
		e.release(b, &writes, &count)
		inflight.Add(-1)
		free <- b
	}
}

// release finishes a batch whose crypto is done: the replay window
// moves, the packets are counted and written to their tunnels. The
// window takes each run of one SA's packets at once (esp.AcceptRun),
// in arrival order, as one Accept after the other would.
func (e *Engine) release(b *inBatch, writes *tunnelWrites, count *tally) {
	items := b.items
	for i := 0; i < len(items); {
		sa := items[i].sa
		j := i + 1
		for j < len(items) && items[j].sa == sa {
			j++
		}
		run := items[i:j]
		i = j
		seqs := b.seqs[:0]
		for k := range run {
			if run[k].err != esp.ErrAuthentication {
				seqs = append(seqs, run[k].seq)
			}
		}
		if cap(b.accepted) < len(seqs) {
			b.accepted = make([]bool, len(seqs))
		}
		sa.esp.AcceptRun(seqs, b.accepted)
		b.seqs = seqs
		n := 0
		for k := range run {
			it := &run[k]
			accepted := false
			if it.err != esp.ErrAuthentication {
				accepted, n = b.accepted[n], n+1
			}
			if e.finish(it, accepted, count) {
				writes.add(sa.tunnel, it.frame)
			}
		}
	}
	count.flush(e, false)
	writes.flush(e)
}

// decapsulate runs one datagram through the three stages on the calling
// goroutine: the tunnel and frame to write, or a nil tunnel when it was
// consumed or dropped (and counted). Tests and the fuzzer use it.
func (e *Engine) decapsulate(m *netio.Message, p, out []byte, udpPort uint16) (*Tunnel, []byte) {
	var it openItem
	if !e.prepare(&it, m, p, out, udpPort, nil) {
		return nil, nil
	}
	e.open(&it, nil)
	var count tally
	defer count.flush(e, false)
	accepted := it.err != esp.ErrAuthentication && it.sa.esp.Accept(it.seq)
	if !e.finish(&it, accepted, &count) {
		return nil, nil
	}
	return it.sa.tunnel, it.frame
}

// prepare handles one received datagram p of message m (Src, TOS) up to
// the crypto: NAT keepalives and IKE are sorted out, the SA found, the
// encapsulation and the replay window checked (the SA found through
// spis, the reader's cache, when not nil). An ESP packet that passes
// is written to it (every field set, alone false) with true, to be
// decrypted into out; anything else is consumed or dropped and counted
// here, and it is left as it was.
func (e *Engine) prepare(it *openItem, m *netio.Message, p, out []byte, udpPort uint16, spis *spiCache) bool {
	if udpPort != 0 {
		switch {
		case header.IsNATKeepalive(p):
			e.Stats.NATKeepalives.Add(1)
			return false
		case header.IsNonESPMarker(p):
			if e.ike != nil && udpPort == 4500 {
				e.ike(p[4:], m.Src, m.Dst)
			} else {
				e.Stats.IKEOnESPPort.Add(1)
			}
			return false
		}
	}
	if len(p) < 8 {
		e.Stats.BadHeaders.Add(1)
		return false
	}
	sa := e.inbound.lookup(binary.BigEndian.Uint32(p), spis)
	if sa == nil {
		e.Stats.NoSA.Add(1)
		return false
	}
	// The seed: with UDP encapsulation configured, ESP without the UDP
	// header, or to another port, is dropped. NAT traversal's 4500 is
	// always acceptable for a UDP SA.
	if sa.Encap.UDP && (udpPort == 0 || udpPort != sa.Encap.DstPort && udpPort != 4500) ||
		!sa.Encap.UDP && udpPort != 0 {
		e.Stats.WrongEncapsulation.Add(1)
		sa.Counters.WrongEncapsulation.Add(1)
		return false
	}
	seq, err := sa.esp.Check(p)
	if err != nil {
		e.countOpenError(sa, err)
		return false
	}
	// Field by field: a composite literal would be built on the stack
	// and copied.
	it.sa, it.pkt, it.out, it.seq = sa, p, out, seq
	it.frame, it.err = nil, nil
	it.tos, it.alone, it.drop, it.apart = m.TOS, false, dropNone, false
	return true
}

// open authenticates and decrypts an item and checks the inner packet
// (with the SA's work area lease, or nil): the workers' part of the
// inbound path, one packet at a time. It touches nothing shared but the
// SA's immutable keys.
func (e *Engine) open(it *openItem, lease *esp.Lease) {
	inner, nextHeader, err := it.decrypt(lease)
	e.opened(it, inner, nextHeader, err)
}

// opened checks the inner packet of an item that was decrypted (or
// records err, why not) and makes its tunnel frame.
func (e *Engine) opened(it *openItem, inner []byte, nextHeader byte, err error) {
	sa := it.sa
	if err != nil {
		it.err = err
		return
	}
	var innerTC uint8
	switch nextHeader {
	case header.IPProtoIPv4:
		h, ok := header.ParseIPv4(inner)
		if !ok {
			it.drop = dropBadHeader
			return
		}
		if !sa.wildcard.v4 && !selectorsAllow(sa.Selectors, h.Source(), h.Destination()) {
			it.drop = dropSelector
			return
		}
		inner, innerTC = h, h.TOS()
	case header.IPProtoIPv6:
		h, ok := header.ParseIPv6(inner)
		if !ok {
			it.drop = dropBadHeader
			return
		}
		if !sa.wildcard.v6 && !selectorsAllow(sa.Selectors, h.Source(), h.Destination()) {
			it.drop = dropSelector
			return
		}
		inner, innerTC = h, h.TrafficClass()
	default:
		it.drop = dropBadHeader
		return
	}
	tc, ok := header.DecapsulateTrafficClass(it.tos, innerTC, sa.CopyOuterDSCP)
	if !ok {
		it.drop = dropECN
		return
	}
	if tc != innerTC {
		header.SetTrafficClass(inner, tc)
	}
	e.clampTCPMSS(inner, sa.TCPMSS)
	if it.alone {
		if f, ok := frameInPlace(it.out, inner); ok {
			it.frame = f
			return
		}
	}
	n := copy(it.out[writeOffset:], inner)
	it.frame = it.out[:writeOffset+n]
}

// frameInPlace returns the tunnel write frame for an inner packet that
// was decrypted inside out: the slice of out that starts writeOffset
// octets before it (the ESP header and IV, no longer needed, take the
// TUN's virtio-net header), so the packet is not copied down to out's
// writeOffset. The frame keeps out's capacity, which the TUN's GRO may
// fill; that is why only a buffer holding one packet qualifies. false
// when inner does not lie in out with room in front.
func frameInPlace(out, inner []byte) ([]byte, bool) {
	full := out[:cap(out)]
	start := cap(out) - cap(inner)
	if len(inner) == 0 || start < writeOffset || start+len(inner) > len(full) || &full[start] != &inner[0] {
		return nil, false
	}
	return full[start-writeOffset : start+len(inner)], true
}

// finish is the ordered end of the inbound path: an authentic packet has
// moved the replay window (in arrival order, as sequential processing
// would: accepted is esp.Accept's answer, taken by the caller for every
// item but those that failed authentication), then it is delivered or
// its drop counted. It reports whether it.frame is to be written to the
// SA's tunnel; the delivered packets are counted in count, which the
// caller flushes.
func (e *Engine) finish(it *openItem, accepted bool, count *tally) bool {
	sa := it.sa
	if it.err == esp.ErrAuthentication {
		e.countOpenError(sa, it.err)
		return false
	}
	if !accepted {
		e.countOpenError(sa, esp.ErrReplay)
		return false
	}
	if it.err != nil {
		e.countOpenError(sa, it.err)
		return false
	}
	switch it.drop {
	case dropBadHeader:
		e.badHeader(sa)
		return false
	case dropSelector:
		e.Stats.SelectorMismatch.Add(1)
		sa.Counters.SelectorMismatch.Add(1)
		return false
	case dropECN:
		e.Stats.ECNDrops.Add(1)
		sa.Counters.ECNDrops.Add(1)
		return false
	}
	count.add(e, &sa.Counters, &sa.Limit, &sa.limit, len(it.frame)-writeOffset, false)
	return true
}

// wildcard says, per inner family, whether an SA's selectors let every
// decrypted packet of that family through: they hold a pair of /0
// prefixes of the family (AnySelectors, the route-based default). Then
// open does not build the addresses to compare them. Prefix.Contains
// agrees: a /0 of IPv4 holds every IPv4 address, a /0 of IPv6 every IPv6
// address (IPv4-mapped too), and the addresses of an IP header carry no
// zone.
type wildcard struct{ v4, v6 bool }

func wildcardOf(sels []Selector) wildcard {
	var w wildcard
	for _, s := range sels {
		if s.Local.Bits() != 0 || s.Remote.Bits() != 0 {
			continue // not /0, or not a valid prefix
		}
		l, r := s.Local.Addr(), s.Remote.Addr()
		w.v4 = w.v4 || l.Is4() && r.Is4()
		w.v6 = w.v6 || l.Is6() && r.Is6()
	}
	return w
}

func selectorsAllow(sels []Selector, src, dst netip.Addr) bool {
	for _, s := range sels {
		if s.matchIn(src, dst) {
			return true
		}
	}
	return false
}

func (e *Engine) badHeader(sa *InboundSA) {
	e.Stats.BadHeaders.Add(1)
	sa.Counters.BadHeaders.Add(1)
}

// countOpenError maps each reason esp.Open refuses a packet to its counter.
func (e *Engine) countOpenError(sa *InboundSA, err error) {
	var g, s = &e.Stats, &sa.Counters
	switch {
	case errors.Is(err, esp.ErrReplay):
		g.ReplayErrors.Add(1)
		s.ReplayErrors.Add(1)
	case errors.Is(err, esp.ErrAuthentication):
		g.AuthFailures.Add(1)
		s.AuthFailures.Add(1)
	case errors.Is(err, esp.ErrDecryption):
		g.DecryptFailures.Add(1)
		s.DecryptFailures.Add(1)
	case errors.Is(err, esp.ErrBadTrailer):
		g.BadTrailers.Add(1)
		s.BadTrailers.Add(1)
	case errors.Is(err, esp.ErrDummyPacket):
		g.DummyPackets.Add(1)
		s.DummyPackets.Add(1)
	default: // truncated, SPI mismatch, bad next header
		g.BadHeaders.Add(1)
		s.BadHeaders.Add(1)
	}
}

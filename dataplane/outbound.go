package dataplane

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"sync/atomic"
	"time"

	"ipsecgw/esp"
	"ipsecgw/header"
	"ipsecgw/netio"
)

// Tunnel is one tunnel interface (st0.N) and the outbound SAs bound to it.
type Tunnel struct {
	name     string
	dev      netio.TUN
	engine   *Engine
	icmpFrom []netip.Addr
	// outbound is replaced as a whole (copy on write) so the packet path
	// reads it without a lock.
	outbound atomic.Pointer[[]*OutboundSA]
	// lastNoSA is when the NoSA hook last ran (Unix nanoseconds).
	lastNoSA atomic.Int64
	// removed is set when the tunnel is taken out alone (RemoveTunnel):
	// its loop then ends on the device's read error.
	removed atomic.Bool
	// dead counts the removed SAs still in outbound (under Engine.mu).
	dead int
	// The pipeline's batches: free ones wait for the reader, read ones
	// for the releaser, in order.
	free, ordered chan *outBatch
	inflight      atomic.Int32 // batches in ordered or being sent (workerPool.solo)
}

// Name returns the interface name.
func (t *Tunnel) Name() string { return t.name }

// sendBatch collects outer packets of one TUN batch: complete IP packets
// per address family for the raw sockets, and ESP packets for the UDP
// sockets that send runs of them in one call.
type sendBatch struct {
	v4, v6 [][]byte
	gso    []gsoPacket
	gsoBuf []byte // where a run is laid out back to back

	// gsoVec holds a run's packets where they lie, for a
	// netio.SegmentVecSender (fast4).
	gsoVec [][]byte

	// runs holds the runs for sockets that send several in one call
	// (netio.RunSender) until the end of flushRuns (gsorun.go).
	runs runQueue
}

func newSendBatch() *sendBatch {
	return &sendBatch{v4: make([][]byte, 0, maxBatch), v6: make([][]byte, 0, maxBatch)}
}

// gsoPacket is an ESP packet waiting for a UDP socket; its outer headers
// are the kernel's to write.
type gsoPacket struct {
	sa     *OutboundSA
	sender netio.SegmentSender
	tos    uint8
	pkt    []byte
}

// maxRunBytes keeps a run within one UDP datagram's 16-bit length.
const maxRunBytes = 60000

// sealItem is one inner packet on its way out: what the reader decided
// for it, then what the worker made of it.
type sealItem struct {
	sa         *OutboundSA
	buf        []byte // headroom, then the inner packet
	seq        uint64
	nextHeader byte
	df         bool
	tc         uint8 // the inner DS field and ECN
	srcPort    uint16
	innerLen   int
	// gso, when set, is the UDP socket that sends the ESP packet in a run
	// and writes its outer headers.
	gso netio.SegmentSender
	// Set by the worker: the outer packet (the ESP packet for gso), or
	// the reason there is none.
	out []byte
	err error
}

// outBatch is one TUN read travelling through the pipeline.
type outBatch struct {
	fence
	engine *Engine
	bufs   [][]byte
	sizes  []int
	items  []sealItem
	// seals are the items' packets as esp.Outbound.SealRun takes them,
	// index for index: one SA's run of items is sealed at once.
	seals  []esp.Sealing
	frags  fragmentPool
	picked pickCache // the SA the reader chose last (fast4)
	segs   segCache  // the run sender the reader found last (queue)
}

func newOutBatch(e *Engine, n int) *outBatch {
	b := &outBatch{engine: e, bufs: make([][]byte, n), sizes: make([]int, n), items: make([]sealItem, 0, 2*n),
		seals: make([]esp.Sealing, 2*n)}
	for i := range b.bufs {
		b.bufs[i] = make([]byte, bufSize)
	}
	b.init()
	return b
}

func (b *outBatch) crypt(lo, hi int) {
	// The chunk's outer IPv4 identifications are taken at once: one
	// atomic add on the shared counter per chunk, not per packet.
	id := b.engine.ipID.Add(uint32(hi-lo)) - uint32(hi-lo)
	for i := lo; i < hi; {
		// Each run of one SA's packets is sealed at once (esp.SealRun:
		// with ipsec-mb one call into C for the run), with one work
		// area (esp.Lease), then framed.
		sa := b.items[i].sa
		j := i + 1
		for j < hi && b.items[j].sa == sa {
			j++
		}
		run := b.seals[i:j]
		for k := range run {
			it := &b.items[i+k]
			run[k].Seq, run[k].Buf, run[k].Off, run[k].NextHeader = it.seq, it.buf, headroom, it.nextHeader
		}
		lease := sa.esp.Lease()
		sa.esp.SealRun(&lease, run)
		lease.Release()
		for k := range run {
			id++
			b.engine.frame(&b.items[i+k], run[k].Pkt, run[k].Err, uint16(id))
		}
		i = j
	}
}

// outboundLoop is the tunnel's reader: TUN batch → SA, fragments and
// sequence numbers → workers.
func (t *Tunnel) outboundLoop() {
	e := t.engine
	defer close(t.ordered)
	failures := 0
	out := newSendBatch() // PipelineInline's
	for {
		b := <-t.free
		b.items = b.items[:0]
		b.frags.reset()
		n, err := t.dev.Read(b.bufs, b.sizes, headroom)
		for i := 0; i < n; i++ {
			t.encapsulate(b.bufs[i][:headroom+b.sizes[i]], b)
		}
		if len(b.items) > len(b.seals) {
			b.seals = make([]esp.Sealing, cap(b.items)) // fragments beyond 2 per packet
		}
		if e.work.solo(len(b.items), &t.inflight) {
			b.crypt(0, len(b.items))
			e.emit(b.items, out)
			e.flush(out)
			t.free <- b
		} else {
			t.inflight.Add(1)
			e.work.run(b, len(b.items))
			t.ordered <- b
		}
		if err == nil {
			failures = 0
			continue
		}
		if t.isClosed() {
			return
		}
		// A malformed offload batch fails one read and the device stays
		// good; a device that only fails is gone.
		e.Stats.InternalErrors.Add(1)
		if failures++; failures > 100 {
			e.log.Error("tunnel interface keeps failing; stopping its outbound path", "tunnel", t.name, "err", err)
			return
		}
	}
}

// releaseLoop sends the tunnel's batches in the order they were read.
func (t *Tunnel) releaseLoop() {
	e := t.engine
	out := newSendBatch()
	for b := range t.ordered {
		b.wait()
		e.emit(b.items, out)
		e.flush(out)
		t.inflight.Add(-1)
		t.free <- b
	}
}

func (t *Tunnel) isClosed() bool {
	if t.removed.Load() {
		return true
	}
	t.engine.mu.Lock()
	defer t.engine.mu.Unlock()
	return t.engine.closed
}

// pick returns the newest outbound SA whose selectors cover the packet.
func (t *Tunnel) pick(src, dst netip.Addr) *OutboundSA {
	sas := *t.outbound.Load()
	for i := len(sas) - 1; i >= 0; i-- {
		sa := sas[i]
		if sa.removed.Load() {
			continue
		}
		for _, s := range sa.Selectors {
			if s.matchOut(src, dst) {
				return sa
			}
		}
	}
	return nil
}

// encapsulate handles one inner packet at buf[headroom:]: the packets to
// seal are queued in b.
func (t *Tunnel) encapsulate(buf []byte, b *outBatch) {
	e := t.engine
	inner := buf[headroom:]
	var src, dst netip.Addr
	var nextHeader, proto byte
	switch {
	case len(inner) > 0 && inner[0]>>4 == 4:
		h, ok := header.ParseIPv4(inner)
		if !ok {
			e.Stats.BadHeaders.Add(1)
			return
		}
		src, dst, nextHeader, proto = h.Source(), h.Destination(), header.IPProtoIPv4, h.Protocol()
	case len(inner) > 0 && inner[0]>>4 == 6:
		h, ok := header.ParseIPv6(inner)
		if !ok {
			e.Stats.BadHeaders.Add(1)
			return
		}
		src, dst, nextHeader = h.Source(), h.Destination(), header.IPProtoIPv6
	default:
		e.Stats.BadHeaders.Add(1)
		return
	}
	sa := b.picked.pick(t, src, dst)
	if sa == nil {
		e.Stats.NoOutboundSA.Add(1)
		if e.noSA != nil && !hostChatter(src, dst, proto) {
			now := time.Now().UnixNano()
			if last := t.lastNoSA.Load(); now-last > int64(time.Second) && t.lastNoSA.CompareAndSwap(last, now) {
				e.noSA(t.name)
			}
		}
		return
	}
	e.clampTCPMSS(inner, sa.TCPMSS)
	if sa.TunnelMTU > 0 && len(inner) > sa.TunnelMTU {
		t.tooBig(sa, buf, inner, nextHeader, b)
		return
	}
	t.queue(sa, buf, nextHeader, b)
}

// hostChatter is what the kernel sends into a tunnel interface by itself
// (IPv6 link-local traffic: MLD reports, router solicitations; IGMP;
// mDNS, LLMNR, SSDP): no reason to bring a tunnel up. A routing protocol's
// multicast is: on the AS PIC of seed 001 the first OSPF hello routed
// into the inside interface starts the negotiation.
func hostChatter(src, dst netip.Addr, proto byte) bool {
	switch {
	case src.IsLinkLocalUnicast() || dst.Is6() && dst.IsMulticast():
		return true
	case proto == header.IPProtoIGMP:
		return true
	case dst == mdns4 || dst == llmnr4 || dst == ssdp4:
		return true
	}
	return false
}

var (
	mdns4  = netip.AddrFrom4([4]byte{224, 0, 0, 251})
	llmnr4 = netip.AddrFrom4([4]byte{224, 0, 0, 252})
	ssdp4  = netip.AddrFrom4([4]byte{239, 255, 255, 250})
)

// tooBig applies the tunnel MTU: an IPv4 packet with DF clear is
// fragmented before encryption (the seed's pre-fragmentation); anything
// else gets ICMP "fragmentation needed" / "packet too big" back.
func (t *Tunnel) tooBig(sa *OutboundSA, buf, inner []byte, nextHeader byte, b *outBatch) {
	e := t.engine
	if nextHeader == header.IPProtoIPv4 {
		h, _ := header.ParseIPv4(inner)
		if !h.DontFragment() {
			f, err := header.NewIPv4Fragmenter(h, sa.TunnelMTU)
			if err == nil {
				e.Stats.Fragmented.Add(1)
				sa.Counters.Fragmented.Add(1)
				for f.More() {
					fb := b.frags.get()
					frag, err := f.Next(fb[headroom:])
					if err != nil {
						e.Stats.InternalErrors.Add(1)
						return
					}
					t.queue(sa, fb[:headroom+len(frag)], nextHeader, b)
				}
				return
			}
		}
	}
	e.Stats.TooBig.Add(1)
	sa.Counters.TooBig.Add(1)
	t.sendTooBig(sa, inner, nextHeader, sa.TunnelMTU)
}

// sendTooBig answers from the tunnel interface's own address, or, on an
// unnumbered st0 (the usual route-based VPN), from the SA's local outer
// address when the family matches: without a source there is no ICMP, and
// without ICMP path MTU discovery black-holes the flow.
func (t *Tunnel) sendTooBig(sa *OutboundSA, inner []byte, nextHeader byte, mtu int) {
	v4 := nextHeader == header.IPProtoIPv4
	var from netip.Addr
	for _, a := range t.icmpFrom {
		if a.Is4() == v4 {
			from = a
			break
		}
	}
	if !from.IsValid() && sa.Local.Is4() == v4 {
		from = sa.Local
	}
	if !from.IsValid() {
		t.engine.Stats.InternalErrors.Add(1)
		return
	}
	buf := make([]byte, writeOffset+1280) // rare path: an allocation is fine
	var err error
	var n int
	if nextHeader == header.IPProtoIPv4 {
		h, _ := header.ParseIPv4(inner)
		var m header.IPv4
		m, err = header.BuildFragmentationNeeded(buf[writeOffset:], h, from, mtu)
		n = len(m)
	} else {
		h, _ := header.ParseIPv6(inner)
		var m header.IPv6
		m, err = header.BuildPacketTooBig(buf[writeOffset:], h, from, mtu)
		n = len(m)
	}
	if err != nil {
		return // the RFCs forbid an ICMP error for this packet
	}
	if _, err := t.dev.Write([][]byte{buf[:writeOffset+n]}, writeOffset); err != nil {
		t.engine.Stats.TunnelWriteErrors.Add(1)
	}
}

// queue takes the next sequence number for buf[headroom:] and queues it
// for sealing, with what the outer headers will need.
func (t *Tunnel) queue(sa *OutboundSA, buf []byte, nextHeader byte, b *outBatch) {
	e := t.engine
	seq, err := sa.esp.NextSequence()
	if err != nil {
		e.Stats.SequenceExhausted.Add(1)
		sa.Counters.SequenceExhausted.Add(1)
		return
	}
	if at := sa.mark.at.Load(); at != 0 && seq >= at && !e.reachMark(sa, seq) {
		return // seqmark.go
	}
	inner := buf[headroom:]
	// The item is written where it lies in the batch, field by field: a
	// composite literal is built on the stack and copied, which was a
	// third of queue's time (BenchmarkPipelineSeal1400).
	n := len(b.items)
	if n == cap(b.items) {
		b.items = append(b.items, sealItem{}) // fragments beyond 2 per packet
	}
	b.items = b.items[:n+1]
	it := &b.items[n]
	it.sa, it.buf, it.seq, it.nextHeader, it.innerLen = sa, buf, seq, nextHeader, len(inner)
	it.tc, _ = header.TrafficClass(inner)
	it.df, it.srcPort, it.gso, it.out, it.err = false, 0, nil, nil, nil
	switch sa.DF {
	case DFSet:
		it.df = true
	case DFCopy:
		if h, ok := header.ParseIPv4(inner); ok {
			it.df = h.DontFragment()
		}
	}
	if sa.Encap.UDP {
		it.srcPort = sa.Encap.SrcPort
		if sa.Encap.PerFlowSource {
			it.srcPort = header.FlowSourcePort(header.FlowHash(inner, uint64(sa.ESP.SPI)))
		}
		// UDP encapsulation from a fixed port with DF clear goes out
		// through the UDP socket of that port, in runs (UDP GSO); the
		// kernel writes the outer headers; with the xdp rings it goes
		// out through them.
		if !sa.Encap.PerFlowSource && sa.DF == DFClear && !e.udpViaSend {
			it.gso = b.segs.sender(e, segKey{v6: sa.Remote.Is6(), port: sa.Encap.SrcPort})
		}
	}
}

// errFraming marks an item whose outer headers did not fit (never expected:
// the buffers have headroom for the largest).
var errFraming = errors.New("dataplane: no room for the outer headers")

// frame writes the outer headers in front of an item's ESP packet pkt,
// sealed in place, or records err, why it was not sealed (ipID is the
// outer IPv4 identification): with the seal, the workers' part of the
// outbound path.
func (e *Engine) frame(it *sealItem, pkt []byte, err error, ipID uint16) {
	sa := it.sa
	if err != nil {
		it.err = err
		return
	}
	if it.gso != nil {
		it.out = pkt
		return
	}
	// pkt is a sub-slice of buf starting Headroom() bytes before the inner
	// packet; the outer headers go right in front of it.
	buf := it.buf
	start := cap(buf) - cap(pkt)
	udpLen := 0
	if sa.Encap.UDP {
		udpLen = 8
	}
	ipLen := 20
	if sa.Remote.Is6() {
		ipLen = 40
	}
	start -= udpLen + ipLen
	if start < 0 {
		it.err = errFraming
		return
	}
	total := ipLen + udpLen + len(pkt)
	frame := buf[start : start+total]
	proto := header.IPProtoESP
	if sa.Encap.UDP {
		proto = header.IPProtoUDP
		binary.BigEndian.PutUint16(frame[ipLen:], it.srcPort)
		binary.BigEndian.PutUint16(frame[ipLen+2:], sa.Encap.DstPort)
		binary.BigEndian.PutUint16(frame[ipLen+4:], uint16(udpLen+len(pkt)))
		binary.BigEndian.PutUint16(frame[ipLen+6:], 0)
	}
	outerTC := header.EncapsulateTrafficClass(it.tc)
	if sa.Remote.Is4() {
		sa.outer4.write(frame, outerTC, uint16(total), ipID, it.df)
	} else {
		_, ok := header.EncodeIPv6(frame, header.IPv6Fields{
			TrafficClass: outerTC, PayloadLength: uint16(total - ipLen), NextHeader: proto,
			HopLimit: outerTTL, Source: sa.Local, Destination: sa.Remote,
		})
		if !ok {
			it.err = errFraming
			return
		}
		if sa.Encap.UDP {
			// IPv6 requires a UDP checksum (RFC 8200 §8.1).
			u, _ := header.ParseUDP(frame[ipLen:])
			u.UpdateChecksum(sa.Local, sa.Remote)
		}
	}
	it.out = frame
}

// emit queues the sealed items of a batch for sending, in order, and
// counts them.
func (e *Engine) emit(items []sealItem, out *sendBatch) {
	var count tally
	defer count.flush(e, true)
	for i := range items {
		it := &items[i]
		switch {
		case it.err != nil:
			e.Stats.InternalErrors.Add(1)
			continue
		case it.gso != nil:
			out.gso = append(out.gso, gsoPacket{sa: it.sa, sender: it.gso, tos: header.EncapsulateTrafficClass(it.tc), pkt: it.out})
		case it.sa.Remote.Is4():
			out.v4 = append(out.v4, it.out)
		default:
			out.v6 = append(out.v6, it.out)
		}
		count.add(e, &it.sa.Counters, &it.sa.Limit, &it.sa.limit, it.innerLen, true)
	}
}

// flush sends and empties a batch.
func (e *Engine) flush(b *sendBatch) {
	if len(b.gso) > 0 {
		e.flushRuns(b)
	}
	if len(b.v4) > 0 {
		e.sendAll(e.send4, b.v4)
		b.v4 = b.v4[:0]
	}
	if len(b.v6) > 0 {
		e.sendAll(e.send6, b.v6)
		b.v6 = b.v6[:0]
	}
}

// flushRuns sends the queued UDP ESP packets as runs: consecutive packets
// of one SA with one DS byte and one size, the last of a run possibly
// shorter (what UDP GSO can carry), each run in one system call.
func (e *Engine) flushRuns(b *sendBatch) {
	if b.gsoBuf == nil {
		b.gsoBuf = make([]byte, maxRunBytes)
	}
	pkts := b.gso
	for i := 0; i < len(pkts); {
		first := pkts[i]
		size := len(first.pkt)
		total := size
		j := i + 1
		for j < len(pkts) && j-i < netio.MaxSegments {
			p := pkts[j]
			if p.sa != first.sa || p.tos != first.tos || len(p.pkt) > size || total+len(p.pkt) > maxRunBytes {
				break
			}
			total += len(p.pkt)
			j++
			if len(p.pkt) < size {
				break // a shorter packet can only end a run
			}
		}
		if err := b.sendRun(pkts[i:j], size); err != nil {
			e.Stats.SendErrors.Add(uint64(j - i))
			e.log.Debug("send", "packets", j-i, "err", err)
		}
		i = j
	}
	// Send the runs sendRun queued (gsorun.go).
	e.sendQueuedRuns(b)
	clear(b.gso) // drop the references to this batch's buffers
	b.gso = b.gso[:0]
}

// sendAll sends a batch. The sender tries every packet even when one
// fails, so what is left to do is counting the failures.
func (e *Engine) sendAll(s netio.Sender, pkts [][]byte) {
	if s == nil {
		e.Stats.SendErrors.Add(uint64(len(pkts)))
		return
	}
	if n, err := s.WriteBatch(pkts); err != nil && n < len(pkts) {
		e.Stats.SendErrors.Add(uint64(len(pkts) - n))
		e.log.Debug("send", "failed", len(pkts)-n, "err", err)
	}
}

// fragmentPool lends buffers for fragments during one batch.
type fragmentPool struct {
	bufs [][]byte
	used int
}

func (p *fragmentPool) get() []byte {
	if p.used == len(p.bufs) {
		p.bufs = append(p.bufs, make([]byte, bufSize))
	}
	b := p.bufs[p.used]
	p.used++
	return b
}

func (p *fragmentPool) reset() { p.used = 0 }

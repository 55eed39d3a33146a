package dataplane

import (
	"encoding/binary"
	"errors"
	"net/netip"

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

func (e *Engine) inboundLoop(r netio.Receiver, udpPort uint16) {
	storage := make([][]byte, maxBatch)
	msgs := make([]netio.Message, maxBatch)
	for i := range msgs {
		storage[i] = make([]byte, bufSize)
		msgs[i].Buf = storage[i][recvHeadroom:]
	}
	var writes tunnelWrites
	var extra fragmentPool // output buffers for the second and later datagrams of a GRO run
	failures := 0
	for {
		n, err := r.ReadBatch(msgs)
		for i := 0; i < n; i++ {
			m := &msgs[i]
			if m.SegmentSize <= 0 || m.N <= m.SegmentSize {
				if t, frame := e.decapsulate(m, m.Buf[:m.N], storage[i], udpPort); t != nil {
					writes.add(t, frame)
				}
				continue
			}
			// A GRO run: the datagrams lie back to back. The first one's
			// inner packet moves down in its own buffer, in front of the
			// second datagram; the others move to spare buffers.
			for off := 0; off < m.N; off += m.SegmentSize {
				out := storage[i]
				if off > 0 {
					out = extra.get()
				}
				if t, frame := e.decapsulate(m, m.Buf[off:min(off+m.SegmentSize, m.N)], out, udpPort); t != nil {
					writes.add(t, frame)
				}
			}
		}
		writes.flush(e)
		extra.reset()
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

// decapsulate handles one received datagram p of message m (Src, TOS); it
// returns the tunnel and the frame (the inner packet moved to writeOffset
// of out) to write to it, or a nil tunnel when the datagram was consumed or
// dropped (and counted).
func (e *Engine) decapsulate(m *netio.Message, p, out []byte, udpPort uint16) (*Tunnel, []byte) {
	if udpPort != 0 {
		switch {
		case header.IsNATKeepalive(p):
			e.Stats.NATKeepalives.Add(1)
			return nil, nil
		case header.IsNonESPMarker(p):
			if e.ike != nil && udpPort == 4500 {
				e.ike(p[4:], m.Src, m.Dst)
			} else {
				e.Stats.IKEOnESPPort.Add(1)
			}
			return nil, nil
		}
	}
	if len(p) < 8 {
		e.Stats.BadHeaders.Add(1)
		return nil, nil
	}
	sa := e.inbound.get(binary.BigEndian.Uint32(p))
	if sa == nil {
		e.Stats.NoSA.Add(1)
		return nil, nil
	}
	// The seed: with UDP encapsulation configured, ESP without the UDP
	// header, or to another port, is dropped. NAT traversal's 4500 is
	// always acceptable for a UDP SA.
	if sa.Encap.UDP && (udpPort == 0 || udpPort != sa.Encap.DstPort && udpPort != 4500) ||
		!sa.Encap.UDP && udpPort != 0 {
		e.Stats.WrongEncapsulation.Add(1)
		sa.Counters.WrongEncapsulation.Add(1)
		return nil, nil
	}
	inner, nextHeader, err := sa.esp.Open(p)
	if err != nil {
		e.countOpenError(sa, err)
		return nil, nil
	}
	var src, dst netip.Addr
	switch nextHeader {
	case header.IPProtoIPv4:
		h, ok := header.ParseIPv4(inner)
		if !ok {
			e.badHeader(sa)
			return nil, nil
		}
		inner = inner[:len(h)]
		src, dst = h.Source(), h.Destination()
	case header.IPProtoIPv6:
		h, ok := header.ParseIPv6(inner)
		if !ok {
			e.badHeader(sa)
			return nil, nil
		}
		inner = inner[:len(h)]
		src, dst = h.Source(), h.Destination()
	default:
		e.badHeader(sa)
		return nil, nil
	}
	if !selectorsAllow(sa.Selectors, src, dst) {
		e.Stats.SelectorMismatch.Add(1)
		sa.Counters.SelectorMismatch.Add(1)
		return nil, nil
	}
	innerTC, _ := header.TrafficClass(inner)
	tc, ok := header.DecapsulateTrafficClass(m.TOS, innerTC, sa.CopyOuterDSCP)
	if !ok {
		e.Stats.ECNDrops.Add(1)
		sa.Counters.ECNDrops.Add(1)
		return nil, nil
	}
	if tc != innerTC {
		header.SetTrafficClass(inner, tc)
	}
	e.clampTCPMSS(inner)
	sa.Counters.DecryptedPackets.Add(1)
	if n := sa.Counters.DecryptedBytes.Add(uint64(len(inner))); sa.Limit.Soft|sa.Limit.Hard != 0 {
		sa.Limit.check(&sa.limit, n)
	}
	e.Stats.DecryptedPackets.Add(1)
	e.Stats.DecryptedBytes.Add(uint64(len(inner)))
	n := copy(out[writeOffset:], inner)
	return sa.tunnel, out[:writeOffset+n]
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

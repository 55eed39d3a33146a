package dataplane

import (
	"reflect"
	"sync/atomic"
)

// Counters are the statistics of one SA, or of the whole engine. Every
// field is an atomic counter: the packet path never takes a lock to count.
// The first group is what "show security ipsec statistics" prints; the
// second names every other reason a packet is dropped.
type Counters struct {
	EncryptedBytes   atomic.Uint64
	EncryptedPackets atomic.Uint64
	DecryptedBytes   atomic.Uint64
	DecryptedPackets atomic.Uint64
	AuthFailures     atomic.Uint64 // ESP authentication failures
	ReplayErrors     atomic.Uint64
	DecryptFailures  atomic.Uint64 // ESP decryption failures
	BadHeaders       atomic.Uint64
	BadTrailers      atomic.Uint64

	NoSA               atomic.Uint64 // inbound SPI unknown
	NoOutboundSA       atomic.Uint64 // nothing to send a tunnel packet with
	SelectorMismatch   atomic.Uint64 // inner packet outside the SA's traffic selectors
	WrongEncapsulation atomic.Uint64 // raw ESP where UDP was configured, or the wrong port
	SequenceExhausted  atomic.Uint64
	Fragmented         atomic.Uint64 // inner IPv4 packets fragmented for the tunnel MTU
	TooBig             atomic.Uint64 // dropped for the tunnel MTU, ICMP sent back
	ECNDrops           atomic.Uint64 // RFC 6040: outer CE on a not-ECT inner packet
	DummyPackets       atomic.Uint64 // next header 59
	NATKeepalives      atomic.Uint64
	IKEOnESPPort       atomic.Uint64 // non-ESP-marker messages with no IKE daemon to take them
	SendErrors         atomic.Uint64
	TunnelWriteErrors  atomic.Uint64
	InternalErrors     atomic.Uint64
	TCPMSSClamped      atomic.Uint64 // SYNs whose MSS was lowered (tcp-mss ipsec-vpn), both directions
	// SequenceHeld: not sent, its sequence number above the high-water
	// mark last written to etcd (seqmark.go).
	SequenceHeld atomic.Uint64
}

// Stats is a snapshot of Counters, for show commands, status files and
// metrics.
type Stats struct {
	EncryptedBytes     uint64 `json:"encrypted-bytes"`
	EncryptedPackets   uint64 `json:"encrypted-packets"`
	DecryptedBytes     uint64 `json:"decrypted-bytes"`
	DecryptedPackets   uint64 `json:"decrypted-packets"`
	AuthFailures       uint64 `json:"esp-authentication-failures"`
	ReplayErrors       uint64 `json:"replay-errors"`
	DecryptFailures    uint64 `json:"esp-decryption-failures"`
	BadHeaders         uint64 `json:"bad-headers"`
	BadTrailers        uint64 `json:"bad-trailers"`
	NoSA               uint64 `json:"no-sa"`
	NoOutboundSA       uint64 `json:"no-outbound-sa"`
	SelectorMismatch   uint64 `json:"selector-mismatch"`
	WrongEncapsulation uint64 `json:"wrong-encapsulation"`
	SequenceExhausted  uint64 `json:"sequence-exhausted"`
	Fragmented         uint64 `json:"fragmented"`
	TooBig             uint64 `json:"too-big"`
	ECNDrops           uint64 `json:"ecn-drops"`
	DummyPackets       uint64 `json:"dummy-packets"`
	NATKeepalives      uint64 `json:"nat-keepalives"`
	IKEOnESPPort       uint64 `json:"ike-on-esp-port"`
	SendErrors         uint64 `json:"send-errors"`
	TunnelWriteErrors  uint64 `json:"tunnel-write-errors"`
	InternalErrors     uint64 `json:"internal-errors"`
	TCPMSSClamped      uint64 `json:"tcp-mss-clamped"`
	SequenceHeld       uint64 `json:"sequence-held"`
}

// Reset zeroes every counter ("clear security ipsec statistics"). A packet
// counted at the same moment may land before or after the reset.
func (c *Counters) Reset() {
	v := reflect.ValueOf(c).Elem()
	for i := range v.NumField() {
		v.Field(i).Addr().Interface().(*atomic.Uint64).Store(0)
	}
}

// Snapshot reads every counter.
func (c *Counters) Snapshot() Stats {
	return Stats{
		EncryptedBytes: c.EncryptedBytes.Load(), EncryptedPackets: c.EncryptedPackets.Load(),
		DecryptedBytes: c.DecryptedBytes.Load(), DecryptedPackets: c.DecryptedPackets.Load(),
		AuthFailures: c.AuthFailures.Load(), ReplayErrors: c.ReplayErrors.Load(),
		DecryptFailures: c.DecryptFailures.Load(), BadHeaders: c.BadHeaders.Load(),
		BadTrailers: c.BadTrailers.Load(), NoSA: c.NoSA.Load(), NoOutboundSA: c.NoOutboundSA.Load(),
		SelectorMismatch: c.SelectorMismatch.Load(), WrongEncapsulation: c.WrongEncapsulation.Load(),
		SequenceExhausted: c.SequenceExhausted.Load(), Fragmented: c.Fragmented.Load(),
		TooBig: c.TooBig.Load(), ECNDrops: c.ECNDrops.Load(), DummyPackets: c.DummyPackets.Load(),
		NATKeepalives: c.NATKeepalives.Load(), IKEOnESPPort: c.IKEOnESPPort.Load(),
		SendErrors: c.SendErrors.Load(), TunnelWriteErrors: c.TunnelWriteErrors.Load(),
		InternalErrors: c.InternalErrors.Load(), TCPMSSClamped: c.TCPMSSClamped.Load(),
		SequenceHeld: c.SequenceHeld.Load(),
	}
}

// tally adds up the packets a batch delivered (or sealed) for one SA at a
// time, so that the shared counters, which every core's batches touch,
// take four atomic adds per run of an SA's packets instead of four per
// packet. A batch is one SA's packets for the most part.
type tally struct {
	counters *Counters
	limit    *ByteLimit
	state    *limitState
	packets  uint64
	bytes    uint64
}

// add counts one packet of n octets for an SA; on a change of SA the
// previous one's count goes out first.
func (t *tally) add(e *Engine, c *Counters, l *ByteLimit, st *limitState, n int, sealed bool) {
	if t.counters != c {
		t.flush(e, sealed)
		t.counters, t.limit, t.state = c, l, st
	}
	t.packets++
	t.bytes += uint64(n)
}

// flush adds what was counted to the SA's and the engine's counters.
func (t *tally) flush(e *Engine, sealed bool) {
	if t.packets == 0 {
		return
	}
	c := t.counters
	if sealed {
		c.EncryptedPackets.Add(t.packets)
		if n := c.EncryptedBytes.Add(t.bytes); t.limit.Soft|t.limit.Hard != 0 {
			t.limit.check(t.state, n)
		}
		e.Stats.EncryptedPackets.Add(t.packets)
		e.Stats.EncryptedBytes.Add(t.bytes)
	} else {
		c.DecryptedPackets.Add(t.packets)
		if n := c.DecryptedBytes.Add(t.bytes); t.limit.Soft|t.limit.Hard != 0 {
			t.limit.check(t.state, n)
		}
		e.Stats.DecryptedPackets.Add(t.packets)
		e.Stats.DecryptedBytes.Add(t.bytes)
	}
	*t = tally{}
}

package demo

import (
	"errors"
	"net/netip"
	"sync/atomic"

	"ipsecgw/daemon"
	"ipsecgw/netio"
)

// nodeHost is a cluster node's machine: a daemon.MemHost with a power
// switch. Killing it (kill) is what a SIGKILL of the daemon looks like to
// everyone else, at one instant: nothing it sends leaves, nothing sent to
// it is read, its announcements stop, and (etcdLink) its etcd connections
// close. Nothing is released, revoked or deleted on the way out: the
// lease runs out on the etcd server and the peer hears nothing. What
// remains of the daemon inside the process is stopped at the end.
//
// Its LAN interface (lanIf) is on the demo's LAN segment, not on the
// outer network: announcing an address there makes this node the LAN
// host's gateway.
type nodeHost struct {
	*daemon.MemHost
	node *clusterNode
	seen *announcements
	dead atomic.Bool
}

// errDead answers what a killed node tries to do.
var errDead = errors.New("the node is dead")

func (h *nodeHost) kill() { h.dead.Store(true) }

// Announce is the daemon's announcement of a virtual IP it took over
// (gratuitous ARP on a real segment).
func (h *nodeHost) Announce(ifname string, a netip.Addr) error {
	if h.dead.Load() {
		return errDead
	}
	if ifname != lanIf {
		if err := h.MemHost.Announce(ifname, a); err != nil {
			return err
		}
	}
	h.seen.set(h.node, ifname, a)
	return nil
}

func (h *nodeHost) NewRawSender(family int) (netio.Sender, error) {
	s, err := h.MemHost.NewRawSender(family)
	if err != nil {
		return nil, err
	}
	return &deadSender{Sender: s, dead: &h.dead}, nil
}

func (h *nodeHost) ListenESP(family int) (netio.Receiver, error) {
	r, err := h.MemHost.ListenESP(family)
	if err != nil {
		return nil, err
	}
	return &deadReceiver{r: r, dead: &h.dead}, nil
}

func (h *nodeHost) ListenUDP(family int, port uint16) (netio.Receiver, error) {
	r, err := h.MemHost.ListenUDP(family, port)
	if err != nil {
		return nil, err
	}
	return &deadReceiver{r: r, dead: &h.dead}, nil
}

// deadSender sends nothing once its node is dead.
type deadSender struct {
	netio.Sender
	dead *atomic.Bool
}

func (s *deadSender) WriteBatch(pkts [][]byte) (int, error) {
	if s.dead.Load() {
		return len(pkts), nil // gone with the machine
	}
	return s.Sender.WriteBatch(pkts)
}

// deadReceiver reads nothing once its node is dead, and its sending side
// (netio.SegmentSender, IKE's and ESP-in-UDP's way out) sends nothing.
type deadReceiver struct {
	r    netio.Receiver
	dead *atomic.Bool
}

func (r *deadReceiver) ReadBatch(msgs []netio.Message) (int, error) {
	for {
		n, err := r.r.ReadBatch(msgs)
		if err != nil || !r.dead.Load() {
			return n, err
		}
	}
}

func (r *deadReceiver) Close() error { return r.r.Close() }

func (r *deadReceiver) SendSegments(dst netip.AddrPort, src netip.Addr, tos uint8, buf []byte, segSize int) error {
	if r.dead.Load() {
		return nil
	}
	s, ok := r.r.(netio.SegmentSender)
	if !ok {
		return errors.New("demo: the receiver cannot send")
	}
	return s.SendSegments(dst, src, tos, buf, segSize)
}

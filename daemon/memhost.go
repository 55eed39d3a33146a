package daemon

import (
	"fmt"
	"net/netip"
	"sync"

	"ipsecgw/netio"
)

// MemHost is a Host that lives in memory: its outer sockets are on a
// netio.MemNetwork and its tunnel interfaces are netio.MemTUNs. Two
// gateways can run in one process, unprivileged (tests, and the demo).
type MemHost struct {
	net   *netio.MemHost
	links map[string]bool // interfaces that "exist"

	mu   sync.Mutex // guards tuns
	tuns map[string]*netio.MemTUN
}

// NewMemHost returns a host owning addrs on network, with the named
// interfaces present.
func NewMemHost(network *netio.MemNetwork, links []string, addrs ...netip.Addr) (*MemHost, error) {
	h, err := network.AddHost(addrs...)
	if err != nil {
		return nil, err
	}
	m := &MemHost{net: h, links: map[string]bool{}, tuns: map[string]*netio.MemTUN{}}
	for _, l := range links {
		m.links[l] = true
	}
	return m, nil
}

// TUN returns the tunnel interface the daemon created, or nil.
func (m *MemHost) TUN(name string) *netio.MemTUN {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tuns[name]
}

func (m *MemHost) CreateTUN(name string, mtu int) (netio.TUN, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tuns[name] != nil {
		return nil, fmt.Errorf("interface %s exists", name)
	}
	t := netio.NewMemTUN(name, mtu)
	m.tuns[name] = t
	return &memHostTUN{MemTUN: t, host: m}, nil
}

// memHostTUN is a MemTUN whose Close removes the interface from its host,
// as closing a real TUN does, so a commit can create it again.
type memHostTUN struct {
	*netio.MemTUN
	host *MemHost
}

func (t *memHostTUN) Close() error {
	t.host.mu.Lock()
	if t.host.tuns[t.Name()] == t.MemTUN {
		delete(t.host.tuns, t.Name())
	}
	t.host.mu.Unlock()
	return t.MemTUN.Close()
}

func (m *MemHost) LinkExists(name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.links[name] || m.tuns[name] != nil
}

func nothing() error { return nil }

// Addresses and routes are the host kernel's business; in memory the
// network delivers by the outer addresses alone.
func (m *MemHost) AddAddress(string, netip.Prefix) (func() error, error) { return nothing, nil }
func (m *MemHost) SetUp(string) error                                    { return nil }
func (m *MemHost) AcceptLocal(string) error                              { return nil }
func (m *MemHost) DisableIPv6(string) error                              { return nil }
func (m *MemHost) AddRoute(netip.Prefix, netip.Addr, string) (func() error, error) {
	return nothing, nil
}

func (m *MemHost) ListenESP(family int) (netio.Receiver, error) { return m.net.ListenESP(family) }
func (m *MemHost) ListenUDP(family int, port uint16) (netio.Receiver, error) {
	return m.net.ListenUDP(family, port)
}
func (m *MemHost) NewRawSender(family int) (netio.Sender, error) { return m.net.NewRawSender(family) }

package daemon

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"ipsecgw/netio"
)

// Host is everything the daemon changes on the machine it runs on. The
// Linux implementation uses netlink, TUN devices and raw sockets; tests and
// the demo can supply another.
type Host interface {
	CreateTUN(name string, mtu int) (netio.TUN, error)
	// LinkExists reports whether a network interface exists.
	LinkExists(name string) bool
	// AddAddress adds an address to an interface. undo removes it again,
	// unless it was already there (then undo does nothing).
	AddAddress(ifname string, p netip.Prefix) (undo func() error, err error)
	SetUp(ifname string) error
	// AcceptLocal lets the interface receive IPv4 packets whose source is
	// an address of this host (the ICMP errors the data plane sends).
	AcceptLocal(ifname string) error
	// DisableIPv6 turns IPv6 off on an interface (an st0 unit without
	// family inet6), so the kernel sends nothing of it into the tunnel.
	DisableIPv6(ifname string) error
	// AddRoute adds a route to dst through gateway via (if valid) and/or
	// out of dev (if not empty); with neither, a discard route (the
	// kernel's blackhole: packets to dst are dropped, not sent elsewhere).
	AddRoute(dst netip.Prefix, via netip.Addr, dev string) (undo func() error, err error)
	ListenESP(family int) (netio.Receiver, error)
	ListenUDP(family int, port uint16) (netio.Receiver, error)
	NewRawSender(family int) (netio.Sender, error)
}

// LinuxHost is the real Linux host.
type LinuxHost struct{}

func (LinuxHost) CreateTUN(name string, mtu int) (netio.TUN, error) {
	return netio.CreateTUN(name, mtu)
}

func (LinuxHost) LinkExists(name string) bool {
	_, err := netlink.LinkByName(name)
	return err == nil
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func (LinuxHost) AddAddress(ifname string, p netip.Prefix) (func() error, error) {
	link, err := netlink.LinkByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("interface %s: %w", ifname, err)
	}
	have, err := netlink.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("interface %s: %w", ifname, err)
	}
	for _, a := range have {
		if ap, ok := netip.AddrFromSlice(a.IP); ok && ap.Unmap() == p.Addr() {
			return func() error { return nil }, nil
		}
	}
	addr := &netlink.Addr{IPNet: ipNet(p)}
	if p.Addr().Is6() {
		// Usable at once: duplicate address detection would hold the
		// address back for a second or more.
		addr.Flags = unix.IFA_F_NODAD
	}
	if err := netlink.AddrAdd(link, addr); err != nil {
		return nil, fmt.Errorf("add %s to %s: %w", p, ifname, err)
	}
	return func() error {
		if err := netlink.AddrDel(link, addr); err != nil && !errors.Is(err, unix.ENODEV) && !errors.Is(err, unix.EADDRNOTAVAIL) {
			return fmt.Errorf("remove %s from %s: %w", p, ifname, err)
		}
		return nil
	}, nil
}

func (LinuxHost) SetUp(ifname string) error {
	link, err := netlink.LinkByName(ifname)
	if err != nil {
		return fmt.Errorf("interface %s: %w", ifname, err)
	}
	return netlink.LinkSetUp(link)
}

func (LinuxHost) AcceptLocal(ifname string) error {
	return os.WriteFile(filepath.Join("/proc/sys/net/ipv4/conf", ifname, "accept_local"), []byte("1"), 0o644)
}

func (LinuxHost) DisableIPv6(ifname string) error {
	err := os.WriteFile(filepath.Join("/proc/sys/net/ipv6/conf", ifname, "disable_ipv6"), []byte("1"), 0o644)
	if errors.Is(err, os.ErrNotExist) {
		return nil // no IPv6 on this host at all
	}
	return err
}

func (LinuxHost) AddRoute(dst netip.Prefix, via netip.Addr, dev string) (func() error, error) {
	r := &netlink.Route{Dst: ipNet(dst)}
	if dev != "" {
		link, err := netlink.LinkByName(dev)
		if err != nil {
			return nil, fmt.Errorf("route %s: interface %s: %w", dst, dev, err)
		}
		r.LinkIndex = link.Attrs().Index
	}
	if via.IsValid() {
		r.Gw = via.AsSlice()
	}
	if dev == "" && !via.IsValid() {
		r.Type = unix.RTN_BLACKHOLE
	}
	if err := netlink.RouteReplace(r); err != nil {
		return nil, fmt.Errorf("route %s: %w", dst, err)
	}
	return func() error {
		if err := netlink.RouteDel(r); err != nil && !errors.Is(err, unix.ESRCH) && !errors.Is(err, unix.ENODEV) {
			return fmt.Errorf("remove route %s: %w", dst, err)
		}
		return nil
	}, nil
}

func (LinuxHost) ListenESP(family int) (netio.Receiver, error) { return netio.ListenESP(family) }

func (LinuxHost) ListenUDP(family int, port uint16) (netio.Receiver, error) {
	return netio.ListenUDP(family, port)
}

func (LinuxHost) NewRawSender(family int) (netio.Sender, error) { return netio.NewRawSender(family) }

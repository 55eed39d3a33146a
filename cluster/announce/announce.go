// Package announce tells a link that an address has moved to this host: a
// gratuitous ARP for IPv4 (RFC 5227 §3: an ARP request for the address
// itself, sender and target both the address) and an unsolicited
// neighbour advertisement for IPv6 (RFC 4861 §7.2.6: to all nodes, with
// the Override flag and our link-layer address). The new owner of a
// virtual IP sends them so neighbours stop sending to the old owner's MAC.
package announce

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/sys/unix"
)

// Address announces a on interface ifname; the address must already be on
// the interface (for IPv6, the advertisement is sent from it).
func Address(ifname string, a netip.Addr) error {
	ifc, err := net.InterfaceByName(ifname)
	if err != nil {
		return fmt.Errorf("announce %s: %w", a, err)
	}
	if len(ifc.HardwareAddr) != 6 {
		return fmt.Errorf("announce %s: %s has no Ethernet address", a, ifname)
	}
	if a.Is4() || a.Is4In6() {
		return garp(ifc, a.Unmap())
	}
	return unsolicitedNA(ifc, a)
}

// ARP over Ethernet (RFC 826): the frame after the 14-byte Ethernet header.
const (
	ethHeaderLen = 14
	arpLen       = 28
	arpRequest   = 1
)

// GratuitousARP returns the Ethernet frame of a gratuitous ARP request for
// a from mac, broadcast.
func GratuitousARP(mac net.HardwareAddr, a netip.Addr) []byte {
	f := make([]byte, ethHeaderLen+arpLen)
	copy(f[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(f[6:12], mac)
	binary.BigEndian.PutUint16(f[12:14], unix.ETH_P_ARP)
	p := f[ethHeaderLen:]
	binary.BigEndian.PutUint16(p[0:2], 1) // hardware: Ethernet
	binary.BigEndian.PutUint16(p[2:4], unix.ETH_P_IP)
	p[4], p[5] = 6, 4
	binary.BigEndian.PutUint16(p[6:8], arpRequest)
	ip := a.As4()
	copy(p[8:14], mac)    // sender hardware address
	copy(p[14:18], ip[:]) // sender protocol address
	// target hardware address stays zero (RFC 5227 §2.1.1)
	copy(p[24:28], ip[:]) // target protocol address: the address itself
	return f
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func garp(ifc *net.Interface, a netip.Addr) error {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ARP)))
	if err != nil {
		return fmt.Errorf("announce %s: packet socket: %w", a, err)
	}
	defer unix.Close(fd)
	to := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ARP), Ifindex: ifc.Index, Halen: 6}
	copy(to.Addr[:], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	if err := unix.Sendto(fd, GratuitousARP(ifc.HardwareAddr, a), 0, to); err != nil {
		return fmt.Errorf("announce %s on %s: %w", a, ifc.Name, err)
	}
	return nil
}

// NeighborAdvertisement returns the ICMPv6 message of an unsolicited
// neighbour advertisement for target from mac, checksum left zero (the
// kernel fills it in on an ICMPv6 socket).
func NeighborAdvertisement(mac net.HardwareAddr, target netip.Addr) []byte {
	m := make([]byte, 32)
	m[0] = 136                                // Neighbor Advertisement
	binary.BigEndian.PutUint32(m[4:8], 1<<29) // O: override
	t := target.As16()
	copy(m[8:24], t[:])
	m[24], m[25] = 2, 1 // option: target link-layer address, 8 bytes
	copy(m[26:32], mac)
	return m
}

func unsolicitedNA(ifc *net.Interface, a netip.Addr) error {
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMPV6)
	if err != nil {
		return fmt.Errorf("announce %s: ICMPv6 socket: %w", a, err)
	}
	defer unix.Close(fd)
	// RFC 4861 §7.1.2: a receiver drops an NA whose hop limit is not 255.
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_HOPS, 255); err != nil {
		return fmt.Errorf("announce %s: %w", a, err)
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_IF, ifc.Index); err != nil {
		return fmt.Errorf("announce %s: %w", a, err)
	}
	src := &unix.SockaddrInet6{Addr: a.As16()}
	if a.IsLinkLocalUnicast() {
		src.ZoneId = uint32(ifc.Index)
	}
	if err := unix.Bind(fd, src); err != nil {
		return fmt.Errorf("announce %s: bind: %w", a, err)
	}
	to := &unix.SockaddrInet6{Addr: netip.MustParseAddr("ff02::1").As16(), ZoneId: uint32(ifc.Index)}
	if err := unix.Sendto(fd, NeighborAdvertisement(ifc.HardwareAddr, a), 0, to); err != nil {
		return fmt.Errorf("announce %s on %s: %w", a, ifc.Name, err)
	}
	return nil
}

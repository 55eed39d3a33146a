// Package netio is the I/O edge of the ESP data plane: the tunnel
// interfaces (st0.N) that inner packets enter and leave by, and the
// sockets that outer packets (raw ESP, UDP 500/4500 or a configured
// encapsulation port) arrive and leave by. Each edge is a small interface
// with a Linux implementation and an in-memory fake, so that two gateways
// can run in one test process:
//
//	edge              interface   Linux                         fake
//	tunnel interface  TUN         CreateTUN (own vnet TUN;      MemTUN
//	                              IPSECGW_TUN=wireguard: wireguard-go tun)
//	outer receive     Receiver    ListenESP, ListenUDP          MemHost.ListenESP, .ListenUDP
//	outer send        Sender      NewRawSender                  MemHost.NewRawSender
//	raw ESP rings     Receiver    OpenXDP, XDP.Attach           -
//	                  Sender      XDP.Sender (raw socket behind) -
//	packet rings      Receiver    OpenPacketRing, .Attach,      -
//	                              PacketRing.ListenESP, .ListenUDP
//	                  Sender      PacketRing.Sender             -
//
// Kernel and a MemHost both implement Network, the factory for the
// outer sockets, so the data plane takes one and never knows which.
//
// Everything moves in batches: a TUN Read may return many packets (the
// Linux TUN splits a TSO/USO super-packet into MTU-sized ones), a
// ReadBatch is one recvmmsg and a WriteBatch one sendmmsg. Buffers belong
// to the caller and are reused; nothing here allocates per packet once
// warm.
//
// # Kernel behaviour relied on (Linux)
//
// The Linux side depends on the following. Root-only tests in throwaway
// network namespaces (socket_linux_test.go, tun_linux_test.go) check the
// raw ESP delivery and the ICMP errors it suppresses, the header
// stripping (IPv4 options included), TOS and traffic class kept end to
// end, EMSGSIZE, the IPv4 checksum fill-in, and the TUN's headroom and
// super-packet split; the rest is read from the kernel (net/ipv4/raw.c,
// net/ipv6/raw.c).
//
//   - A raw socket for IP protocol 50 receives every ESP packet addressed
//     to the host, although the kernel has no ESP of its own: local
//     delivery hands a packet to the matching raw sockets before looking
//     for a protocol handler (ip_protocol_deliver_rcu). With no handler,
//     the kernel answers ICMP protocol unreachable (IPv6: parameter
//     problem, unrecognised next header) only when no raw socket took the
//     packet; while ListenESP's socket is open it sends none.
//   - An IPv4 raw socket delivers the IP header in front of the payload
//     (ListenESP strips it, reading source, destination and TOS from it);
//     an IPv6 raw socket delivers only the payload, so ListenESP(6) reads
//     the destination and traffic class from IPV6_PKTINFO and IPV6_TCLASS
//     control messages and the source from the socket address. Both
//     deliver after reassembly.
//   - A socket of protocol IPPROTO_RAW sends packets whose header the
//     caller wrote (IP_HDRINCL; IPV6_HDRINCL since Linux 4.5). IPv4: the
//     kernel always fills in Total Length and the header checksum, fills
//     in Identification and Source Address when zero, and sends TOS, DF
//     and TTL as written. IPv6: the header goes out exactly as written.
//     Neither fragments: a packet longer than the route's MTU fails with
//     EMSGSIZE. Neither computes a UDP checksum: the data plane writes it
//     (zero is allowed over IPv4 only).
//   - The Linux TUN opened with IFF_VNET_HDR (as wireguard-go's is)
//     prefixes every packet with a 10-octet virtio-net header; the write
//     path puts it in the caller's headroom, hence TUNHeadroom. Reading,
//     the header's hdr_len is not the headers' length on the forwarding
//     path (it is the first segment's linear part), so the split takes
//     the transport header's own. Writing, the TUN takes a TSO or USO
//     super-packet as an iovec list (the first packet, then the other
//     payloads) with NEEDS_CSUM and the pseudo-header's sum in the
//     checksum field, and trusts that checksum from there on: hence the
//     coalescer verifies every segment first. A write with a zero header
//     is checked by the kernel as any received packet.
//
// # AF_XDP on veth (Linux 6.18, checked by xdp_linux_test.go and test/e2e)
//
//   - The XDP program attaches in native (driver) mode to a veth whose peer
//     has no XDP program: frames the peer transmits, from its stack or from
//     an AF_XDP socket, reach the program and are redirected into the
//     AF_XDP socket of queue 0. A program on the peer is needed only to
//     XDP_TX or redirect frames into a veth, which the data plane never
//     does. Where native mode is refused, generic (SKB) mode is used.
//   - A veth is created with as many receive queues as CPUs but uses one:
//     binding an AF_XDP socket to a queue past the active ones fails with
//     EINVAL, so OpenXDP's Attach binds queues until the first failure.
//   - The sockets run in copy mode (veth has no zero-copy). One sendto
//     sends at most 32 frames unless XDP_MAX_TX_SKB_BUDGET raises it
//     (Linux 6.17+); the kernel builds an skb per frame and delivers it to
//     the peer in the same call.
//   - Frames redirected to an AF_XDP socket, and frames it transmits, pass
//     no packet taps: tcpdump or tshark on that interface sees none of
//     them. Hence data-plane xdp is asked for, not the default.
//   - An XDP program on a veth turns off its peer's segmentation offloads
//     (GSO/TSO): only interfaces that carry raw ESP get it, so UDP
//     encapsulation keeps its 64 KB runs elsewhere.
//   - Interface indexes in the attach call and the socket's bind are those
//     of the calling thread's network namespace.
//
// # AF_PACKET rings (Linux 6.18, checked by packetring_linux_test.go)
//
//   - TPACKET_V3 transmit rings are accepted (Linux 4.11+) when the
//     request has no retire timeout, private area or feature word; a
//     frame's data starts TPACKET3_HDRLEN - sizeof(sockaddr_ll) = 48
//     octets in, tp_next_offset must be 0. PACKET_LOSS must be set before
//     the rings (EBUSY after).
//   - A V3 receive block is handed over when full or when its retire
//     timer fires; poll wakes the reader only then (the block being
//     filled is the kernel's: its packet count is no promise to read
//     by). A V2 receive frame is handed over, and the reader woken, as
//     soon as the packet is in it. The median round trip through a
//     tunnel in packet-ring mode was 2.4-2.6 ms on V3 and 0.7-0.8 ms on
//     V2 (0.56 ms on raw sockets), hence V2 by default.
//   - One socket has one TPACKET version for both rings (PACKET_VERSION
//     is refused with EBUSY once a ring is set up).
//   - A V2 frame's Ethernet header is put 66 octets in
//     (TPACKET_ALIGN(TPACKET2_HDRLEN) plus 16, less 14); a packet longer
//     than the frame is cut
//     (tp_snaplen below tp_len), so the frames are sized from the MTU.
//   - A packet socket is a tap: what its filter takes still goes up the
//     stack. IP_RECVFRAGSIZE / IPV6_RECVFRAGSIZE control messages come
//     only with packets the kernel reassembled, which is how the raw ESP
//     and UDP sockets beside the rings tell those (not in the rings,
//     whose filter refuses fragments) from the ones the rings took.
//     IPV6_RECVHOPOPTS, IPV6_RECVRTHDR and IPV6_RECVDSTOPTS have them
//     report each extension header in front of the payload, in order,
//     one control message each, which is how they tell a chain longer
//     than the rings walk.
//   - The kernel passes over a routing header with no segments left
//     whatever its type, and a destination options header of padding.
//   - An XDP program may move the frame's start on (bpf_xdp_adjust_head)
//     before redirecting it to an AF_XDP socket, which then gets the
//     frame from the new start.
//   - A classic BPF load past the end of the frame ends the filter with
//     0 (refused): the ESP-in-UDP check of the payload's first word
//     refuses NAT keepalives (one octet) that way.
package netio

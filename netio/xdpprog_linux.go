package netio

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// xdpPass is XDP_PASS: hand the frame to the kernel's stack.
const xdpPass = 2

// Offsets into struct xdp_md (include/uapi/linux/bpf.h).
const (
	xdpMDData          = 0
	xdpMDDataEnd       = 4
	xdpMDRxQueueIndex  = 16
	ethHeaderLen       = 14
	ipv4MinHeaderLen   = 20
	ipv6HeaderLen      = 40
	ipProtoESP         = 50
	ethTypeIPv4Hi      = 0x08
	ethTypeIPv4Lo      = 0x00
	ethTypeIPv6Hi      = 0x86
	ethTypeIPv6Lo      = 0xdd
	ipv4FlagsOffset    = ethHeaderLen + 6
	ipv4ProtocolOffset = ethHeaderLen + 9
	ipv4DstOffset      = ethHeaderLen + 16
	ipv6NextOffset     = ethHeaderLen + 6
	ipv6DstOffset      = ethHeaderLen + 24
)

// UDP offsets, for IPv4 without options and IPv6 with UDP right after
// the fixed header; the UDP payload's first four octets tell ESP from an
// IKE message (the non-ESP marker, zero) on the NAT-T port.
const (
	ipProtoUDP        = 17
	ipv4UDPDstPort    = ethHeaderLen + ipv4MinHeaderLen + 2
	ipv4UDPPayload    = ethHeaderLen + ipv4MinHeaderLen + 8
	ipv6UDPDstPort    = ethHeaderLen + ipv6HeaderLen + 2
	ipv6UDPPayload    = ethHeaderLen + ipv6HeaderLen + 8
	ipv4HeaderByteMin = 0x45 // version 4, IHL 5: no options
)

// steerProgram is the XDP program of the xdp data plane, written with
// cilium/ebpf's assembler so that building needs no clang. An Ethernet
// frame to a destination address in addr4 or addr6 carrying ESP (IPv4
// protocol 50 unfragmented, or IPv6 next header 50 right after the fixed
// header), or ESP in UDP (RFC 3948) to a port in ports (IPv4 without
// options, unfragmented; IPv6 with UDP right after the fixed header; the
// payload's first four octets not zero) goes to the AF_XDP socket of its
// receive queue (xsks). Everything else goes on to the kernel
// (XDP_PASS): IKE, on 500 and behind the non-ESP marker on 4500, and NAT
// keepalives (one octet) reach the IKE and UDP sockets; fragments are
// reassembled by the kernel for the raw ESP and UDP sockets, which the
// xdp data plane keeps open.
//
// In C it would read:
//
//	if (data + 34 > data_end) return XDP_PASS;
//	if (eth_type == 0x0800) {
//		proto = ip->protocol;
//		if (proto != 50 && proto != 17 || ip->frag_off & 0x3fff) return XDP_PASS;
//		if (!bpf_map_lookup_elem(&addr4, &ip->daddr)) return XDP_PASS;
//		if (proto == 17) {
//			if (ip->ihl_version != 0x45 || data + 46 > data_end) return XDP_PASS;
//			if (*(u32 *)(data + 42) == 0) return XDP_PASS;
//			if (!bpf_map_lookup_elem(&ports, &udp->dest)) return XDP_PASS;
//		}
//	} else if (eth_type == 0x86dd) {
//		if (data + 54 > data_end) return XDP_PASS;
//		proto = ip6->nexthdr;
//		if (proto != 50 && proto != 17) return XDP_PASS;
//		if (!bpf_map_lookup_elem(&addr6, &ip6->daddr)) return XDP_PASS;
//		if (proto == 17) {
//			if (data + 66 > data_end || *(u32 *)(data + 62) == 0) return XDP_PASS;
//			if (!bpf_map_lookup_elem(&ports, &udp->dest)) return XDP_PASS;
//		}
//	} else return XDP_PASS;
//	return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
func steerProgram(xsks, addr4, addr6, ports *ebpf.Map) asm.Instructions {
	// R6 holds the context and R7 the protocol across the helper calls,
	// which clobber R1-R5: the packet pointers are loaded again after.
	reload := asm.Instructions{
		asm.LoadMem(asm.R2, asm.R6, xdpMDData, asm.Word),
		asm.LoadMem(asm.R3, asm.R6, xdpMDDataEnd, asm.Word),
	}
	// udp checks the UDP payload's first word (at payload) and looks the
	// destination port (at dport) up in ports; end is the bound to check.
	udp := func(end, payload, dport int16) asm.Instructions {
		insns := append(asm.Instructions{}, reload...)
		return append(insns,
			asm.Mov.Reg(asm.R4, asm.R2),
			asm.Add.Imm(asm.R4, int32(end)),
			asm.JGT.Reg(asm.R4, asm.R3, "pass"),
			asm.LoadMem(asm.R5, asm.R2, payload, asm.Word),
			asm.JEq.Imm(asm.R5, 0, "pass"),
			asm.LoadMem(asm.R5, asm.R2, dport, asm.Half),
			asm.StoreMem(asm.RFP, -24, asm.R5, asm.Half),
			asm.LoadMapPtr(asm.R1, ports.FD()),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, -24),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "pass"),
			asm.Ja.Label("redirect"),
		)
	}
	insns := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
	}
	insns = append(insns, reload...)
	insns = append(insns,
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, ethHeaderLen+ipv4MinHeaderLen),
		asm.JGT.Reg(asm.R4, asm.R3, "pass"),
		asm.LoadMem(asm.R5, asm.R2, 12, asm.Byte),
		asm.LoadMem(asm.R4, asm.R2, 13, asm.Byte),
		asm.JEq.Imm(asm.R5, ethTypeIPv6Hi, "ipv6"),
		asm.JNE.Imm(asm.R5, ethTypeIPv4Hi, "pass"),
		asm.JNE.Imm(asm.R4, ethTypeIPv4Lo, "pass"),
		// IPv4: protocol 50 or 17, no fragment offset, no more-fragments.
		asm.LoadMem(asm.R7, asm.R2, ipv4ProtocolOffset, asm.Byte),
		asm.JEq.Imm(asm.R7, ipProtoESP, "v4-frag"),
		asm.JNE.Imm(asm.R7, ipProtoUDP, "pass"),
		asm.LoadMem(asm.R5, asm.R2, ipv4FlagsOffset, asm.Byte).WithSymbol("v4-frag"),
		asm.And.Imm(asm.R5, 0x3f),
		asm.LoadMem(asm.R4, asm.R2, ipv4FlagsOffset+1, asm.Byte),
		asm.Or.Reg(asm.R5, asm.R4),
		asm.JNE.Imm(asm.R5, 0, "pass"),
		asm.LoadMem(asm.R5, asm.R2, ipv4DstOffset, asm.Word),
		asm.StoreMem(asm.RFP, -4, asm.R5, asm.Word),
		asm.LoadMapPtr(asm.R1, addr4.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "pass"),
		asm.JEq.Imm(asm.R7, ipProtoESP, "redirect"),
		// ESP in UDP over IPv4, without options.
		asm.LoadMem(asm.R2, asm.R6, xdpMDData, asm.Word),
		asm.LoadMem(asm.R3, asm.R6, xdpMDDataEnd, asm.Word),
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, ethHeaderLen+1),
		asm.JGT.Reg(asm.R4, asm.R3, "pass"),
		asm.LoadMem(asm.R5, asm.R2, ethHeaderLen, asm.Byte),
		asm.JNE.Imm(asm.R5, ipv4HeaderByteMin, "pass"),
	)
	insns = append(insns, udp(ipv4UDPPayload+4, ipv4UDPPayload, ipv4UDPDstPort)...)
	insns = append(insns,
		// IPv6: next header 50 or 17, destination in addr6.
		asm.JNE.Imm(asm.R4, ethTypeIPv6Lo, "pass").WithSymbol("ipv6"),
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, ethHeaderLen+ipv6HeaderLen),
		asm.JGT.Reg(asm.R4, asm.R3, "pass"),
		asm.LoadMem(asm.R7, asm.R2, ipv6NextOffset, asm.Byte),
		asm.JEq.Imm(asm.R7, ipProtoESP, "v6-addr"),
		asm.JNE.Imm(asm.R7, ipProtoUDP, "pass"),
	)
	for i := int16(0); i < 4; i++ {
		in := asm.LoadMem(asm.R5, asm.R2, ipv6DstOffset+4*i, asm.Word)
		if i == 0 {
			in = in.WithSymbol("v6-addr")
		}
		insns = append(insns, in, asm.StoreMem(asm.RFP, -16+4*i, asm.R5, asm.Word))
	}
	insns = append(insns,
		asm.LoadMapPtr(asm.R1, addr6.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -16),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "pass"),
		asm.JEq.Imm(asm.R7, ipProtoESP, "redirect"),
	)
	insns = append(insns, udp(ipv6UDPPayload+4, ipv6UDPPayload, ipv6UDPDstPort)...)
	insns = append(insns,
		// bpf_redirect_map(&xsks, rx_queue_index, XDP_PASS)
		asm.LoadMem(asm.R2, asm.R6, xdpMDRxQueueIndex, asm.Word).WithSymbol("redirect"),
		asm.LoadMapPtr(asm.R1, xsks.FD()),
		asm.Mov.Imm(asm.R3, xdpPass),
		asm.FnRedirectMap.Call(),
		asm.Return(),
		asm.Mov.Imm(asm.R0, xdpPass).WithSymbol("pass"),
		asm.Return(),
	)
	return insns
}

// maxQueues bounds the receive queues an interface gets sockets on.
const maxQueues = 64

// newAddrMaps creates the maps of local addresses and of UDP
// encapsulation ports (keys in network byte order), shared by the
// programs of every interface.
func newAddrMaps() (addr4, addr6, ports *ebpf.Map, err error) {
	if addr4, err = ebpf.NewMap(&ebpf.MapSpec{Name: "ipsecgw_addr4", Type: ebpf.Hash, KeySize: 4, ValueSize: 1, MaxEntries: 1024}); err != nil {
		return nil, nil, nil, err
	}
	if addr6, err = ebpf.NewMap(&ebpf.MapSpec{Name: "ipsecgw_addr6", Type: ebpf.Hash, KeySize: 16, ValueSize: 1, MaxEntries: 1024}); err != nil {
		addr4.Close()
		return nil, nil, nil, err
	}
	if ports, err = ebpf.NewMap(&ebpf.MapSpec{Name: "ipsecgw_ports", Type: ebpf.Hash, KeySize: 2, ValueSize: 1, MaxEntries: 64}); err != nil {
		addr4.Close()
		addr6.Close()
		return nil, nil, nil, err
	}
	return addr4, addr6, ports, nil
}

// newSteering loads the program of one interface, with its own map of
// sockets: the map is keyed by receive queue, and a socket only takes
// frames of the interface and queue it is bound to.
func newSteering(addr4, addr6, ports *ebpf.Map) (*ebpf.Program, *ebpf.Map, error) {
	xsks, err := ebpf.NewMap(&ebpf.MapSpec{Name: "ipsecgw_xsks", Type: ebpf.XSKMap, KeySize: 4, ValueSize: 4, MaxEntries: maxQueues})
	if err != nil {
		return nil, nil, err
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "ipsecgw_esp", Type: ebpf.XDP, License: "GPL", Instructions: steerProgram(xsks, addr4, addr6, ports)})
	if err != nil {
		xsks.Close()
		return nil, nil, err
	}
	return prog, xsks, nil
}

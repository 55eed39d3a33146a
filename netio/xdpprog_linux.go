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

// steerProgram is the XDP program of the xdp data plane, written with
// cilium/ebpf's assembler so that building needs no clang. An Ethernet
// frame carrying ESP (IPv4 protocol 50 unfragmented, or IPv6 next header
// 50 right after the fixed header) to a destination address in addr4 or
// addr6 goes to the AF_XDP socket of its receive queue (xsks); everything
// else, and ESP when that queue has no socket, goes on to the kernel
// (XDP_PASS). Fragments go to the kernel too: it reassembles them and
// hands them to the raw ESP socket, which the xdp data plane keeps open.
//
// In C it would read:
//
//	if (data + 34 > data_end) return XDP_PASS;
//	if (eth_type == 0x0800) {
//		if (ip->protocol != 50 || ip->frag_off & 0x3fff) return XDP_PASS;
//		if (!bpf_map_lookup_elem(&addr4, &ip->daddr)) return XDP_PASS;
//	} else if (eth_type == 0x86dd) {
//		if (data + 54 > data_end || ip6->nexthdr != 50) return XDP_PASS;
//		if (!bpf_map_lookup_elem(&addr6, &ip6->daddr)) return XDP_PASS;
//	} else return XDP_PASS;
//	return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
func steerProgram(xsks, addr4, addr6 *ebpf.Map) asm.Instructions {
	insns := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMem(asm.R2, asm.R6, xdpMDData, asm.Word),
		asm.LoadMem(asm.R3, asm.R6, xdpMDDataEnd, asm.Word),
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, ethHeaderLen+ipv4MinHeaderLen),
		asm.JGT.Reg(asm.R4, asm.R3, "pass"),
		asm.LoadMem(asm.R5, asm.R2, 12, asm.Byte),
		asm.LoadMem(asm.R4, asm.R2, 13, asm.Byte),
		asm.JEq.Imm(asm.R5, ethTypeIPv6Hi, "ipv6"),
		asm.JNE.Imm(asm.R5, ethTypeIPv4Hi, "pass"),
		asm.JNE.Imm(asm.R4, ethTypeIPv4Lo, "pass"),
		// IPv4: protocol 50, no fragment offset, no more-fragments.
		asm.LoadMem(asm.R5, asm.R2, ipv4ProtocolOffset, asm.Byte),
		asm.JNE.Imm(asm.R5, ipProtoESP, "pass"),
		asm.LoadMem(asm.R5, asm.R2, ipv4FlagsOffset, asm.Byte),
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
		asm.Ja.Label("redirect"),
		// IPv6: next header 50, destination in addr6.
		asm.JNE.Imm(asm.R4, ethTypeIPv6Lo, "pass").WithSymbol("ipv6"),
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, ethHeaderLen+ipv6HeaderLen),
		asm.JGT.Reg(asm.R4, asm.R3, "pass"),
		asm.LoadMem(asm.R5, asm.R2, ipv6NextOffset, asm.Byte),
		asm.JNE.Imm(asm.R5, ipProtoESP, "pass"),
	}
	for i := int16(0); i < 4; i++ {
		insns = append(insns,
			asm.LoadMem(asm.R5, asm.R2, ipv6DstOffset+4*i, asm.Word),
			asm.StoreMem(asm.RFP, -16+4*i, asm.R5, asm.Word))
	}
	insns = append(insns,
		asm.LoadMapPtr(asm.R1, addr6.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -16),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "pass"),
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

// newAddrMaps creates the maps of local addresses, shared by the
// programs of every interface.
func newAddrMaps() (addr4, addr6 *ebpf.Map, err error) {
	if addr4, err = ebpf.NewMap(&ebpf.MapSpec{Name: "ipsecgw_addr4", Type: ebpf.Hash, KeySize: 4, ValueSize: 1, MaxEntries: 1024}); err != nil {
		return nil, nil, err
	}
	if addr6, err = ebpf.NewMap(&ebpf.MapSpec{Name: "ipsecgw_addr6", Type: ebpf.Hash, KeySize: 16, ValueSize: 1, MaxEntries: 1024}); err != nil {
		addr4.Close()
		return nil, nil, err
	}
	return addr4, addr6, nil
}

// newSteering loads the program of one interface, with its own map of
// sockets: the map is keyed by receive queue, and a socket only takes
// frames of the interface and queue it is bound to.
func newSteering(addr4, addr6 *ebpf.Map) (*ebpf.Program, *ebpf.Map, error) {
	xsks, err := ebpf.NewMap(&ebpf.MapSpec{Name: "ipsecgw_xsks", Type: ebpf.XSKMap, KeySize: 4, ValueSize: 4, MaxEntries: maxQueues})
	if err != nil {
		return nil, nil, err
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "ipsecgw_esp", Type: ebpf.XDP, License: "GPL", Instructions: steerProgram(xsks, addr4, addr6)})
	if err != nil {
		xsks.Close()
		return nil, nil, err
	}
	return prog, xsks, nil
}

package netio

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// xdpPass is XDP_PASS: hand the frame to the kernel's stack; xdpDrop
// XDP_DROP.
const (
	xdpDrop = 1
	xdpPass = 2
)

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
// protocol 50 unfragmented, options or not; IPv6 next header 50 right
// after the fixed header or behind the extension headers ipv6ExtChain
// walks), or ESP in UDP (RFC 3948) to a port in ports (the same way
// behind IPv4 options or IPv6 extension headers; the payload's first four
// octets not zero) goes to the AF_XDP socket of its receive queue (xsks),
// IPv6 extension headers removed (as stripIPv6Ext does), so that the
// socket's reader finds ESP or UDP right after the fixed header.
// Everything else goes on to the kernel (XDP_PASS): IKE, on 500 and
// behind the non-ESP marker on 4500, and NAT keepalives (one octet) reach
// the IKE and UDP sockets; fragments, and ESP behind a longer chain of
// extension headers, reach the raw ESP and UDP sockets, which the xdp
// data plane keeps open (the kernel reassembles fragments first).
//
// In C it would read (off is R8, udp R9; the walk is unrolled, as the
// verifier wants every loop bounded):
//
//	if (data + 34 > data_end) return XDP_PASS;
//	off = 0;
//	if (eth_type == 0x0800) {
//		proto = ip->protocol;
//		if (proto != 50 && proto != 17 || ip->frag_off & 0x3fff) return XDP_PASS;
//		if (!bpf_map_lookup_elem(&addr4, &ip->daddr)) return XDP_PASS;
//		if (proto == 17) {
//			if (ip->ihl < 5) return XDP_PASS;
//			udp = 14 + ip->ihl * 4;
//			goto esp_in_udp;
//		}
//	} else if (eth_type == 0x86dd) {
//		if (data + 54 > data_end) return XDP_PASS;
//		proto = ip6->nexthdr;
//		for (i = 0; proto != 50 && proto != 17; i++) {	// unrolled
//			if (i == 4 || !(proto == 43 || proto == 60 || proto == 0 && i == 0)) return XDP_PASS;
//			h = data + 54 + off;
//			if (h + 8 > data_end) return XDP_PASS;
//			proto = h[0]; off += (h[1] + 1) * 8;
//			if (off > 128) return XDP_PASS;
//		}
//		if (!bpf_map_lookup_elem(&addr6, &ip6->daddr)) return XDP_PASS;
//		if (proto == 17) { udp = 54 + off; goto esp_in_udp; }
//	} else return XDP_PASS;
//	goto strip;
//	esp_in_udp:
//	if (data + udp + 12 > data_end || *(u32 *)(data + udp + 8) == 0) return XDP_PASS;
//	if (!bpf_map_lookup_elem(&ports, data + udp + 2)) return XDP_PASS;
//	strip:
//	if (off) {	// the Ethernet and IPv6 headers move up over the extension headers
//		memcpy(saved, data, 54); saved.nexthdr = proto; saved.payload_len -= off;
//		if (bpf_xdp_adjust_head(ctx, off)) return XDP_PASS;
//		if (data + 54 > data_end) return XDP_DROP;	// cannot happen
//		memcpy(data, saved, 54);
//	}
//	return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
func steerProgram(xsks, addr4, addr6, ports *ebpf.Map) asm.Instructions {
	// R6 holds the context, R7 the protocol, R8 the length of the IPv6
	// extension headers and R9 the offset of the UDP header across the
	// helper calls, which clobber R1-R5: the packet pointers are loaded
	// again after.
	reload := asm.Instructions{
		asm.LoadMem(asm.R2, asm.R6, xdpMDData, asm.Word),
		asm.LoadMem(asm.R3, asm.R6, xdpMDDataEnd, asm.Word),
	}
	// need checks that the frame has n octets from data (R2) on.
	need := func(n int32) asm.Instructions {
		return asm.Instructions{
			asm.Mov.Reg(asm.R4, asm.R2),
			asm.Add.Imm(asm.R4, n),
			asm.JGT.Reg(asm.R4, asm.R3, "pass"),
		}
	}
	insns := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.Mov.Imm(asm.R8, 0),
	}
	insns = append(insns, reload...)
	insns = append(insns, need(ethHeaderLen+ipv4MinHeaderLen)...)
	insns = append(insns,
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
		// The UDP header's offset, behind options or not: 14 + IHL × 4.
		asm.LoadMem(asm.R9, asm.R2, ethHeaderLen, asm.Byte),
		asm.And.Imm(asm.R9, 0x0f),
		asm.LSh.Imm(asm.R9, 2),
		asm.JLT.Imm(asm.R9, ipv4MinHeaderLen, "pass"),
		asm.Add.Imm(asm.R9, ethHeaderLen),
		asm.LoadMem(asm.R5, asm.R2, ipv4DstOffset, asm.Word),
		asm.StoreMem(asm.RFP, -4, asm.R5, asm.Word),
		asm.LoadMapPtr(asm.R1, addr4.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "pass"),
		asm.JEq.Imm(asm.R7, ipProtoESP, "redirect"),
		asm.Ja.Label("esp-in-udp"),
	)
	// IPv6: next header 50 or 17, behind the extension headers walked.
	insns = append(insns, asm.JNE.Imm(asm.R4, ethTypeIPv6Lo, "pass").WithSymbol("ipv6"))
	insns = append(insns, need(ethHeaderLen+ipv6HeaderLen)...)
	insns = append(insns, asm.LoadMem(asm.R7, asm.R2, ipv6NextOffset, asm.Byte))
	for i := 0; ; i++ {
		insns = append(insns,
			asm.JEq.Imm(asm.R7, ipProtoESP, "v6-addr"),
			asm.JEq.Imm(asm.R7, ipProtoUDP, "v6-addr"),
		)
		if i == maxExtHeaders {
			insns = append(insns, asm.Ja.Label("pass"))
			break
		}
		ext := fmt.Sprintf("ext%d", i)
		if i == 0 {
			insns = append(insns, asm.JEq.Imm(asm.R7, ipProtoHopByHop, ext))
		}
		insns = append(insns,
			asm.JEq.Imm(asm.R7, ipProtoRouting, ext),
			asm.JNE.Imm(asm.R7, ipProtoDstOpts, "pass"),
			asm.Mov.Reg(asm.R4, asm.R2).WithSymbol(ext),
			asm.Add.Reg(asm.R4, asm.R8),
			asm.Mov.Reg(asm.R5, asm.R4),
			asm.Add.Imm(asm.R5, ethHeaderLen+ipv6HeaderLen+8),
			asm.JGT.Reg(asm.R5, asm.R3, "pass"),
			asm.LoadMem(asm.R7, asm.R4, ethHeaderLen+ipv6HeaderLen, asm.Byte),
			asm.LoadMem(asm.R5, asm.R4, ethHeaderLen+ipv6HeaderLen+1, asm.Byte),
			asm.Add.Imm(asm.R5, 1),
			asm.LSh.Imm(asm.R5, 3),
			asm.Add.Reg(asm.R8, asm.R5),
			asm.JGT.Imm(asm.R8, maxExtOctets, "pass"),
		)
	}
	for i := int16(0); i < 4; i++ {
		in := asm.LoadMem(asm.R5, asm.R2, ipv6DstOffset+4*i, asm.Word)
		if i == 0 {
			in = in.WithSymbol("v6-addr")
		}
		insns = append(insns, in, asm.StoreMem(asm.RFP, -16+4*i, asm.R5, asm.Word))
	}
	insns = append(insns,
		asm.Mov.Reg(asm.R9, asm.R8),
		asm.Add.Imm(asm.R9, ethHeaderLen+ipv6HeaderLen),
		asm.LoadMapPtr(asm.R1, addr6.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -16),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "pass"),
		asm.JEq.Imm(asm.R7, ipProtoESP, "strip"),
	)
	// ESP in UDP: the UDP header at R9, the payload's first word not
	// zero, the destination port in ports.
	insns = append(insns, reload[0].WithSymbol("esp-in-udp"), reload[1])
	insns = append(insns,
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Reg(asm.R4, asm.R9),
		asm.Mov.Reg(asm.R5, asm.R4),
		asm.Add.Imm(asm.R5, 12),
		asm.JGT.Reg(asm.R5, asm.R3, "pass"),
		asm.LoadMem(asm.R5, asm.R4, 8, asm.Word),
		asm.JEq.Imm(asm.R5, 0, "pass"),
		asm.LoadMem(asm.R5, asm.R4, 2, asm.Half),
		asm.StoreMem(asm.RFP, -24, asm.R5, asm.Half),
		asm.LoadMapPtr(asm.R1, ports.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -24),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "pass"),
	)
	insns = append(insns, stripExtHeaders(reload, need)...)
	insns = append(insns,
		// bpf_redirect_map(&xsks, rx_queue_index, XDP_PASS)
		asm.LoadMem(asm.R2, asm.R6, xdpMDRxQueueIndex, asm.Word).WithSymbol("redirect"),
		asm.LoadMapPtr(asm.R1, xsks.FD()),
		asm.Mov.Imm(asm.R3, xdpPass),
		asm.FnRedirectMap.Call(),
		asm.Return(),
		asm.Mov.Imm(asm.R0, xdpPass).WithSymbol("pass"),
		asm.Return(),
		asm.Mov.Imm(asm.R0, xdpDrop).WithSymbol("drop"),
		asm.Return(),
	)
	return insns
}

// stripExtHeaders is the program's "strip" (labelled so): with R8
// octets of IPv6 extension headers in front of the protocol R7, the
// Ethernet and fixed IPv6 headers (54 octets) are saved on the stack,
// given the next header and payload length they have without them, and
// written back at the frame's new start, R8 octets on; then on to
// "redirect".
func stripExtHeaders(reload asm.Instructions, need func(int32) asm.Instructions) asm.Instructions {
	const saved = -88 // 56 octets: seven words, the last at frame offset 46
	const headers = ethHeaderLen + ipv6HeaderLen
	offsets := []int16{0, 8, 16, 24, 32, 40, headers - 8}
	insns := asm.Instructions{asm.JEq.Imm(asm.R8, 0, "redirect").WithSymbol("strip")}
	insns = append(insns, reload...)
	insns = append(insns, need(headers)...)
	for i, off := range offsets {
		insns = append(insns,
			asm.LoadMem(asm.R5, asm.R2, off, asm.DWord),
			asm.StoreMem(asm.RFP, saved+8*int16(i), asm.R5, asm.DWord),
		)
	}
	const plen int16 = saved + ethHeaderLen + 4 // the payload length, big-endian
	insns = append(insns,
		asm.StoreMem(asm.RFP, saved+ipv6NextOffset, asm.R7, asm.Byte),
		asm.LoadMem(asm.R5, asm.RFP, plen, asm.Byte),
		asm.LSh.Imm(asm.R5, 8),
		asm.LoadMem(asm.R4, asm.RFP, plen+1, asm.Byte),
		asm.Or.Reg(asm.R5, asm.R4),
		asm.Sub.Reg(asm.R5, asm.R8),
		asm.StoreMem(asm.RFP, plen+1, asm.R5, asm.Byte),
		asm.RSh.Imm(asm.R5, 8),
		asm.StoreMem(asm.RFP, plen, asm.R5, asm.Byte),
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.Mov.Reg(asm.R2, asm.R8),
		asm.FnXdpAdjustHead.Call(),
		asm.JNE.Imm(asm.R0, 0, "pass"), // the frame is as it came
	)
	insns = append(insns, reload...)
	insns = append(insns,
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, headers),
		asm.JGT.Reg(asm.R4, asm.R3, "drop"), // cannot happen: it had more
	)
	for i, off := range offsets {
		insns = append(insns,
			asm.LoadMem(asm.R5, asm.RFP, saved+8*int16(i), asm.DWord),
			asm.StoreMem(asm.R2, off, asm.R5, asm.DWord),
		)
	}
	return append(insns, asm.Ja.Label("redirect"))
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

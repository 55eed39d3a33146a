package netio

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// ringFilter is the classic BPF socket filter of a packet ring: the ring
// sees only what the xdp program would steer, frames addressed to this
// host (PACKET_HOST) to one of local carrying unfragmented ESP (IPv4
// protocol 50 with no fragment offset or more-fragments flag, options or
// not; IPv6 next header 50 right after the fixed header or behind the
// extension headers ipv6ExtChain walks) or ESP in UDP to one of ports
// (behind IPv4 options or IPv6 extension headers alike; the payload's
// first word not zero, and at least four octets of it: a load past the
// frame's end refuses it). Everything else never reaches the ring: the
// kernel takes IKE (on 500, and behind the non-ESP marker on 4500), NAT
// keepalives, fragments (which it reassembles for the raw ESP and UDP
// sockets), ESP behind a longer chain of extension headers (for the same
// sockets, which count the headers to tell) and other traffic as before.
//
//	ld  pkttype;  jne #PACKET_HOST, drop
//	ldh [12];     jeq #0x0800, v4;  jeq #0x86dd, v6;  ja drop
//	v4: ldh [20]; and #0x3fff; jne #0, drop
//	    ldb [23]; jeq #50, v4-addr; jne #17, drop
//	    ldxb 4*([14]&0xf)
//	    ld [x+22]; jeq #0, drop; ldh [x+16]; jeq #port, v4-addr ... ; ja drop
//	v4-addr: ld [30]; jeq #addr, accept ... ; ja drop
//	v6: ldx #0; ldb [20]
//	h0: jeq #50, v6-addr; jeq #17, v6-udp; jeq #0, e0; jeq #43, e0; jeq #60, e0; ja drop
//	e0: ldb [x+54]; st M[0]; ldb [x+55]; add #1; lsh #3; add x
//	    jgt #128, drop; tax; ld M[0]
//	h1 ... h3 as h0 without hop-by-hop; h4: jeq #50, v6-addr; jne #17, drop
//	v6-udp: ld [x+62]; jeq #0, drop; ldh [x+56]; jeq #port, v6-addr ... ; ja drop
//	v6-addr: ld [38]; jne #w0, next; ld [42]; ... jeq #w3, accept; next: ...
//	drop: ret #0;  accept: ret #snap
func ringFilter(local []netip.Addr, ports []uint16) ([]unix.SockFilter, error) {
	var p filterProgram
	p.ins(bpf.LoadExtension{Num: bpf.ExtType})
	p.jump(bpf.JumpNotEqual, unix.PACKET_HOST, "drop", "")
	p.ins(bpf.LoadAbsolute{Off: 12, Size: 2})
	p.jump(bpf.JumpEqual, 0x0800, "v4", "")
	p.jump(bpf.JumpEqual, 0x86dd, "v6", "drop")

	p.label("v4")
	p.ins(bpf.LoadAbsolute{Off: ipv4FlagsOffset, Size: 2})
	p.ins(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0x3fff})
	p.jump(bpf.JumpNotEqual, 0, "drop", "")
	p.ins(bpf.LoadAbsolute{Off: ipv4ProtocolOffset, Size: 1})
	p.jump(bpf.JumpEqual, ipProtoESP, "v4-addr", "")
	p.jump(bpf.JumpNotEqual, ipProtoUDP, "drop", "")
	p.ins(bpf.LoadMemShift{Off: ethHeaderLen}) // X = the IPv4 header's length
	p.udp(ethHeaderLen, ports, "v4-addr")
	p.label("v4-addr")
	p.ins(bpf.LoadAbsolute{Off: ipv4DstOffset, Size: 4})
	for _, a := range local {
		if a.Is4() {
			b := a.As4()
			p.jump(bpf.JumpEqual, binary.BigEndian.Uint32(b[:]), "accept", "")
		}
	}
	p.jump(bpf.JumpEqual, 0, "drop", "drop") // ja drop

	p.label("v6")
	// X is the length of the extension headers walked so far, A the next
	// header; the walk is unrolled (classic BPF jumps only forward).
	p.ins(bpf.LoadConstant{Dst: bpf.RegX, Val: 0})
	p.ins(bpf.LoadAbsolute{Off: ipv6NextOffset, Size: 1})
	for i := 0; ; i++ {
		p.label(fmt.Sprintf("h%d", i))
		p.jump(bpf.JumpEqual, ipProtoESP, "v6-addr", "")
		if i == maxExtHeaders {
			p.jump(bpf.JumpNotEqual, ipProtoUDP, "drop", "v6-udp")
			break
		}
		ext := fmt.Sprintf("e%d", i)
		p.jump(bpf.JumpEqual, ipProtoUDP, "v6-udp", "")
		if i == 0 {
			p.jump(bpf.JumpEqual, ipProtoHopByHop, ext, "")
		}
		p.jump(bpf.JumpEqual, ipProtoRouting, ext, "")
		p.jump(bpf.JumpEqual, ipProtoDstOpts, ext, "drop")
		p.label(ext)
		p.ins(bpf.LoadIndirect{Off: ethHeaderLen + ipv6HeaderLen, Size: 1})
		p.ins(bpf.StoreScratch{Src: bpf.RegA, N: 0})
		p.ins(bpf.LoadIndirect{Off: ethHeaderLen + ipv6HeaderLen + 1, Size: 1})
		p.ins(bpf.ALUOpConstant{Op: bpf.ALUOpAdd, Val: 1})
		p.ins(bpf.ALUOpConstant{Op: bpf.ALUOpShiftLeft, Val: 3})
		p.ins(bpf.ALUOpX{Op: bpf.ALUOpAdd})
		p.jump(bpf.JumpGreaterThan, maxExtOctets, "drop", "")
		p.ins(bpf.TAX{})
		p.ins(bpf.LoadScratch{Dst: bpf.RegA, N: 0})
	}
	p.label("v6-udp")
	p.udp(ethHeaderLen+ipv6HeaderLen, ports, "v6-addr")
	p.label("v6-addr")
	for i, a := range local {
		if !a.Is6() || a.Is4In6() {
			continue
		}
		b := a.As16()
		next := fmt.Sprintf("v6-%d", i)
		for w := range 4 {
			p.ins(bpf.LoadAbsolute{Off: uint32(ipv6DstOffset + 4*w), Size: 4})
			word := binary.BigEndian.Uint32(b[4*w:])
			if w < 3 {
				p.jump(bpf.JumpNotEqual, word, next, "")
			} else {
				p.jump(bpf.JumpEqual, word, "accept", next)
			}
		}
		p.label(next)
	}
	p.label("drop")
	p.ins(bpf.RetConstant{Val: 0})
	p.label("accept")
	p.ins(bpf.RetConstant{Val: 1 << 18})
	return p.assemble()
}

// udp checks ESP in UDP whose header starts X octets after udpAt: the
// payload's first word not zero, the destination port one of ports;
// then on to next.
func (p *filterProgram) udp(udpAt uint32, ports []uint16, next string) {
	p.ins(bpf.LoadIndirect{Off: udpAt + 8, Size: 4})
	p.jump(bpf.JumpEqual, 0, "drop", "")
	p.ins(bpf.LoadIndirect{Off: udpAt + 2, Size: 2})
	for _, port := range ports {
		p.jump(bpf.JumpEqual, uint32(port), next, "")
	}
	p.jump(bpf.JumpEqual, 0, "drop", "drop") // ja drop
}

// filterProgram builds a classic BPF program whose conditional jumps name
// labels; assemble turns them into the instruction's relative skips.
type filterProgram struct {
	code   []filterInsn
	labels map[string]int
}

type filterInsn struct {
	ins         bpf.Instruction // nil for a conditional jump
	cond        bpf.JumpTest
	val         uint32
	true, false string // labels; "" is the next instruction
}

func (p *filterProgram) ins(i bpf.Instruction) { p.code = append(p.code, filterInsn{ins: i}) }

func (p *filterProgram) jump(cond bpf.JumpTest, val uint32, t, f string) {
	p.code = append(p.code, filterInsn{cond: cond, val: val, true: t, false: f})
}

func (p *filterProgram) label(name string) {
	if p.labels == nil {
		p.labels = map[string]int{}
	}
	p.labels[name] = len(p.code)
}

func (p *filterProgram) assemble() ([]unix.SockFilter, error) {
	skip := func(from int, label string) (uint8, error) {
		if label == "" {
			return 0, nil
		}
		to, ok := p.labels[label]
		if !ok || to <= from || to-from-1 > 255 {
			return 0, fmt.Errorf("netio: packet filter: jump from %d to %q out of reach", from, label)
		}
		return uint8(to - from - 1), nil
	}
	prog := make([]bpf.Instruction, len(p.code))
	for i, c := range p.code {
		if c.ins != nil {
			prog[i] = c.ins
			continue
		}
		t, err := skip(i, c.true)
		if err != nil {
			return nil, err
		}
		f, err := skip(i, c.false)
		if err != nil {
			return nil, err
		}
		prog[i] = bpf.JumpIf{Cond: c.cond, Val: c.val, SkipTrue: t, SkipFalse: f}
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, fmt.Errorf("netio: packet filter: %w", err)
	}
	out := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		out[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	return out, nil
}

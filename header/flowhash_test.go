package header

import (
	"testing"
)

func TestFlowHashStable(t *testing.T) {
	a := udp4Packet(t, 40000, 53, pattern(10))
	b := udp4Packet(t, 40000, 53, pattern(300)) // same flow, other data
	if FlowHash(a, 0) != FlowHash(b, 0) {
		t.Error("two packets of one flow hash differently")
	}
	if FlowHash(a, 0) == FlowHash(a, 1) {
		t.Error("the seed does not change the hash")
	}
	// A golden value: a change here re-paths every flow of every tunnel
	// on upgrade, so it should be a choice, not an accident.
	if got := FlowHash(a, 0); got != goldenFlowHash {
		t.Errorf("FlowHash = %#x, want %#x", got, goldenFlowHash)
	}
}

const goldenFlowHash = 0x7e02ef0eb9b28942

func TestFlowHashSpreadsFlows(t *testing.T) {
	ports := map[uint16]bool{}
	const flows = 1000
	for i := range flows {
		p := FlowSourcePort(FlowHash(udp4Packet(t, uint16(1024+i), 443, nil), 0))
		if p < FlowPortFirst {
			t.Fatalf("port %d below %d", p, FlowPortFirst)
		}
		ports[p] = true
	}
	// 1000 flows into 16384 ports collide about 30 times by the birthday
	// bound; far more means the hash is poor.
	if len(ports) < flows-60 {
		t.Errorf("1000 flows got only %d distinct source ports", len(ports))
	}
	v6 := FlowHash(udp6Packet(t, 1024, 443, nil), 0)
	v4 := FlowHash(udp4Packet(t, 1024, 443, nil), 0)
	if v6 == v4 {
		t.Error("an IPv6 flow and an IPv4 flow with the same ports hash alike")
	}
}

func TestFlowHashFieldsMatter(t *testing.T) {
	base := FiveTuple{Source: hostA4, Destination: hostB4, Protocol: IPProtoTCP, Ports: PortsTransport, SrcPort: 1, DstPort: 2}
	h := base.Hash(0)
	for name, mod := range map[string]func(*FiveTuple){
		"source":      func(t *FiveTuple) { t.Source = gw4 },
		"destination": func(t *FiveTuple) { t.Destination = gw4 },
		"protocol":    func(t *FiveTuple) { t.Protocol = IPProtoUDP },
		"src port":    func(t *FiveTuple) { t.SrcPort = 3 },
		"dst port":    func(t *FiveTuple) { t.DstPort = 3 },
		"swap":        func(t *FiveTuple) { t.SrcPort, t.DstPort = t.DstPort, t.SrcPort },
	} {
		c := base
		mod(&c)
		if c.Hash(0) == h {
			t.Errorf("changing the %s does not change the hash", name)
		}
	}
}

func TestFlowHashFragmentsStayTogether(t *testing.T) {
	pkt := udp4Packet(t, 40000, 53, pattern(3000))
	frags, err := fragmentAll(t, pkt, 1400)
	if err != nil {
		t.Fatal(err)
	}
	want := FlowHash(frags[0], 7)
	for i, f := range frags[1:] {
		if got := FlowHash(f, 7); got != want {
			t.Errorf("fragment %d hashes to %#x, first fragment to %#x", i+1, got, want)
		}
	}
	if FlowHash(pkt, 7) == want {
		t.Error("fragments hash like the unfragmented packet, so ports were used for fragments")
	}
}

func TestFlowSourcePortRange(t *testing.T) {
	for _, h := range []uint64{0, 1, 1 << 50, 1<<50 - 1, 0xffffffffffffffff} {
		if p := FlowSourcePort(h); p < FlowPortFirst || int(p) > FlowPortLast {
			t.Errorf("FlowSourcePort(%#x) = %d", h, p)
		}
	}
	if FlowSourcePort(0) != 49152 || FlowSourcePort(0xffffffffffffffff) != 65535 {
		t.Error("FlowSourcePort does not span the whole dynamic range")
	}
}

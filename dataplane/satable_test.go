package dataplane

import "testing"

func TestSATable(t *testing.T) {
	tb := newSATable()
	sas := map[uint32]*InboundSA{}
	for i := uint32(0); i < 2000; i++ {
		spi := i*2654435761 | 0x100
		sa := &InboundSA{}
		if !tb.put(spi, sa) {
			t.Fatalf("put %#x refused", spi)
		}
		sas[spi] = sa
	}
	for spi, sa := range sas {
		if tb.get(spi) != sa {
			t.Fatalf("get %#x", spi)
		}
	}
	var one uint32
	for spi := range sas {
		one = spi
		break
	}
	if tb.put(one, &InboundSA{}) {
		t.Fatal("a duplicate SPI was accepted")
	}
	if n := tb.remove(func(k uint32, _ *InboundSA) bool { return k == one }, &one); n != 1 || tb.get(one) != nil {
		t.Fatalf("remove one: %d", n)
	}
	if n := tb.remove(func(k uint32, _ *InboundSA) bool { return k%2 == 0 }, nil); n == 0 {
		t.Fatal("remove by predicate removed nothing")
	}
	for _, sa := range tb.all() {
		if sa == nil {
			t.Fatal("nil SA listed")
		}
	}
	if got := len(tb.all()); got != len(sas)-1-countEven(sas, one) {
		t.Fatalf("%d SAs left", got)
	}
}

func countEven(m map[uint32]*InboundSA, except uint32) int {
	n := 0
	for k := range m {
		if k%2 == 0 && k != except {
			n++
		}
	}
	return n
}

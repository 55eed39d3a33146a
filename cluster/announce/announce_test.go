package announce

import (
	"bytes"
	"encoding/hex"
	"net"
	"net/netip"
	"testing"
)

func TestGratuitousARP(t *testing.T) {
	mac := net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01}
	got := hex.EncodeToString(GratuitousARP(mac, netip.MustParseAddr("198.51.100.10")))
	want := "ffffffffffff" + "020000000001" + "0806" + // Ethernet
		"0001" + "0800" + "06" + "04" + "0001" + // ARP request
		"020000000001" + "c633640a" + "000000000000" + "c633640a"
	if got != want {
		t.Fatalf("\ngot  %s\nwant %s", got, want)
	}
}

func TestNeighborAdvertisement(t *testing.T) {
	mac := net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01}
	m := NeighborAdvertisement(mac, netip.MustParseAddr("2001:db8::10"))
	want, _ := hex.DecodeString("88000000" + "20000000" + "20010db8000000000000000000000010" + "0201" + "020000000001")
	if !bytes.Equal(m, want) {
		t.Fatalf("\ngot  %x\nwant %x", m, want)
	}
}

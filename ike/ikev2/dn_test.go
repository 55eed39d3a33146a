package ikev2

import (
	"net/netip"
	"testing"
)

// TestDNIdentities: both sides name themselves by distinguished names and
// require the other's; a wrong remote name fails the negotiation.
func TestDNIdentities(t *testing.T) {
	ids := func(me, peer int) string {
		return "set security ike gateway gw local-identity distinguished-name \"CN=gw" + string(rune('0'+me)) + ", O=Test\"\n" +
			"set security ike gateway gw remote-identity distinguished-name \"CN=gw" + string(rune('0'+peer)) + ", O=Test\"\n"
	}
	p := &pipe{engines: map[netip.Addr]*Engine{}}
	a, _, _ := newSide(t, side{me: 1, peer: 2, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", extra: ids(1, 2)}, p)
	b, _, _ := newSide(t, side{me: 2, peer: 1, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", extra: ids(2, 1)}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	waitUp(t, a)
	waitUp(t, b)
	a.Close()
	b.Close()
	p.wg.Wait()

	p = &pipe{engines: map[netip.Addr]*Engine{}}
	a, _, _ = newSide(t, side{me: 1, peer: 2, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", extra: ids(1, 3)}, p)
	_, _, _ = newSide(t, side{me: 2, peer: 1, group: "group19", ikeEnc: "aes-256-gcm", psk: "k", espEnc: "aes-256-gcm", extra: ids(2, 1)}, p)
	a.Initiate(netip.MustParseAddr("192.0.2.2"))
	eventually(t, "the failure", func() bool { return len(a.Failures()) > 0 })
	if f := a.Failures()[0]; f.Failure.Message == "" || len(upSAs(a)) != 0 {
		t.Fatalf("a wrong remote distinguished name: %+v", f)
	}
	a.Close()
	p.wg.Wait()
}

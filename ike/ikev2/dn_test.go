package ikev2

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"net/netip"
	"testing"
)

func TestEncodeDN(t *testing.T) {
	der, err := encodeDN("CN=gw1.example.net, O=Example Org, C=US")
	if err != nil {
		t.Fatal(err)
	}
	var rdns pkix.RDNSequence
	if _, err := asn1.Unmarshal(der, &rdns); err != nil {
		t.Fatal(err)
	}
	var n pkix.Name
	n.FillFromRDNSequence(&rdns)
	if n.CommonName != "gw1.example.net" || len(n.Organization) != 1 || n.Organization[0] != "Example Org" || n.Country[0] != "US" {
		t.Fatalf("decoded %+v", n)
	}
	slash, _ := encodeDN("/CN=gw1.example.net/O=Example Org/C=US")
	if string(slash) != string(der) {
		t.Fatal("slash and comma forms differ")
	}
	// The same name with PrintableString values (as another implementation
	// may encode it) is the same identity; another name is not.
	printable, _ := asn1.Marshal(pkix.RDNSequence{
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: asn1.RawValue{Tag: asn1.TagPrintableString, Bytes: []byte("gw1.example.net")}}},
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 10}, Value: asn1.RawValue{Tag: asn1.TagPrintableString, Bytes: []byte("Example Org")}}},
		{{Type: asn1.ObjectIdentifier{2, 5, 4, 6}, Value: asn1.RawValue{Tag: asn1.TagPrintableString, Bytes: []byte("US")}}},
	})
	other, _ := encodeDN("CN=gw2.example.net, O=Example Org, C=US")
	if !sameDN(der, printable) || sameDN(der, other) {
		t.Fatal("sameDN")
	}
	for _, bad := range []string{"", "CN", "XX=1", "CN=a, =b"} {
		if _, err := encodeDN(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

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
	if f := a.Failures()[0]; f.LastError == "" || len(upSAs(a)) != 0 {
		t.Fatalf("a wrong remote distinguished name: %+v", f)
	}
	a.Close()
	p.wg.Wait()
}

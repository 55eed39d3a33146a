package pki

import (
	"bytes"
	"testing"

	"ipsecgw/ike/wire"
)

func TestDNRoundTrip(t *testing.T) {
	for _, c := range []struct{ in, out string }{
		{"DC=example,DC=net,CN=gw1", "DC=example, DC=net, CN=gw1"},
		{"CN=gw1, O=Example, C=US", "CN=gw1, O=Example, C=US"},
		{"/C=US/O=Example/CN=gw1", "C=US, O=Example, CN=gw1"},
		{`O=Example\, Inc., CN=gw1`, `O=Example\, Inc., CN=gw1`},
		{"emailAddress=a@example.net, CN=x", "E=a@example.net, CN=x"},
	} {
		der, err := SubjectDER(c.in)
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		if got := DNString(der); got != c.out {
			t.Errorf("%q → %q, want %q", c.in, got, c.out)
		}
	}
	// DC is an IA5String in the DER (RFC 4519): tag 0x16, then "net".
	der, _ := SubjectDER("DC=net")
	if !bytes.HasSuffix(der, []byte{0x16, 3, 'n', 'e', 't'}) {
		t.Fatalf("DC encoding % x", der)
	}
	for _, bad := range []string{"", "CN", "XX=1", "CN=gw1, =x", "CN="} {
		if _, err := SubjectDER(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestDNMatching(t *testing.T) {
	peer, _ := SubjectDER("C=US, O=Example, OU=VPN, OU=East, CN=gw7")
	for _, c := range []struct {
		pattern             string
		container, wildcard bool
	}{
		{"O=Example, OU=VPN", true, true},
		{"C=US, CN=gw7", true, true},
		{"OU=VPN, O=Example", false, true},
		{"O=Example, OU=West", false, false},
		{"OU=East, OU=VPN", false, true},
		{"CN=, O=Example", false, true},
		{"L=, O=Example", false, false},
		{"C=US, O=Example, OU=VPN, OU=East, CN=gw7", true, true},
	} {
		ok, err := MatchContainer(c.pattern, peer)
		if err != nil || ok != c.container {
			t.Errorf("container %q = %v %v, want %v", c.pattern, ok, err, c.container)
		}
		ok, err = MatchWildcard(c.pattern, peer)
		if err != nil || ok != c.wildcard {
			t.Errorf("wildcard %q = %v %v, want %v", c.pattern, ok, err, c.wildcard)
		}
	}
	a, _ := SubjectDER("CN=x, O=y")
	b, _ := SubjectDER("O=y, CN=x")
	if wire.SameDN(a, b) || !wire.SameDN(a, a) {
		t.Fatal("SameDN")
	}
}

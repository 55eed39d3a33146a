package netns

import (
	"net/netip"
	"os/exec"
	"strings"
	"testing"
)

func TestCheckAddress(t *testing.T) {
	for _, tc := range []struct {
		p  string
		ok bool
	}{
		{"192.0.2.1/24", true}, {"198.51.100.7/32", true}, {"203.0.113.0/24", true},
		{"198.19.255.1/24", true}, {"2001:db8::1/64", true},
		{"10.1.1.1/24", false}, {"1.1.1.1/24", false}, {"198.18.0.0/14", false}, {"2001:db9::1/64", false},
	} {
		err := CheckAddress(netip.MustParsePrefix(tc.p))
		if (err == nil) != tc.ok {
			t.Errorf("CheckAddress(%s) = %v, want ok=%v", tc.p, err, tc.ok)
		}
	}
}

// TestTwoNamespacesPing proves the harness: two namespaces, one veth, a ping
// that must get through, and namespaces that are gone afterwards.
func TestTwoNamespacesPing(t *testing.T) {
	var names []string
	t.Run("build", func(t *testing.T) {
		n := New(t, "a", "b")
		names = []string{n.Name("a"), n.Name("b")}
		n.Link("a", "veth-a", "198.51.100.1/24", "b", "veth-b", "198.51.100.2/24")
		out := n.Exec("a", "ping", "-c", "2", "-W", "2", "-w", "5", "-i", "0.2", "198.51.100.2")
		if !strings.Contains(out, "2 received") {
			t.Fatalf("ping across the veth failed:\n%s", out)
		}
		if _, err := n.Try("a", "ping", "-c", "1", "-W", "1", "198.51.100.99"); err == nil {
			t.Fatal("ping to an absent host succeeded; the harness is not isolating")
		}
	})
	if names == nil {
		return
	}
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns list: %v", err)
	}
	for _, n := range names {
		if strings.Contains(string(out), n) {
			t.Errorf("namespace %s still exists after the test", n)
		}
	}
}

package e2e

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// checkChildKEShow checks what `show security ipsec security-associations
// detail` says of a gateway with two tunnels, one of whose Child SAs was
// made by CREATE_CHILD_SA with PFS group pfs and the additional key
// exchange ke (an ML-KEM one), the other by IKE_AUTH, under an IKE SA
// without ML-KEM: the first tunnel's SAs, both directions, name pfs and
// ke and the tunnel is quantum secured; the other's name neither and it
// is not. The XML and JSON forms carry the same, and parse. It reads the
// CLI until it says so, for up to 10 s (the SAs are in: traffic crossed).
func checkChildKEShow(t *testing.T, tp *topology, g *gateway, pfs, ke string) {
	t.Helper()
	const cmd = "show security ipsec security-associations detail"
	var text string
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		text = tp.mustCLI(g, cmd)
		if err = childKETunnels(text, pfs, ke); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("%s (read for 10 s): %v:\n%s\n%s:\n%s", cmd, err, text, g.name, tp.logOf(g))
	}
	x := tp.mustCLI(g, cmd+" | display xml")
	if n := strings.Count(x, "<sa-additional-key-exchange>"+ke+"</sa-additional-key-exchange>"); n != 2 {
		t.Errorf("| display xml: %d SAs with %s, want 2:\n%s", n, ke, x)
	}
	// Two SAs, and both tunnels' configured group (one IPsec policy).
	if n := strings.Count(x, "<sa-pfs-group>"+pfs+"</sa-pfs-group>"); n != 2+2 {
		t.Errorf("| display xml: %d sa-pfs-group %s, want 4 (two SAs, two tunnels):\n%s", n, pfs, x)
	}
	dec := xml.NewDecoder(strings.NewReader(x))
	for {
		if _, err := dec.Token(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Errorf("| display xml does not parse: %v\n%s", err, x)
			}
			break
		}
	}
	js := tp.mustCLI(g, cmd+" | display json")
	var tree any
	if err := json.Unmarshal([]byte(js), &tree); err != nil {
		t.Errorf("| display json does not parse: %v\n%s", err, js)
	}
	if n := strings.Count(js, `"data" : "`+ke+`"`); n != 2 || !strings.Contains(js, `"sa-additional-key-exchange"`) {
		t.Errorf("| display json: %d SAs with %s, want 2:\n%s", n, ke, js)
	}
}

// childKETunnels checks the detail text as checkChildKEShow says.
func childKETunnels(text, pfs, ke string) error {
	blocks := strings.Split(text, "\nID: ")
	if len(blocks) != 2 {
		return fmt.Errorf("%d tunnels, want 2", len(blocks))
	}
	lines := "    PFS group: " + pfs + "\n    Additional key exchange: " + ke + "\n"
	with := 0
	for _, b := range blocks {
		switch n := strings.Count(b, lines); {
		case n == 2 && strings.Contains(b, "  Quantum Secured: Yes\n") && strings.Count(b, "Direction: ") == 2:
			with++
		case n == 0 && !strings.Contains(b, "Additional key exchange") && strings.Contains(b, "  Quantum Secured: No\n"):
		default:
			return fmt.Errorf("a tunnel with %d SAs naming %s and %s", n, pfs, ke)
		}
	}
	if with != 1 {
		return fmt.Errorf("%d tunnels whose SAs name %s and %s, want 1", with, pfs, ke)
	}
	return nil
}

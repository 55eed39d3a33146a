package daemon

import (
	"encoding/json"
	"strings"
	"testing"
)

// abandoningEngine is an engine that reports n initiations given up; the
// rest of ikeCore is not called.
type abandoningEngine struct {
	ikeCore
	n uint64
}

func (a abandoningEngine) AbandonedInitiations() uint64 { return a.n }

// TestIKEAbandonedInStatus: the initiations the engines gave up for the
// peer's IKE SA (ikev2.Engine.AbandonedInitiations) reach the status,
// summed over the engines that count them (an engine that does not, as
// IKEv1's, adds nothing), under ike-abandoned-initiations in status.json,
// also when none was given up.
func TestIKEAbandonedInStatus(t *testing.T) {
	d := &Daemon{}
	if n := d.ikeAbandoned(); n != 0 {
		t.Fatalf("no engines: %d initiations given up, want 0", n)
	}
	d.ike.Store(&ikeEngines{1: {ikeCore: struct{ ikeCore }{}}, 2: {ikeCore: abandoningEngine{n: 3}}})
	if n := d.ikeAbandoned(); n != 3 {
		t.Fatalf("%d initiations given up, want the IKEv2 engine's 3", n)
	}
	for _, tc := range []struct {
		n    uint64
		want string
	}{{3, `"ike-abandoned-initiations":3`}, {0, `"ike-abandoned-initiations":0`}} {
		b, err := json.Marshal(Status{IKEAbandoned: tc.n})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), tc.want) {
			t.Fatalf("status.json %s lacks %s", b, tc.want)
		}
	}
}

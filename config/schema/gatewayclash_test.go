package schema

import (
	"strings"
	"testing"
)

// gatewayPair is two IKE gateways to one peer address; extra sets them
// apart (or not).
const gatewayPair = `set security ike proposal p1 authentication-method pre-shared-keys
set security ike proposal p1 dh-group group19
set security ike proposal p1 authentication-algorithm sha-256
set security ike proposal p1 encryption-algorithm aes-256-cbc
set security ike policy pol proposals p1
set security ike policy pol pre-shared-key ascii-text "k"
set security ike gateway a ike-policy pol
set security ike gateway a address 198.51.100.1
set security ike gateway a version v2-only
set security ike gateway b ike-policy pol
set security ike gateway b address 198.51.100.1
set security ike gateway b version v2-only
`

// TestGatewaysSharingAPeerAddress: two gateways to one peer address are
// accepted when their local addresses differ (or their IKE versions: two
// engines), and refused, at the second gateway's line and column, when
// nothing but their names sets them apart.
func TestGatewaysSharingAPeerAddress(t *testing.T) {
	for _, tc := range []struct {
		name, extra string
		refused     bool
	}{
		{"different local addresses", "set security ike gateway a local-address 192.0.2.1\nset security ike gateway b local-address 192.0.2.3\n", false},
		{"different versions", "set security ike gateway b version v1-only\n", false},
		{"IKEv1", "set security ike gateway a version v1-only\nset security ike gateway b version v1-only\n" +
			"set security ike gateway a local-address 192.0.2.1\nset security ike gateway b local-address 192.0.2.3\n", true},
		{"same local address", "set security ike gateway a local-address 192.0.2.1\nset security ike gateway b local-address 192.0.2.1\n", true},
		{"no local address", "", true},
		{"a backup address", "set security ike gateway a local-address 192.0.2.1\nset security ike gateway b local-address 192.0.2.1\n" +
			"set security ike gateway b address [ 198.51.100.2 198.51.100.1 ]\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := gatewayPair + tc.extra
			if tc.name == "a backup address" {
				src = strings.Replace(src, "set security ike gateway b address 198.51.100.1\n", "", 1)
			}
			_, err := build(t, src, Options{})
			if !tc.refused {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("two gateways no message tells apart were accepted")
			}
			msg := err.Error()
			// The second gateway's statement: line 10 of the source.
			if !strings.Contains(msg, "t.conf:10:") || !strings.Contains(msg, "IKE gateways a and b both run IKEv") ||
				!strings.Contains(msg, "198.51.100.1") || !strings.Contains(msg, "local-address") {
				t.Fatalf("error: %s", msg)
			}
		})
	}
}

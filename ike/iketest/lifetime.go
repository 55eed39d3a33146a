// Package iketest holds checks that the IKEv1 and IKEv2 engines' tests
// share.
package iketest

import (
	"fmt"
	"time"

	"ipsecgw/ike"
)

// CheckScheduled says what is wrong, if anything, with got as the
// schedule of Child SA c of VPN vpn, born at born with a time lifetime
// of life: removal exactly at the end of life, the rekey between the
// fractions lo and hi of it.
func CheckScheduled(got ike.ScheduledChild, c *ike.ChildSA, vpn string, born time.Time, life time.Duration, lo, hi float64) error {
	if got.InboundSPI != c.InboundSPI || got.OutboundSPI != c.OutboundSPI || got.VPN != vpn {
		return fmt.Errorf("lifetime of %s %#x/%#x, want %s %#x/%#x", got.VPN, got.InboundSPI, got.OutboundSPI, vpn, c.InboundSPI, c.OutboundSPI)
	}
	if want := born.Add(life); !got.ExpireAt.Equal(want) {
		return fmt.Errorf("expires at %v, want %v (%v from its birth)", got.ExpireAt, want, life)
	}
	if soft := got.RekeyAt.Sub(born); soft < time.Duration(lo*float64(life)) || soft > time.Duration(hi*float64(life)) {
		return fmt.Errorf("rekey %v after birth, want %.0f-%.0f %% of %v", soft, lo*100, hi*100, life)
	}
	return nil
}

package iketest

import (
	"strings"
	"testing"
	"time"

	"ipsecgw/ike"
)

func TestCheckScheduled(t *testing.T) {
	born := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &ike.ChildSA{InboundSPI: 1, OutboundSPI: 2}
	good := ike.ScheduledChild{VPN: "v", InboundSPI: 1, OutboundSPI: 2,
		ChildLifetime: ike.ChildLifetime{RekeyAt: born.Add(160 * time.Second), ExpireAt: born.Add(180 * time.Second)}}
	if err := CheckScheduled(good, c, "v", born, 180*time.Second, 0.85, 0.90); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(*ike.ScheduledChild)
		want string
	}{
		{"another VPN", func(s *ike.ScheduledChild) { s.VPN = "w" }, "want v"},
		{"another SPI", func(s *ike.ScheduledChild) { s.InboundSPI = 3 }, "want v 0x1/0x2"},
		{"late removal", func(s *ike.ScheduledChild) { s.ExpireAt = s.ExpireAt.Add(time.Second) }, "expires at"},
		{"early rekey", func(s *ike.ScheduledChild) { s.RekeyAt = born.Add(150 * time.Second) }, "rekey 2m30s"},
		{"late rekey", func(s *ike.ScheduledChild) { s.RekeyAt = born.Add(163 * time.Second) }, "rekey 2m43s"},
	} {
		bad := good
		tc.edit(&bad)
		if err := CheckScheduled(bad, c, "v", born, 180*time.Second, 0.85, 0.90); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}

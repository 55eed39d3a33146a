package dataplane

import (
	"testing"
	"time"

	"ipsecgw/clock"
)

const (
	gB       = 1e9
	tenGbits = 10e9 / 8 // bytes a second
)

// softFiresAt feeds a ByteLimit of soft and hard bytes batches of batch
// bytes at rate bytes a second, by a fake clock, as the data plane's
// flushes do, and returns the byte count at which the soft limit fired
// (0: it did not before hard).
func softFiresAt(t *testing.T, soft, hard uint64, rate float64, batch uint64) uint64 {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	l := ByteLimit{Soft: soft, Hard: hard, OnSoft: func() {}, Clock: clk}
	var st limitState
	per := time.Duration(float64(batch) / rate * float64(time.Second))
	for n := batch; n < hard; n += batch {
		clk.Advance(per)
		l.check(&st, n)
		if st.soft.Load() {
			return n
		}
	}
	return 0
}

// TestSoftBytesKeepsTimeInHand: at 10 Gbit/s, the soft limit of a 100 GB
// SA fires with the traffic of its margin (15 % headroom: 15 s) still in
// hand, where 85 % of the hard limit would leave 12 s; that of a 1 GB SA,
// whose whole lifetime is 0.8 s at that rate, fires at half its soft
// limit (0.34 s in hand, where 85 % left 0.12 s), not at once.
func TestSoftBytesKeepsTimeInHand(t *testing.T) {
	at := softFiresAt(t, 85*gB, 100*gB, tenGbits, 1<<20)
	if left := float64(100*gB-at) / tenGbits; left < 14.9 || left > 15.5 {
		t.Fatalf("100 GB SA at 10 Gbit/s: soft limit fired at %d bytes, %.2f s of traffic before the hard limit; want 15 s", at, left)
	}
	at = softFiresAt(t, 85*gB/100, gB, tenGbits, 64<<10)
	if want := uint64(85 * gB / 200); at < want || at > want+uint64(tenGbits*minRateWindow.Seconds())+gB/rateSteps {
		t.Fatalf("1 GB SA at 10 Gbit/s: soft limit fired at %d bytes, want about %d (half the configured soft limit)", at, want)
	}
}

// TestSoftBytesSlowRateKeepsConfigured: where the margin's traffic fits
// in the headroom, the soft limit is the configured one, to the batch.
func TestSoftBytesSlowRateKeepsConfigured(t *testing.T) {
	const batch = 1 << 20
	for _, rate := range []float64{1e6, 10e6} {
		if at := softFiresAt(t, 85*gB/100, gB, rate, batch); at < 85*gB/100 || at >= 85*gB/100+batch {
			t.Fatalf("1 GB SA at %.0f B/s: soft limit fired at %d bytes, want at 85 %%", rate, at)
		}
	}
}

// TestSoftBytesKeepsJitterAndOrder: at a rate that lowers both, the side
// with the lower (jittered) configured soft limit still fires first, each
// jitter gives its own limit, and the responder's (90-97 %) fires with 3 to
// 10 s in hand.
func TestSoftBytesKeepsJitterAndOrder(t *testing.T) {
	var last uint64
	for _, pct := range []uint64{85, 88, 90, 92, 95, 97} {
		at := softFiresAt(t, pct*gB, 100*gB, tenGbits, 1<<20)
		if at <= last {
			t.Fatalf("soft %d %%: fired at %d, not after %d (the lower soft limit's)", pct, at, last)
		}
		last = at
		want := float64(100-pct) / 100 * headroomSeconds
		if left := float64(100*gB-at) / tenGbits; left < want-0.1 || left > want+0.5 {
			t.Fatalf("soft %d %%: %.2f s in hand, want %.0f s", pct, left, want)
		}
	}
}

func TestSoftBytes(t *testing.T) {
	for _, tc := range []struct {
		soft, hard uint64
		rate       float64
		want       uint64
	}{
		{85, 100, 0, 85},
		{85, 100, 1, 85},              // 15 s of 1 B/s: 15 bytes fit in 15
		{85, 100, 2, 70},              // 30 bytes in hand
		{95, 100, 1, 95},              // 5 s
		{95, 100, 3, 85},              // 15 bytes
		{85, 100, 4, 42},              // 60 bytes: more than to half, half
		{850e6, 1e9, tenGbits, 425e6}, // a 1 GB SA at 10 Gbit/s
		{85e9, 100e9, tenGbits, 81_250_000_000},
	} {
		if got := softBytes(tc.soft, tc.hard, tc.rate); got != tc.want {
			t.Errorf("softBytes(%d, %d, %g) = %d, want %d", tc.soft, tc.hard, tc.rate, got, tc.want)
		}
	}
}

// TestSoftBytesNoHard: a soft limit without a hard one (nothing to keep
// time in hand for) stays the configured one, whatever the rate.
func TestSoftBytesNoHard(t *testing.T) {
	clk := clock.NewFake(time.Unix(0, 0))
	l := ByteLimit{Soft: 1000, OnSoft: func() {}, Clock: clk}
	var st limitState
	for n := uint64(100); n < 1000; n += 100 {
		clk.Advance(time.Microsecond)
		if l.check(&st, n); st.soft.Load() {
			t.Fatalf("soft limit of 1000 fired at %d", n)
		}
	}
	if l.check(&st, 1000); !st.soft.Load() {
		t.Fatal("soft limit of 1000 did not fire at 1000")
	}
}

// BenchmarkByteLimitCheck is a flush's limit check of an SA far from its
// limits, as at almost every batch.
func BenchmarkByteLimitCheck(b *testing.B) {
	l := ByteLimit{Soft: 850 << 20, Hard: 1 << 30, OnSoft: func() {}, OnHard: func() {}}
	var st limitState
	for i := range b.N {
		l.check(&st, uint64(i&0xffff)<<6)
	}
}

// TestLifesize: what the show commands get is where the rekey will start:
// at 10 Gbit/s a 100 GB SA's soft limit is 15 s of traffic before the
// hard one, below the configured 85 GB; at 1 MB/s the configured one; an
// SA without limits has none.
func TestLifesize(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	l := ByteLimit{Soft: 85 * gB, Hard: 100 * gB, OnSoft: func() {}, Clock: clk}
	var st limitState
	const batch = 1 << 20
	n := uint64(0)
	for range 2 * rateSteps {
		n += gB / rateSteps
		clk.Advance(time.Duration(float64(gB/rateSteps) / tenGbits * float64(time.Second)))
		l.check(&st, n)
	}
	s := lifesize(&l, &st, n)
	if want := uint64(100*gB - 15*tenGbits); s.Carried != n || s.Hard != 100*gB || s.Configured != 85*gB || s.Soft < want-batch || s.Soft > want+batch {
		t.Fatalf("at 10 Gbit/s: %+v, want the soft limit at %d", s, want)
	}
	var slow limitState
	l.check(&slow, 1)
	clk.Advance(time.Second)
	l.check(&slow, gB/rateSteps+1)
	if s := lifesize(&l, &slow, gB/rateSteps+1); s.Soft != 85*gB {
		t.Fatalf("at 4 MB/s: %+v, want the configured soft limit", s)
	}
	if s := lifesize(&ByteLimit{}, &limitState{}, 5); s != (Lifesize{Carried: 5}) {
		t.Fatalf("no limits: %+v", s)
	}
}

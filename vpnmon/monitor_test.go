package vpnmon

import (
	"sync"
	"testing"
	"time"

	"ipsecgw/clock"
)

// fakeEnv is a tunnel whose peer answers echoes while answering is true.
type fakeEnv struct {
	mu       sync.Mutex
	m        *Monitor
	sas      SAs
	answer   bool
	probes   []uint16
	downs    int
	ups      int
	incoming uint64 // packets that arrive per probe answered
}

func (e *fakeEnv) SAs(string) SAs {
	e.mu.Lock()
	defer e.mu.Unlock()
	return SAs{SPIs: append([]uint32(nil), e.sas.SPIs...), Received: e.sas.Received}
}

func (e *fakeEnv) Probe(vpn string, seq uint16) error {
	e.mu.Lock()
	e.probes = append(e.probes, seq)
	answer := e.answer
	if answer {
		e.sas.Received++ // the reply is a packet decrypted like any other
	}
	e.mu.Unlock()
	if answer {
		e.m.Reply(vpn, seq)
	}
	return nil
}

func (e *fakeEnv) Down(string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.downs++
	e.sas = SAs{} // the SAs are cleared
}

func (e *fakeEnv) Up(string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ups++
}

func (e *fakeEnv) set(f func(e *fakeEnv)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f(e)
}

func (e *fakeEnv) counts() (probes, downs, ups int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.probes), e.downs, e.ups
}

func setup(optimized bool) (*clock.Fake, *fakeEnv, *Monitor) {
	c := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	env := &fakeEnv{sas: SAs{SPIs: []uint32{0x1001}}, answer: true}
	m := New(c, env)
	env.m = m
	m.Configure([]Config{{VPN: "v", Optimized: optimized, Interval: 10 * time.Second, Threshold: 3}})
	return c, env, m
}

// TestDownAfterThresholdAndBack: echoes answered keep the VPN up; after
// three unanswered ones it is down once, its SAs cleared; SAs it has not
// seen before bring it back.
func TestDownAfterThresholdAndBack(t *testing.T) {
	c, env, m := setup(false)
	c.Advance(35 * time.Second) // ticks at 10, 20, 30: three echoes, answered
	if p, d, _ := env.counts(); p != 3 || d != 0 {
		t.Fatalf("probes %d downs %d", p, d)
	}
	if st := m.Status()["v"]; st.State != StateUp || st.Sent != 3 || st.Replies != 3 || st.Misses != 0 {
		t.Fatalf("status %+v", st)
	}
	env.set(func(e *fakeEnv) { e.answer = false })
	// 40: the echo of 30 was answered, a fourth goes out unanswered; 50,
	// 60: misses 1, 2; 70: miss 3, down.
	c.Advance(30 * time.Second)
	if st := m.Status()["v"]; st.State != StateUp || st.Misses != 2 {
		t.Fatalf("after two misses: %+v", st)
	}
	c.Advance(10 * time.Second)
	st := m.Status()["v"]
	if _, d, _ := env.counts(); d != 1 || st.State != StateDown || st.Downs != 1 {
		t.Fatalf("after three misses: downs %d, %+v", d, st)
	}
	// Down: no echoes while no SA; the same SA coming back is not new.
	p0, _, _ := env.counts()
	env.set(func(e *fakeEnv) { e.sas.SPIs = []uint32{0x1001} })
	c.Advance(30 * time.Second)
	if p, d, u := env.counts(); p != p0 || d != 1 || u != 0 || m.Status()["v"].State != StateDown {
		t.Fatalf("while down: probes %d→%d downs %d ups %d", p0, p, d, u)
	}
	env.set(func(e *fakeEnv) { e.sas.SPIs = []uint32{0x2002}; e.answer = true })
	c.Advance(10 * time.Second)
	if _, _, u := env.counts(); u != 1 || m.Status()["v"].State != StateUp {
		t.Fatalf("new SA: ups %d, %+v", u, m.Status()["v"])
	}
	c.Advance(60 * time.Second)
	if _, d, _ := env.counts(); d != 1 || m.Status()["v"].Misses != 0 {
		t.Fatalf("after coming back: downs %d, %+v", d, m.Status()["v"])
	}
}

// TestOptimizedProbesOnlyWithoutTraffic: with optimized, packets coming in
// count as answers and no echo is sent; without them echoes go out, and
// unanswered they bring the VPN down.
func TestOptimizedProbesOnlyWithoutTraffic(t *testing.T) {
	c, env, m := setup(true)
	for range 5 {
		env.set(func(e *fakeEnv) { e.sas.Received += 100 })
		c.Advance(10 * time.Second)
	}
	if p, _, _ := env.counts(); p != 0 {
		t.Fatalf("%d echoes sent while traffic came in", p)
	}
	env.set(func(e *fakeEnv) { e.answer = false })
	c.Advance(40 * time.Second)
	p, d, _ := env.counts()
	if p != 3 || d != 1 || m.Status()["v"].State != StateDown {
		t.Fatalf("probes %d downs %d %+v", p, d, m.Status()["v"])
	}
}

// TestNoSAIsNoMiss: a VPN without SAs (not negotiated yet) is not probed
// and not declared down.
func TestNoSAIsNoMiss(t *testing.T) {
	c, env, m := setup(false)
	env.set(func(e *fakeEnv) { e.sas = SAs{}; e.answer = false })
	c.Advance(10 * time.Minute)
	if p, d, _ := env.counts(); p != 0 || d != 0 || m.Status()["v"].State != StateUp {
		t.Fatalf("probes %d downs %d", p, d)
	}
}

// TestReconfigure: a late or wrong reply counts for nothing; a VPN
// configured away is no longer probed.
func TestReconfigure(t *testing.T) {
	c, env, m := setup(false)
	env.set(func(e *fakeEnv) { e.answer = false })
	c.Advance(10 * time.Second)
	m.Reply("v", 99)
	m.Reply("other", 1)
	if st := m.Status()["v"]; st.Replies != 0 {
		t.Fatalf("wrong reply counted: %+v", st)
	}
	m.Configure(nil)
	c.Advance(time.Minute)
	if p, _, _ := env.counts(); p != 1 || len(m.Status()) != 0 {
		t.Fatalf("probes %d after removal, status %v", p, m.Status())
	}
}

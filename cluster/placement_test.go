package cluster

import "testing"

func TestPreferred(t *testing.T) {
	g := srg(1, true, map[int]int{1: 200, 2: 100})
	v := &view{live: map[int]bool{1: true, 2: true, 3: true}, owners: map[int]owner{}, avoid: map[int]int{}}
	if p := preferred(g, v); p != 1 {
		t.Fatalf("highest priority: %d", p)
	}
	v.avoid[1] = 1
	if p := preferred(g, v); p != 2 {
		t.Fatalf("avoided node still preferred: %d", p)
	}
	delete(v.live, 2)
	delete(v.live, 3)
	if p := preferred(g, v); p != 1 {
		t.Fatalf("the avoided node is the last choice, not none: %d", p)
	}
	// Equal priorities: fewest groups, then lowest ID.
	eq := srg(5, false, nil)
	v = &view{live: map[int]bool{1: true, 2: true, 3: true}, owners: map[int]owner{
		7: {node: 1}, 8: {node: 1}, 9: {node: 2},
	}, avoid: map[int]int{}}
	if p := preferred(eq, v); p != 3 {
		t.Fatalf("least loaded: %d", p)
	}
	// A group's own ownership does not count against its owner.
	v.owners[5] = owner{node: 3}
	if p := preferred(eq, v); p != 3 {
		t.Fatalf("own group counted: %d", p)
	}
	if p := preferred(eq, &view{live: map[int]bool{}}); p != 0 {
		t.Fatalf("no live node: %d", p)
	}
}

func TestPreempts(t *testing.T) {
	g := srg(1, true, map[int]int{1: 200, 2: 100})
	v := &view{live: map[int]bool{1: true, 2: true}, owners: map[int]owner{1: {node: 2}}, avoid: map[int]int{}}
	if to, ok := preempts(g, v); !ok || to != 1 {
		t.Fatalf("preempts: %d %v", to, ok)
	}
	v.avoid[1] = 1
	if _, ok := preempts(g, v); ok {
		t.Fatal("preempted back after a manual failover")
	}
	delete(v.avoid, 1)
	g.Preemption = false
	if _, ok := preempts(g, v); ok {
		t.Fatal("preempted without preemption")
	}
	g.Preemption, g.Priority = true, map[int]int{1: 100, 2: 100}
	if _, ok := preempts(g, v); ok {
		t.Fatal("preempted for an equal priority")
	}
}

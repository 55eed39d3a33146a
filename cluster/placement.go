package cluster

import (
	"cmp"
	"maps"
	"slices"

	"ipsecgw/config/schema"
)

// view is what etcd says about the cluster at one revision.
type view struct {
	live   map[int]bool
	owners map[int]owner // SRG → owner
	avoid  map[int]int   // SRG → node a manual failover moved it from
	move   map[int]bool  // SRG → a failover was requested
}

type owner struct {
	node  int
	rev   int64 // ModRevision: the fencing token
	lease int64
}

// load is how many groups each node owns.
func (v *view) load() map[int]int {
	l := map[int]int{}
	for _, o := range v.owners {
		l[o.node]++
	}
	return l
}

// preferred returns the live node that should own g, or 0: the highest
// activeness-priority, then the fewest groups owned (groups spread over
// the nodes: active/active), then the lowest ID. A node a manual failover
// moved g away from is the last choice.
func preferred(g *schema.SRG, v *view) int {
	load := v.load()
	if o, ok := v.owners[g.ID]; ok {
		load[o.node]-- // g itself does not count against its owner
	}
	var cands []int
	for id := range v.live {
		cands = append(cands, id)
	}
	slices.SortFunc(cands, func(a, b int) int {
		if av, bv := v.avoid[g.ID] == a, v.avoid[g.ID] == b; av != bv {
			if av {
				return 1
			}
			return -1
		}
		if c := cmp.Compare(g.Priority[b], g.Priority[a]); c != 0 {
			return c
		}
		if c := cmp.Compare(load[a], load[b]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	if len(cands) == 0 {
		return 0
	}
	return cands[0]
}

// preempts reports whether the owner of g should hand it to a live node
// with a strictly higher activeness-priority (g has preemption, and no
// manual failover moved it away from that node).
func preempts(g *schema.SRG, v *view) (to int, ok bool) {
	o, owned := v.owners[g.ID]
	if !g.Preemption || !owned {
		return 0, false
	}
	best := preferred(g, v)
	if best == 0 || best == o.node || v.avoid[g.ID] == best || g.Priority[best] <= g.Priority[o.node] {
		return 0, false
	}
	return best, true
}

func sortedKeys[V any](m map[int]V) []int { return slices.Sorted(maps.Keys(m)) }

func sortMembers(ms []Member) {
	slices.SortFunc(ms, func(a, b Member) int { return cmp.Compare(a.ID, b.ID) })
}

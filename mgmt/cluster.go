package mgmt

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"ipsecgw/config"
	"ipsecgw/config/schema"
	"ipsecgw/daemon"
	"ipsecgw/metrics"
	"ipsecgw/mgmt/mgmtpb"
	"ipsecgw/show"
)

// clusterShow answers the chassis high-availability commands; ok is false
// for every other command.
func (s opService) clusterShow(ctx context.Context, req *mgmtpb.ShowRequest) (reply *show.Reply, ok bool, err error) {
	switch req.Command.(type) {
	case *mgmtpb.ShowRequest_ChassisHighAvailability:
		info, err := s.d.ClusterInfo(ctx)
		if err != nil {
			return nil, true, clusterError(err)
		}
		r := haReply(info)
		return &r, true, nil
	}
	return nil, false, nil
}

// clusterRequest answers "request chassis high-availability failover
// services-redundancy-group N"; ok is false for every other request.
func (s opService) clusterRequest(ctx context.Context, words []string) (out string, ok bool, err error) {
	if len(words) == 0 || words[0] != "chassis" {
		return "", false, nil
	}
	if len(words) != 5 || words[1] != "high-availability" || words[2] != "failover" || words[3] != "services-redundancy-group" {
		return "", true, status.Errorf(codes.InvalidArgument, "error: unknown request %q", strings.Join(words, " "))
	}
	srg, err := strconv.Atoi(words[4])
	if err != nil || srg < 1 {
		return "", true, status.Errorf(codes.InvalidArgument, "error: %q is not a services-redundancy-group", words[4])
	}
	fctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	to, err := s.d.Failover(fctx, srg)
	if err != nil {
		return "", true, clusterError(err)
	}
	return fmt.Sprintf("Initiated manual failover for services-redundancy-group %d: node %d is active\n", srg, to), true, nil
}

func clusterError(err error) error {
	if errors.Is(err, daemon.ErrNotClustered) {
		return status.Error(codes.FailedPrecondition, "error: "+err.Error())
	}
	return status.Error(codes.Unavailable, "error: "+err.Error())
}

// haReply lists every configured node and every live one, with the groups
// each owns.
func haReply(info *daemon.ClusterInfo) show.Reply {
	nodes := map[int]*show.HANode{}
	get := func(id int) *show.HANode {
		if nodes[id] == nil {
			nodes[id] = &show.HANode{ID: id, Local: id == info.NodeID}
		}
		return nodes[id]
	}
	get(info.NodeID)
	if info.HA != nil {
		for _, n := range info.HA.Nodes {
			if n.Address.IsValid() {
				get(n.ID).Address = n.Address.String()
			} else {
				get(n.ID)
			}
		}
	}
	for _, m := range info.Status.Members {
		n := get(m.ID)
		n.Alive = true
		if n.Address == "" {
			n.Address = m.Address
		}
	}
	for srg, owner := range info.Status.Owners {
		get(owner).SRGs = append(get(owner).SRGs, srg)
	}
	var list []show.HANode
	for _, id := range slices.Sorted(maps.Keys(nodes)) {
		slices.Sort(nodes[id].SRGs)
		list = append(list, *nodes[id])
	}
	var srgs []show.HASRG
	if info.HA != nil {
		for _, g := range info.HA.SRGs {
			x := show.HASRG{ID: g.ID, Owner: info.Status.Owners[g.ID], Token: info.Status.Tokens[g.ID],
				Preemption: g.Preemption, Priority: g.Priority}
			for _, v := range g.VirtualIPs {
				x.VirtualIPs = append(x.VirtualIPs, v.Prefix.String()+" on "+v.Interface)
			}
			srgs = append(srgs, x)
		}
	}
	return show.ChassisHighAvailability(list, srgs)
}

// withInheritance is the tree "| display inheritance" prints: apply-groups
// applied for this node, inherited statements marked.
func withInheritance(d *daemon.Daemon, t *config.Tree, f mgmtpb.ConfigFormat) (*config.Tree, error) {
	if f != mgmtpb.ConfigFormat_INHERITANCE {
		return t, nil
	}
	x, err := config.Inherit(t, schema.NodeGroup(d.NodeID()))
	if err != nil {
		return nil, status.Error(codes.FailedPrecondition, editError(err))
	}
	return x, nil
}

// clusterMetrics counts ownership changes and shows which groups this node
// is active for, from the daemon's srg-active and srg-standby events.
func clusterMetrics(m *metrics.Metrics, d *daemon.Daemon) {
	changes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ipsecgw_cluster_srg_changes_total",
		Help: "Services redundancy group ownership changes on this node, by change: active (it became the owner) or standby (it stopped).",
	}, []string{"change"})
	active := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ipsecgw_cluster_srg_active",
		Help: "1 while this node owns the services redundancy group, 0 after it stopped.",
	}, []string{"srg"})
	for _, c := range []string{"active", "standby"} {
		changes.WithLabelValues(c)
	}
	resumes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ipsecgw_cluster_sa_resumes_total",
		Help: "IKE SAs of a services redundancy group this node took over, by result: resumed (carried on from the previous owner's state) or failed (negotiated again).",
	}, []string{"result"})
	for _, r := range []string{"resumed", "failed"} {
		resumes.WithLabelValues(r)
	}
	reinits := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ipsecgw_cluster_sa_reinitiations_total",
		Help: "Tunnels of a services redundancy group this node took over and negotiated at once instead of resuming, by cause: state-unavailable, state-unreadable, resume-failed, no-state (daemon/hareinit.go).",
	}, []string{"cause"})
	for _, c := range []string{"state-unavailable", "state-unreadable", "resume-failed", "no-state"} {
		reinits.WithLabelValues(c)
	}
	fences := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ipsecgw_cluster_fence_changes_total",
		Help: "This node fencing itself (fenced: its lease may have expired, every group stopped) and a renewal of the same lease ending the fence (unfenced: its groups start again, SAs resumed), by change.",
	}, []string{"change"})
	for _, c := range []string{"fenced", "unfenced"} {
		fences.WithLabelValues(c)
	}
	m.Registry().MustRegister(changes, active, resumes, reinits, fences)
	d.Events().OnEvent(func(e daemon.Event) {
		switch e.Kind {
		case "sa-reinitiated":
			reinits.WithLabelValues(e.Cause).Inc()
		case "sa-resumed":
			resumes.WithLabelValues("resumed").Inc()
		case "sa-resume-failed":
			resumes.WithLabelValues("failed").Inc()
		case "cluster-fenced":
			fences.WithLabelValues("fenced").Inc()
		case "cluster-unfenced":
			fences.WithLabelValues("unfenced").Inc()
		case "srg-active":
			changes.WithLabelValues("active").Inc()
			active.WithLabelValues(strconv.Itoa(e.SRG)).Set(1)
		case "srg-standby":
			changes.WithLabelValues("standby").Inc()
			active.WithLabelValues(strconv.Itoa(e.SRG)).Set(0)
		}
	})
}

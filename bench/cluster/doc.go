// Package cluster is the scale-out half of `make bench-cluster` (`ipsecgw
// bench cluster`): the same services redundancy groups (SRGs) and the same
// load on a cluster of 1, then 2, then 3 ipsecgw nodes sharing one etcd,
// to show that the groups spread over the nodes (active/active, by
// activeness-priority) and to measure what that is worth: IKEv2 tunnels
// set up per second, and TCP traffic through tunnels of every group.
//
// Each step builds its own namespaces on one bridge (topology.go) with
// Debian's etcd-server in one of them, the nodes, a load generator and a
// traffic peer; it starts etcd, node 1 with the configuration (layout.go)
// and the other nodes without one (they take the cluster's), waits until
// every group's virtual IP is on the node its priorities name, and then
// measures:
//
//   - setup: bench/ike's generator (ipsecgw's own IKEv2 initiator, in this
//     process) opens N tunnels round-robin over the groups, one IKE
//     gateway per group whose local-address is the group's virtual IP;
//     each node's own count of IKE SAs shows where they landed;
//   - traffic: an ipsecgw peer daemon brings up one more tunnel per group,
//     and one iperf3 TCP flow per group runs through them at once, from
//     the peer to the owner's st0 address.
//
// The figures are ratios between steps of one run (2 nodes / 1, 3 / 1):
// every process of every step shares the machine's cores, so on a 2-core
// machine the scale-out cannot be linear; what grows is the number of
// gateway processes, not the CPU under them.
//
// Every process is stopped by its PID and every namespace removed when a
// step ends, on failure too (and a run killed outright leaves namespaces
// the next run sweeps). Needs root; without it the command says so and
// exits 0.
package cluster

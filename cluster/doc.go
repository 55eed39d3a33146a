// Package cluster joins ipsecgw nodes into one gateway on etcd: a shared
// committed configuration, node membership, and ownership of services
// redundancy groups (SRGs). etcd does the agreement (leases, transactions
// with compares, watches); this package writes none of its own.
//
// What lives in etcd, under /ipsecgw/:
//
//	config/head          the number of the committed configuration
//	config/commit/NNN    each committed configuration (the last 50: rollbacks)
//	config/confirm       the pending commit confirmed: its commit and its
//	                     deadline; any live node rolls it back (confirm.go)
//	node/N               node N's membership, bound to its lease
//	srg/N/owner          the node owning SRG N, bound to that node's lease;
//	                     its ModRevision is the owner's fencing token
//	srg/N/avoid          the node a manual failover moved SRG N away from
//	srg/N/failover       a request to move SRG N, answered by its owner
//	sa/N/NAME            SA state of SRG N (SAStore): sealed with the cluster
//	                     key, written only under the owner's fencing token
//
// One lease per node carries both its membership and its ownerships, so a
// node's SRGs are free exactly when it is no longer a member.
//
// # SAs that survive a node
//
// The owner of an SRG keeps, per IKEv2 SA of the group (daemon/hasync.go,
// ike/ikev2/export.go), two records under sa/N/ (IKEv1: below):
//
//	ike/SPIi-SPIr  the IKE SA and its Child SAs: SPIs, the seven IKE keys
//	               and the ESP keys (sealed, as every record), algorithms,
//	               addresses and ports (NAT-T), traffic selectors, when the
//	               SAs were born (the lifetimes and rekeys run from there),
//	               the message IDs, each outbound SA's sequence high-water
//	               mark and each inbound SA's replay edge. Written when it is
//	               new or its keys, Child SAs or high-water marks change, and
//	               otherwise at most once a minute.
//	mid/SPIi-SPIr  our last request on the IKE SA as it was sent, whole or
//	               all its fragments (RFC 7383), written before it goes
//	               out (RequestLog).
//
// ESP sequence numbers: the high-water mark written is a step (2^20) ahead
// of the outbound SA's counter and moves again when the counter comes
// within half a step, so a survivor continuing above it sends nothing the
// peer already saw (at most one write per 2^19 packets per SA). Without
// ESN the survivor also rekeys the Child SA at once, on the resumed IKE SA.
// The packet path drives it (dataplane/seqmark.go, daemon/haseq.go):
// each outbound SA carries the mark last confirmed written and a kick
// point half a step below it; the packet that reaches the kick point
// signals the sync (a non-blocking send, once per mark), which writes the
// next mark at once, whatever the packet rate; a loop every 200 ms does
// the rest. The owner never sends above the mark confirmed written: an SA
// whose write has not landed by the time it gets there holds its packets
// (counted as sequence-held) until it has: safety over flow, since two
// nodes sending the same sequence number under one key reuse an AES-GCM
// nonce (the IV is the sequence number), which no later rekey repairs.
// Traffic stops only when etcd cannot take one small write in the time
// the SA sends 2^19 packets (half a second at a million packets a
// second); an etcd that slow fences the owner within a lease TTL anyway.
// A resumed Child SA waits at the mark it was resumed at until the new
// owner has written its own (one write, at once, after the import): a
// second failover before that would otherwise start below it.
// The inbound window starts at the edge last written: packets the old
// owner accepted since then could be replayed to the survivor once; the
// edge is at most a minute old.
//
// Message IDs without a write per message where there can be none:
//   - The peer's requests (its DPD probes, its rekeys) cost no write. A
//     resumed SA accepts the first request of the peer that authenticates
//     at or above the ID it has, and carries on from it. A request the old
//     owner answered and the peer sends again is then answered anew.
//   - Our requests are written before they are sent, but many at a time:
//     the RequestLog queues each one and writes all that are waiting, of
//     all IKE SAs of the group, in one transaction, then sends them. A
//     retransmission is not written again. Writes per second are our
//     requests per second (one per DPD probe, rekey or delete); the
//     transactions stay few because requests wait together.
//   - The survivor resends the recorded request byte for byte when its ID
//     is at or above the one exported: if the old owner's request never
//     reached the peer, this is it; if it did, the peer answers it from
//     its cache, as for any retransmission (RFC 7296 §2.1; strongSwan
//     recognises a retransmission by a hash of the whole message, which is
//     why the request is kept whole, not only its ID). Either way the next
//     ID is one more, and no message is in doubt after the first answer.
//     Without such a request, an empty INFORMATIONAL with the exported ID
//     does the same. No answer ends the SA like a dead peer and the tunnel
//     negotiates again.
//   - A request in doubt that was a CREATE_CHILD_SA: the survivor resends
//     it but cannot use the answer (the old owner's nonce and key share
//     died with it); the peer may hold a Child SA the survivor does not
//     know until it expires. Rare (a rekey in flight at the crash) and
//     not fatal: the survivor rekeys its Child SAs itself.
//
// Measured (BenchmarkDPDWrites, make bench-cluster: 1,000 IKEv2 tunnels,
// DPD always-send on both sides, embedded etcd on a shared 2-core machine):
// at a 2 s interval about 500 records written per second in 8-13
// transactions; at the Junos default of 10 s (IPSECGW_BENCH_DPD=10) about
// 80 records a second in 2 transactions, per 1,000 tunnels: one record per
// probe of ours, none for the peer's. To that add at most 17 records a
// second per 1,000 tunnels for the once-a-minute refresh of the IKE SA
// records (not in the benchmark), and one per 2^19 ESP packets per SA.
//
// IKEv1 (ike/ikev1/export.go, daemon/hasyncv1.go) keeps one record per
// ISAKMP SA and none per message:
//
//	v1/CKYI-CKYR   the ISAKMP SA and its IPsec SAs: cookies, role,
//	               SKEYID_d/a/e (sealed), the phase 1 proposal, the last
//	               phase 1 IV, NAT-T state and ports, the phase 1 and IPsec
//	               SAs' rekey and expiry deadlines, SPIs, keys, selectors,
//	               the ESP high-water marks and inbound edges as for IKEv2,
//	               and a DPD mark. Written as the IKEv2 record is.
//
// IKEv1's message IDs are random, one per exchange, and no exchange
// depends on the one before: every Informational exchange and every new
// Quick Mode starts its CBC chain from hash(last phase 1 IV | Message ID)
// (RFC 2409 App. B), so the last phase 1 IV and SKEYID_a/e are all a
// survivor needs to answer the peer's R-U-THERE, DELETE or Quick Mode and
// to send its own. Nothing is written before a message is sent (the
// RequestLog passes IKEv1 messages straight through):
//   - DPD: the peer's R-U-THERE sequence numbers are answered whatever they
//     are. Ours continue above the DPD mark, written 2^9 ahead of our last
//     R-U-THERE and moved when the sequence comes within half of that (a
//     write every 256 probes at most), so they keep growing (RFC 3706 §7)
//     across a takeover. strongSwan answers any sequence number and counts
//     only the exact next one as a sign of life, which its own probes and
//     our answers give it anyway.
//   - A Quick Mode of ours in flight at the crash is let fail: the
//     survivor rekeys every IPsec SA at once on import (no ESN in IKEv1:
//     its sequence numbers jumped), which restarts it. The peer's half of
//     it (message 2 sent, no message 3) times out there.
//   - A Quick Mode of the peer in flight at the crash (our message 2
//     sent, its message 3 not yet handled) is lost: the survivor cannot
//     open message 3 (its IV chain died with the old owner), and the peer
//     installs a pair the survivor does not know and sends on it. The
//     survivor's own rekey, started on import, gives both sides a newer
//     pair, which the peer then sends on; the unknown pair idles until it
//     expires. The window is one round trip per peer rekey; recording the
//     exchange before message 2 would cost an etcd round trip on every
//     peer rekey.
//   - Phase 1 and IPsec SA rekeys and expiries run from the deadlines
//     stored, so a survivor rekeys when the old owner would have.
//
// A takeover: the new owner loads the group's records before it starts
// the group's VPNs (in attempts within 2 s: an etcd blip costs a retry,
// not the resume; daemon/haload.go), holds back their initiation, imports the IKE SAs into
// its engine and the Child SAs into its data plane once the VPNs are in,
// and negotiates at once for any it cannot resume (no record yet, a record
// it cannot open or install, etcd unreachable), with an event and a metric
// giving the cause (daemon/hareinit.go). A hand-over (manual
// failover, preemption, leaving) writes the records once more first, and
// the old owner forgets its SAs without a DELETE.
package cluster

import "time"

// DefaultLeaseTTL is the lease TTL when none is configured.
const DefaultLeaseTTL = 2 * time.Second

const (
	prefix       = "/ipsecgw/"
	configHead   = prefix + "config/head"
	configCommit = prefix + "config/commit/"
	nodePrefix   = prefix + "node/"
	srgPrefix    = prefix + "srg/"
)

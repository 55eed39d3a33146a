package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"ipsecgw/cluster"
	"ipsecgw/config/schema"
	"ipsecgw/ike"
	"ipsecgw/ike/ikev2"
)

// SA state of the services redundancy groups this node owns, kept in etcd
// (cluster.SAStore: sealed with the cluster key, fenced by the group's
// token) so that the node taking a group over carries its IKE and Child
// SAs on without a negotiation (ike/ikev2/export.go). See cluster/doc.go
// for the scheme; in short, per IKE SA:
//
//	sa/SRG/ike/SPIi-SPIr  the exported State: written when it is new or its
//	                      keys, Child SAs or ESP high-water marks change,
//	                      and at most every haRefresh for the rest
//	sa/SRG/mid/SPIi-SPIr  our latest request as sent (its message ID in
//	                      its header), written before it goes out
//	                      (cluster.RequestLog), many SAs' in one transaction
//
// A node without the cluster key file in its state directory keeps no SA
// state: a failover then negotiates the tunnels again.

const (
	haSyncEvery = 200 * time.Millisecond
	// haRefresh bounds how stale the volatile parts of a record (the
	// message IDs it was exported with, the inbound replay edge) get when
	// nothing else changes.
	haRefresh = 60 * time.Second
	// seqStep is how far ahead of the outbound sequence number the
	// high-water mark is written; it is written again when the sequence
	// comes within half a step of it. A survivor continues above it.
	seqStep = 1 << 20
)

// haSync keeps the SA state of the groups this node owns in etcd.
type haSync struct {
	d     *Daemon
	c     *clusterState
	store *cluster.SAStore
	kick  chan struct{}
	reqs  *cluster.RequestLog
	stop  context.CancelFunc
	wg    sync.WaitGroup

	syncMu sync.Mutex // one syncOnce at a time (the loop, a hand-over)

	mu      sync.Mutex
	vips    map[netip.Addr]int           // virtual IP → SRG
	written map[int]map[string]haWritten // SRG → record → what was written
	hw      map[uint32]uint64            // outbound SPI → high-water mark written
	pending map[int]*haResume            // SRG → a takeover being applied

	v1 haSyncV1 // the IKEv1 SAs' records (hasyncv1.go), under mu
}

type haWritten struct {
	sig  string // the record without its volatile fields
	full string // the whole record
	at   time.Time
}

// haResume is what a takeover loaded, until the daemon applied it.
type haResume struct {
	states  []ikev2.State
	skipped map[haPeer]bool // peers whose initiation waits for the import (hapeer.go)

	loadErr    error // the records could not be loaded (etcd unreachable)
	unreadable int   // records that could not be opened or decoded
}

// startHASync starts keeping SA state when the state directory holds the
// cluster key.
func (d *Daemon) startHASync(cfg *schema.Config) {
	c := d.cluster
	path := filepath.Join(d.opts.StateDir, cluster.ClusterKeyFile)
	key, err := cluster.LoadClusterKey(path)
	if err != nil {
		d.log.Warn("IKE and IPsec SA state is not kept in etcd: a failover negotiates the tunnels again", "err", err)
		return
	}
	store, err := cluster.NewSAStore(c.cli, key)
	clear(key)
	if err != nil {
		d.log.Warn("IKE and IPsec SA state is not kept in etcd", "err", err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &haSync{d: d, c: c, store: store, kick: make(chan struct{}, 1), stop: cancel,
		written: map[int]map[string]haWritten{}, hw: map[uint32]uint64{}, pending: map[int]*haResume{}}
	s.reqs = cluster.NewRequestLog(store, d.ikeTransport, s.groupOf, d.log.With("subsystem", "cluster"))
	s.setConfig(cfg)
	s.wg.Add(2)
	go s.loop(ctx)
	go func() { defer s.wg.Done(); s.reqs.Run(ctx) }()
	c.sync.Store(s)
	d.engine.SetSequenceKick(s.kick) // haseq.go
}

// stopHASync stops the loops (after the node left: its hand-overs flush).
func (c *clusterState) stopHASync() {
	if s := c.sync.Swap(nil); s != nil {
		s.stop()
		s.wg.Wait()
	}
}

// setConfig records the virtual IPs of a committed configuration.
func (s *haSync) setConfig(cfg *schema.Config) {
	vips := map[netip.Addr]int{}
	if cfg != nil && cfg.HA != nil {
		for _, g := range cfg.HA.SRGs {
			for _, v := range g.VirtualIPs {
				vips[v.Prefix.Addr()] = g.ID
			}
		}
	}
	s.mu.Lock()
	s.vips = vips
	s.mu.Unlock()
}

// groupOf is the SRG whose virtual IP a is, and that group's token when
// this node owns it.
func (s *haSync) groupOf(a netip.Addr) (srg int, token int64, owned bool) {
	s.mu.Lock()
	srg, ok := s.vips[a]
	s.mu.Unlock()
	if !ok {
		return 0, 0, false
	}
	s.c.mu.Lock()
	token, owned = s.c.owned[srg]
	s.c.mu.Unlock()
	return srg, token, owned
}

func (s *haSync) poke() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *haSync) loop(ctx context.Context) {
	defer s.wg.Done()
	t := time.NewTicker(haSyncEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		s.syncOnce(sctx, 0, false)
		cancel()
	}
}

// exporter is the IKEv2 engine, the one that exports and imports SAs.
type exporter interface {
	Export(match func(local netip.Addr) bool) []ikev2.State
	Import(st ikev2.State) error
	Forget(match func(local netip.Addr) bool) int
}

func (s *haSync) engine() (exporter, *installer) { return haEngine[exporter](s.d, 2) }

// haEngine is the IKE engine of version v as X, the interface through
// which its SAs are exported and imported, and its installer; nil when
// there is no such engine.
func haEngine[X any](d *Daemon, v int) (X, *installer) {
	var none X
	e := d.ikeEngine(v)
	if e == nil {
		return none, nil
	}
	x, ok := e.ikeCore.(X)
	if !ok {
		return none, nil
	}
	return x, e.installer
}

// syncOnce writes what changed of the SAs of the groups this node owns
// (only: that group alone; force: every record, volatile fields too) and
// deletes the records of SAs that ended.
func (s *haSync) syncOnce(ctx context.Context, only int, force bool) {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	defer s.syncV1(ctx, only, force) // hasyncv1.go
	owned := s.ownedGroups(only)
	eng, inst := s.engine()
	if eng == nil || len(owned) == 0 {
		return
	}
	s.mu.Lock()
	vips := s.vips
	s.mu.Unlock()
	bySRG := map[int][]ikev2.State{}
	live := map[uint32]bool{}
	for _, st := range eng.Export(func(a netip.Addr) bool { _, ok := owned[vips[a]]; return ok }) {
		s.sequences(inst, &st)
		bySRG[vips[st.Local.Addr()]] = append(bySRG[vips[st.Local.Addr()]], st)
		for _, c := range st.Children {
			live[c.OutSPI] = true
		}
	}
	if only == 0 {
		s.forgetMarks(s.hw, live)
	}
	now := time.Now()
	put := func(g int, tok int64, w map[string]haWritten) map[string]bool {
		seen := map[string]bool{}
		for _, st := range bySRG[g] {
			name := "ike/" + st.Name()
			seen[name] = true
			sig := signature(st)
			s.mu.Lock()
			last, ok := w[name]
			s.mu.Unlock()
			b, err := json.Marshal(st)
			full := fmt.Sprintf("%x", sha256.Sum256(b))
			if ok && last.sig == sig && (last.full == full || !force && now.Sub(last.at) < haRefresh) {
				clear(b)
				continue
			}
			if err == nil {
				err = s.store.Put(ctx, g, tok, name, b)
			}
			clear(b) // it held keys
			if err != nil {
				s.d.log.Debug("SA state not written", "srg", g, "sa", st.String(), "err", err)
				if errors.Is(err, cluster.ErrFenced) {
					break
				}
				continue
			}
			s.mu.Lock()
			w[name] = haWritten{sig: sig, full: full, at: now}
			for _, c := range st.Children {
				s.hw[c.OutSPI] = c.OutSeq
			}
			s.mu.Unlock()
			for _, c := range st.Children {
				markWritten(inst, c.OutSPI, c.OutSeq) // haseq.go
			}
		}
		return seen
	}
	s.syncGroups(owned, s.written, put, func(g int, tok int64, name string) bool {
		sa := strings.TrimPrefix(name, "ike/")
		if s.store.Delete(ctx, g, tok, name) != nil || s.store.Delete(ctx, g, tok, "mid/"+sa) != nil {
			return false
		}
		s.reqs.Forget(sa)
		return true
	})
}

// ownedGroups is the groups this node owns (only: that group alone, if
// owned) and their fencing tokens.
func (s *haSync) ownedGroups(only int) map[int]int64 {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	owned := map[int]int64{}
	for g, tok := range s.c.owned {
		if only == 0 || g == only {
			owned[g] = tok
		}
	}
	return owned
}

// forgetMarks drops from hw the high-water marks of outbound SAs not live
// (rekeyed, deleted, moved).
func (s *haSync) forgetMarks(hw map[uint32]uint64, live map[uint32]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for spi := range hw {
		if !live[spi] {
			delete(hw, spi)
		}
	}
}

// syncGroups is the per-group part of a sync, for either IKE version's
// records, of each group in owned: a group whose takeover is not yet
// imported is left alone (its records are not stale); put writes the
// group's records, noting them in w (written[g], made here), and returns
// their names; a record in w not among them is of an SA that ended, and
// del deletes it from etcd (true when it did, and it then leaves w).
func (s *haSync) syncGroups(owned map[int]int64, written map[int]map[string]haWritten,
	put func(g int, tok int64, w map[string]haWritten) map[string]bool, del func(g int, tok int64, name string) bool) {
	for g, tok := range owned {
		s.mu.Lock()
		if s.pending[g] != nil {
			s.mu.Unlock()
			continue // a takeover not yet imported: its records are not stale
		}
		if written[g] == nil {
			written[g] = map[string]haWritten{}
		}
		w := written[g]
		s.mu.Unlock()
		seen := put(g, tok, w)
		s.mu.Lock()
		var gone []string
		for name := range w {
			if !seen[name] {
				gone = append(gone, name)
			}
		}
		s.mu.Unlock()
		for _, name := range gone {
			if del(g, tok, name) {
				s.mu.Lock()
				delete(w, name)
				s.mu.Unlock()
			}
		}
	}
}

// sequences fills in the data plane's part of a State: each outbound SA's
// high-water mark, moved a step ahead when its sequence number came within
// half a step of the last one written, and each inbound window's edge.
func (s *haSync) sequences(inst *installer, st *ikev2.State) {
	for i := range st.Children {
		c := &st.Children[i]
		var cur uint64
		inst.mu.Lock()
		if o := inst.outbound[c.OutSPI]; o != nil {
			cur = o.Sequence()
		}
		inst.mu.Unlock()
		s.mu.Lock()
		hw := s.hw[c.OutSPI]
		s.mu.Unlock()
		if hw == 0 || cur+seqStep/2 > hw {
			hw = cur + seqStep
		}
		c.OutSeq = hw
		if in := s.d.engine.InboundSA(c.InSPI); in != nil {
			c.InTop = in.Sequence()
		}
	}
}

// signature is a State without what moves all the time (message IDs, the
// inbound edge): a change in the rest is written at once.
func signature(st ikev2.State) string {
	st.NextID, st.ExpectID = 0, 0
	st.Children = append([]ikev2.ChildState(nil), st.Children...)
	for i := range st.Children {
		st.Children[i].InTop = 0
	}
	b, _ := json.Marshal(st)
	sum := fmt.Sprintf("%x", sha256.Sum256(b))
	clear(b)
	return sum
}

// load reads a group's SA state for a takeover: each IKE SA's State with
// its message ID in doubt.
func (s *haSync) load(ctx context.Context, srg int) (_ []ikev2.State, unreadable int, _ error) {
	recs, err := s.store.Load(ctx, srg)
	if err != nil {
		return nil, 0, err
	}
	s.loadV1(srg, recs) // hasyncv1.go
	var out []ikev2.State
	for name, b := range recs {
		sa, ok := strings.CutPrefix(name, "ike/")
		if !ok {
			continue
		}
		var st ikev2.State
		err := json.Unmarshal(b, &st)
		clear(b)
		if err != nil {
			s.d.log.Warn("SA state record unreadable; not resumed", "srg", srg, "record", name, "err", err)
			unreadable++
			continue
		}
		if m, ok := recs["mid/"+sa]; ok {
			if st.InDoubt, err = cluster.DecodeRequest(m); err != nil {
				s.d.log.Warn("SA state record unreadable; its request in doubt is not resent", "srg", srg, "record", "mid/"+sa, "err", err)
			}
		}
		out = append(out, st)
	}
	return out, unreadable, nil
}

// haTransport is the IKE engines' transport on a cluster node: once SA
// state is kept, the group's request log (cluster.RequestLog) records each
// request before it goes out.
type haTransport struct {
	c     *clusterState
	inner ike.Transport
}

func (t *haTransport) Send(msg []byte, from, to netip.AddrPort) error {
	if s := t.c.sync.Load(); s != nil {
		return s.reqs.Send(msg, from, to)
	}
	return t.inner.Send(msg, from, to)
}

// haTransport is the transport the IKE engines get: on a cluster node the
// one that records requests first.
func (d *Daemon) haTransport() ike.Transport {
	if d.cluster == nil {
		return d.ikeTransport
	}
	return &haTransport{c: d.cluster, inner: d.ikeTransport}
}

package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"ipsecgw/cluster"
	"ipsecgw/ike/ikev1"
)

// The IKEv1 side of the SA state kept in etcd (hasync.go does IKEv2; the
// scheme is in cluster/doc.go). Per ISAKMP SA of a group this node owns:
//
//	sa/SRG/v1/CKYI-CKYR  the exported ikev1.State: written when it is new
//	                     or its keys, IPsec SAs, ESP high-water marks or
//	                     DPD mark change, and at most every haRefresh for
//	                     the rest
//
// IKEv1 has no ordered message IDs and nothing to resend, so there is no
// mid/ record: an IKEv1 message goes out at once (cluster.RequestLog
// passes what is not an IKEv2 request). Our DPD sequence number is written
// dpdStep ahead of the one used, as the ESP high-water marks are, so that
// no probe costs a write.
//
// hasync.go, haresume.go and hareinit.go call in here from one hook line
// each.

// dpdStep is how far ahead of our last R-U-THERE sequence number the DPD
// mark is written; it moves again when the sequence comes within half a
// step (at a probe every 10 s, a write every 40 minutes).
const dpdStep = 1 << 9

// haSyncV1 is haSync's IKEv1 part; haSync.mu guards it.
type haSyncV1 struct {
	written map[int]map[string]haWritten // SRG → record → what was written
	hw      map[uint32]uint64            // outbound SPI → high-water mark written
	dpd     map[string]uint32            // record → DPD mark written
	loaded  map[int]*haLoadedV1          // SRG → what a takeover loaded, until imported
}

// haLoadedV1 is what a takeover loaded of a group's IKEv1 SAs.
type haLoadedV1 struct {
	states     []ikev1.State
	unreadable int
}

// exporterV1 is the IKEv1 engine, as the cluster uses it.
type exporterV1 interface {
	Export(match func(local netip.Addr) bool) []ikev1.State
	Import(st ikev1.State) error
	Forget(match func(local netip.Addr) bool) int
}

var _ ikev1.ResumeInstaller = (*installer)(nil)

func (s *haSync) engineV1() (exporterV1, *installer) { return haEngine[exporterV1](s.d, 1) }

// syncV1 is syncOnce for the IKEv1 SAs: it writes what changed of those of
// the groups this node owns (only: that group alone; force: every record)
// and deletes the records of SAs that ended. It runs under syncMu.
func (s *haSync) syncV1(ctx context.Context, only int, force bool) {
	owned := s.ownedGroups(only)
	eng, inst := s.engineV1()
	if eng == nil || len(owned) == 0 {
		return
	}
	s.mu.Lock()
	vips := s.vips
	v := &s.v1
	if v.written == nil {
		v.written, v.hw, v.dpd, v.loaded = map[int]map[string]haWritten{}, map[uint32]uint64{}, map[string]uint32{}, map[int]*haLoadedV1{}
	}
	s.mu.Unlock()
	bySRG := map[int][]ikev1.State{}
	live := map[uint32]bool{}
	for _, st := range eng.Export(func(a netip.Addr) bool { _, ok := owned[vips[a]]; return ok }) {
		s.marksV1(inst, &st)
		g := vips[st.Local.Addr()]
		bySRG[g] = append(bySRG[g], st)
		for _, c := range st.Children {
			live[c.OutSPI] = true
		}
	}
	if only == 0 {
		s.forgetMarks(v.hw, live)
	}
	now := time.Now()
	s.mu.Lock()
	written := v.written
	s.mu.Unlock()
	s.syncGroups(owned, written, func(g int, tok int64, w map[string]haWritten) map[string]bool {
		seen := map[string]bool{}
		for _, st := range bySRG[g] {
			name := "v1/" + st.Name()
			seen[name] = true
			if err := s.putV1(ctx, inst, g, tok, name, st, w, force, now); errors.Is(err, cluster.ErrFenced) {
				break
			}
		}
		return seen
	}, func(g int, tok int64, name string) bool {
		if s.store.Delete(ctx, g, tok, name) != nil {
			return false
		}
		s.mu.Lock()
		delete(v.dpd, name)
		s.mu.Unlock()
		return true
	})
}

// putV1 writes one State when it changed (or is due for a refresh), notes
// what was written and grants its outbound SAs (inst's) the marks written.
func (s *haSync) putV1(ctx context.Context, inst *installer, g int, tok int64, name string, st ikev1.State, w map[string]haWritten, force bool, now time.Time) error {
	sig := signatureV1(st)
	s.mu.Lock()
	last, ok := w[name]
	s.mu.Unlock()
	b, err := json.Marshal(st)
	defer clear(b) // it holds keys
	full := fmt.Sprintf("%x", sha256.Sum256(b))
	if ok && last.sig == sig && (last.full == full || !force && now.Sub(last.at) < haRefresh) {
		return nil
	}
	if err == nil {
		err = s.store.Put(ctx, g, tok, name, b)
	}
	if err != nil {
		s.d.log.Debug("SA state not written", "srg", g, "sa", st.String(), "err", err)
		return err
	}
	s.mu.Lock()
	w[name] = haWritten{sig: sig, full: full, at: now}
	for _, c := range st.Children {
		s.v1.hw[c.OutSPI] = c.OutSeq
	}
	s.v1.dpd[name] = st.DPDSeq
	s.mu.Unlock()
	// The marks are durable: the IPsec SAs may send up to them (haseq.go).
	for _, c := range st.Children {
		markWritten(inst, c.OutSPI, c.OutSeq)
	}
	return nil
}

// marksV1 fills in what the engine does not know: each outbound SA's
// high-water mark and inbound edge (as sequences does for IKEv2), and the
// DPD mark, a step ahead of our last R-U-THERE.
func (s *haSync) marksV1(inst *installer, st *ikev1.State) {
	for i := range st.Children {
		c := &st.Children[i]
		var cur uint64
		inst.mu.Lock()
		if o := inst.outbound[c.OutSPI]; o != nil {
			cur = o.Sequence()
		}
		inst.mu.Unlock()
		s.mu.Lock()
		hw := s.v1.hw[c.OutSPI]
		s.mu.Unlock()
		if hw == 0 || cur+seqStep/2 > hw {
			hw = cur + seqStep
		}
		c.OutSeq = hw
		if in := s.d.engine.InboundSA(c.InSPI); in != nil {
			c.InTop = in.Sequence()
		}
	}
	s.mu.Lock()
	mark, ok := s.v1.dpd["v1/"+st.Name()]
	s.mu.Unlock()
	st.DPDSeq = dpdMark(st.DPDSeq, mark, ok)
}

// dpdMark is the DPD mark to write for our last R-U-THERE sequence number
// seq, given the mark last written (had: one was).
func dpdMark(seq, mark uint32, had bool) uint32 {
	if !had || seq+dpdStep/2 > mark {
		return seq + dpdStep
	}
	return mark
}

// signatureV1 is a State without what moves all the time (the inbound
// edges): a change in the rest is written at once.
func signatureV1(st ikev1.State) string {
	st.Children = append([]ikev1.ChildState(nil), st.Children...)
	for i := range st.Children {
		st.Children[i].InTop = 0
	}
	b, _ := json.Marshal(st)
	sum := fmt.Sprintf("%x", sha256.Sum256(b))
	clear(b)
	return sum
}

// loadV1 is load's hook: it decodes a group's IKEv1 records, read for a
// takeover, and keeps them until haResume imports them.
func (s *haSync) loadV1(srg int, recs map[string][]byte) {
	lv := &haLoadedV1{}
	w := map[string]haWritten{}
	for name, b := range recs {
		if !strings.HasPrefix(name, "v1/") {
			continue
		}
		var st ikev1.State
		err := json.Unmarshal(b, &st)
		clear(b)
		w[name] = haWritten{} // this node's to keep or delete from now on
		if err != nil {
			s.d.log.Warn("SA state record unreadable; not resumed", "srg", srg, "record", name, "err", err)
			lv.unreadable++
			continue
		}
		lv.states = append(lv.states, st)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.v1.written == nil {
		s.v1.written, s.v1.hw, s.v1.dpd, s.v1.loaded = map[int]map[string]haWritten{}, map[uint32]uint64{}, map[string]uint32{}, map[int]*haLoadedV1{}
	}
	s.v1.written[srg] = w
	s.v1.loaded[srg] = lv
}

// holdV1 is haHoldInitiation's hook for an IKEv1 peer: one with an ISAKMP
// SA to resume is not negotiated with (unless the resume fails).
func (d *Daemon) holdV1(p onTrafficPeer) bool {
	if d.cluster == nil || p.version != 1 {
		return false
	}
	s := d.cluster.sync.Load()
	if s == nil {
		return false
	}
	k := haPeerOf(p.local, p.remote)
	s.mu.Lock()
	defer s.mu.Unlock()
	for srg, lv := range s.v1.loaded {
		r := s.pending[srg]
		if r == nil {
			continue
		}
		for _, st := range lv.states {
			if haPeerOf(st.Local.Addr(), st.PeerAddr) == k {
				r.skipped[k] = true
				return true
			}
		}
	}
	return false
}

// resumeV1 is haResume's hook: it imports the group's IKEv1 SAs, marking
// each peer resumed or failed for haReinitiate, with the same events (and
// so metrics) as IKEv2's.
func (s *haSync) resumeV1(d *Daemon, srg int, r *haResume, resumed map[haPeer]bool, failed map[haPeer]error) {
	s.mu.Lock()
	lv := s.v1.loaded[srg]
	delete(s.v1.loaded, srg)
	s.mu.Unlock()
	if lv == nil {
		return
	}
	r.unreadable += lv.unreadable
	eng, _ := s.engineV1()
	for _, st := range lv.states {
		ev := Event{Time: time.Now(), SRG: srg, Gateway: st.Gateway, VPN: st.VPN, Remote: st.PeerAddr.String(), SPI: st.Name()}
		var err error = errNoIKEv1
		if eng != nil {
			err = eng.Import(st)
		}
		if err != nil {
			d.log.Warn("IKEv1 SA not resumed; the tunnel negotiates again", "srg", srg, "gateway", st.Gateway, "ike-sa", st.Name(), "err", err)
			ev.Kind, ev.Reason = "sa-resume-failed", err.Error()
			failed[haPeerOf(st.Local.Addr(), st.PeerAddr)] = err
		} else {
			resumed[haPeerOf(st.Local.Addr(), st.PeerAddr)] = true
			ev.Kind, ev.Reason = "sa-resumed", "IKEv1 SA and its IPsec SAs resumed from the previous owner"
		}
		d.events.publish(ev)
		for _, k := range [][]byte{st.SKEYIDd, st.SKEYIDa, st.SKEYIDe} {
			clear(k) // the engine has its own copies
		}
		for _, c := range st.Children {
			for _, k := range [][]byte{c.InEncr, c.InInteg, c.OutEncr, c.OutInteg} {
				clear(k)
			}
		}
	}
}

var errNoIKEv1 = errors.New("no IKEv1 engine runs")

// forgetV1 is haForget's hook: a lost group's ISAKMP SAs end here without
// a word to the peer.
func (s *haSync) forgetV1(srg int, vips map[netip.Addr]int) {
	s.mu.Lock()
	delete(s.v1.written, srg)
	delete(s.v1.loaded, srg)
	s.mu.Unlock()
	eng, _ := s.engineV1()
	if eng == nil {
		return
	}
	if n := eng.Forget(func(a netip.Addr) bool { g, ok := vips[a]; return ok && g == srg }); n > 0 {
		s.d.log.Info("IKEv1 SAs of the group left to its next owner", "srg", srg, "ike-sas", n)
	}
}

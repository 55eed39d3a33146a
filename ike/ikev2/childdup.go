package ikev2

import (
	"bytes"
	"maps"
	"slices"
	"time"

	"ipsecgw/ike"
)

// Duplicate Child SAs from a simultaneous creation. When both sides keep a
// VPN up (establish-tunnels immediately on both, or the peer asks for the
// VPN's Child SA while we do) both may send a CREATE_CHILD_SA for it at
// once; each answers the other's, and each side ends with two Child SA
// pairs for the same selectors. RFC 7296 §2.8.1's rule for simultaneous
// rekeys settles it the same way: of the two Child SAs, the one created
// with the lowest of the four nonces is redundant, and the side that
// initiated that exchange deletes it (INFORMATIONAL DELETE). Each side
// applies the rule once it holds both, so both pick the same one without
// a race. The survivor is installed on the deleting side before the
// DELETE goes out, and the DELETE waits duplicateDeleteDelay so that the
// peer has installed it too: the answer that makes it there may be
// overtaken by the DELETE, or lost once and sent again. Until then both
// pairs carry traffic. A rekey is not a creation: its collisions are
// createchild.go's.

// freshOrigin is the exchange that created a Child SA that is not a
// rekey: its nonces, and whether we initiated it.
type freshOrigin struct {
	ni, nr []byte
	ours   bool
}

// freshChild records that c was just created (not rekeyed) by an exchange
// of nonces ni and nr that we (ours) or the peer initiated, and settles a
// duplicate of it that the other side's exchange created.
func (sa *ikeSA) freshChild(c *ike.ChildSA, ni, nr []byte, ours bool) {
	if sa.fresh == nil {
		sa.fresh = map[*ike.ChildSA]freshOrigin{}
	}
	maps.DeleteFunc(sa.fresh, func(x *ike.ChildSA, _ freshOrigin) bool { return !sa.hasChild(x) })
	made := freshOrigin{ni: bytes.Clone(ni), nr: bytes.Clone(nr), ours: ours}
	for d, o := range sa.fresh {
		if o.ours == ours || !sameChildSelectors(c, d) {
			continue
		}
		delete(sa.fresh, d)
		mine, theirs, ourChild := made, o, c
		if !ours {
			mine, theirs, ourChild = o, made, d
		}
		if !ourRekeyRedundant(mine.ni, mine.nr, &collision{ni: theirs.ni, nr: theirs.nr}) { // createchild.go
			sa.e.log.Info("duplicate Child SA from a simultaneous creation: the peer's is redundant; it deletes it",
				"vpn", c.VPN, "kept-in", spiHex(ourChild.InboundSPI))
			sa.awaitPeerChildDedupe(c, d, ours) // childdupkept.go: if it does not
			return
		}
		sa.e.log.Info("duplicate Child SA from a simultaneous creation: ours is redundant; deleting it",
			"vpn", c.VPN, "in", spiHex(ourChild.InboundSPI))
		sa.deleteDuplicate(ourChild)
		return
	}
	sa.fresh[c] = made
}

// duplicateDeleteDelay is how long a redundant Child SA of ours stays
// after both are up: a retransmission's time, so that the peer has the
// survivor when the DELETE comes.
const duplicateDeleteDelay = 2 * time.Second

// deleteDuplicate removes our redundant Child SA c and tells the peer,
// after duplicateDeleteDelay.
func (sa *ikeSA) deleteDuplicate(c *ike.ChildSA) {
	sa.after(duplicateDeleteDelay, func() {
		sa.e.mu.Lock()
		defer sa.e.mu.Unlock()
		if sa.state != stateEstablished || !sa.hasChild(c) {
			return
		}
		sa.removeChild(c.OutboundSPI)
		sa.deleteChildren([]uint32{c.InboundSPI}, 0) // vpnchild.go
	})
}

// sameChildSelectors: a and b are for the same VPN and traffic.
func sameChildSelectors(a, b *ike.ChildSA) bool {
	return a.VPN == b.VPN && slices.Equal(a.LocalTS, b.LocalTS) && slices.Equal(a.RemoteTS, b.RemoteTS)
}

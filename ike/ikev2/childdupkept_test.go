package ikev2

import (
	"strings"

	"ipsecgw/ike/wire"
	"ipsecgw/test/syncbuf"
)

// keepsRedundantChild is a pipe's drop that makes the side that is to
// delete its redundant Child SA (it logged so: a, the IKE SA's
// initiator, logs to la, b to lb) a peer that keeps it: every
// INFORMATIONAL request it sends from then on is lost.
func keepsRedundantChild(la, lb *syncbuf.Buffer) func([]byte) bool {
	return func(msg []byte) bool {
		h, err := wire.ParseHeader(msg)
		if err != nil || h.Exchange != wire.INFORMATIONAL || h.IsResponse() {
			return false
		}
		deleter := la
		if h.Flags&wire.FlagInitiator == 0 {
			deleter = lb
		}
		return strings.Contains(deleter.String(), "ours is redundant; deleting it")
	}
}

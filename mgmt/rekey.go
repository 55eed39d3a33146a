package mgmt

import (
	"fmt"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"ipsecgw/ike"
	"ipsecgw/view"
)

// The operator's rekeys, ours (Junos has no such command), given to the
// Request RPC as words:
//
//	security ike security-associations rekey [peer-address ADDRESS] [index N]
//	security ipsec security-associations rekey [index N]
//
// They start, now, the rekey a lifetime would (CREATE_CHILD_SA, with the
// configuration's additional key exchanges); the reply says how many were
// started, and show commands say when they are done.

// rekeyRequest handles the words when they are a rekey request (ok).
func (s opService) rekeyRequest(words []string) (out string, ok bool, err error) {
	if len(words) < 4 || words[0] != "security" || words[2] != "security-associations" || words[3] != "rekey" ||
		words[1] != "ike" && words[1] != "ipsec" {
		return "", false, nil
	}
	opts := map[string]string{}
	allowed := map[string]bool{"index": true, "peer-address": words[1] == "ike"}
	for rest := words[4:]; len(rest) > 0; rest = rest[2:] {
		if !allowed[rest[0]] {
			return "", true, invalid("request security %s security-associations rekey: unknown option %q", words[1], rest[0])
		}
		if len(rest) < 2 {
			return "", true, invalid("request security %s security-associations rekey: %s needs a value", words[1], rest[0])
		}
		opts[rest[0]] = rest[1]
	}
	var index uint32
	if v, given := opts["index"]; given {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n == 0 {
			return "", true, invalid("%q is not an index", v)
		}
		index = uint32(n)
	}
	v := view.Build(s.d.Status(), s.d.Config(), s.now())
	if words[1] == "ipsec" {
		var vpns []string
		if index != 0 {
			name, found := v.TunnelVPN[index]
			if !found {
				return "", true, status.Errorf(codes.NotFound, "error: no tunnel with index %d", index)
			}
			vpns = []string{name}
		}
		n := s.d.RekeyIPsec(vpns)
		if n == 0 {
			return "", true, status.Error(codes.NotFound, "error: no IPsec security association to rekey")
		}
		return fmt.Sprintf("Rekey started for %d IPsec security association%s\n", n, plural(n)), true, nil
	}
	peer, err := optionalAddr(opts["peer-address"])
	if err != nil {
		return "", true, err
	}
	var spi uint64
	if index != 0 {
		for _, sa := range v.IKE {
			if sa.Index == index {
				spi = sa.InitiatorSPI
			}
		}
		if spi == 0 {
			return "", true, status.Errorf(codes.NotFound, "error: no IKE SA with index %d", index)
		}
	}
	n := s.d.RekeyIKE(func(i ike.SAInfo) bool {
		return (!peer.IsValid() || i.Remote == peer) && (spi == 0 || i.InitiatorSPI == spi)
	})
	if n == 0 {
		what := "IKE security association to rekey"
		if peer.IsValid() {
			what += " with peer " + peer.String()
		}
		return "", true, status.Error(codes.NotFound, "error: no established "+what)
	}
	return fmt.Sprintf("Rekey started for %d IKE security association%s\n", n, plural(n)), true, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

package daemon

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"ipsecgw/config/schema"
)

// checkServicePorts refuses a commit that puts SSH or NETCONF on a TCP
// port another program already holds. The services listen after the
// commit (package sshd follows the committed configuration), too late to
// fail it, so without this check "commit complete" would be followed by a
// service that silently does not listen. A port the previous
// configuration already gave either service is ours and not probed.
func checkServicePorts(prev, next *schema.Config) error {
	ours := map[int]bool{}
	if prev != nil {
		for _, s := range []*schema.MgmtService{prev.System.SSH, prev.System.NETCONF} {
			if s != nil {
				ours[s.Port] = true
			}
		}
	}
	var errs []error
	for _, svc := range []struct {
		name string
		s    *schema.MgmtService
	}{{"system services ssh", next.System.SSH}, {"system services netconf ssh", next.System.NETCONF}} {
		if svc.s == nil || ours[svc.s.Port] {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(svc.s.Port)))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s port %d: cannot listen: %w", svc.name, svc.s.Port, err))
			continue
		}
		ln.Close()
	}
	return errors.Join(errs...)
}

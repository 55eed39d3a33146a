package schema

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"ipsecgw/config"
)

// interfaceKind classifies a configured name the way Junos names them.
func interfaceKind(name string) InterfaceKind {
	switch {
	case name == "st0":
		return Tunnel
	case name == "lo0":
		return Loopback
	case strings.HasPrefix(name, "si-"), strings.HasPrefix(name, "sp-"), strings.HasPrefix(name, "ms-"):
		return Service
	}
	return Physical
}

func (b *builder) interfaces(s *config.Stmt) {
	for _, is := range entries(s, "") {
		ifc := &Interface{
			Name:        is.Key,
			Kind:        interfaceKind(is.Key),
			Description: str(is, "description"),
			MTU:         num(is, "mtu", 0),
		}
		b.hostName(is, ifc)
		for _, us := range entries(is, "unit") {
			n, _ := strconv.ParseUint(us.Key, 10, 32)
			u := &Unit{Interface: ifc, Number: uint32(n), Description: str(us, "description"), ServiceDomain: str(us, "service-domain")}
			for _, fs := range entries(us, "family") {
				switch fs.Key {
				case "inet":
					u.Inet = true
				case "inet6":
					u.Inet6 = true
				}
				for _, as := range entries(fs, "address") {
					p, _ := netip.ParsePrefix(as.Key)
					if p.Addr().Is4() != (fs.Key == "inet") {
						b.fail(as, fmt.Sprintf("address %s is not a family %s address", as.Key, fs.Key), "an "+map[string]string{"inet": "IPv4", "inet6": "IPv6"}[fs.Key]+" address/length")
						continue
					}
					u.Addresses = append(u.Addresses, p)
				}
			}
			if u.ServiceDomain != "" && ifc.Kind != Service {
				b.fail(child(us, "service-domain"), "service-domain is only meaningful on service interfaces", "an si-, sp- or ms- interface")
			}
			ifc.Units = append(ifc.Units, u)
			b.units[u.Name()] = u
		}
		b.cfg.Interfaces = append(b.cfg.Interfaces, ifc)
	}
}

// hostName decides which Linux interface a configured interface is. Tunnel
// and service interfaces have none (ipsecgw makes st0.N itself); lo0 is lo;
// a Linux name is itself; a Junos name needs a mapping.
func (b *builder) hostName(is *config.Stmt, ifc *Interface) {
	if h := child(is, "host-interface"); h != nil {
		if config.IsJunosInterfaceName(h.Value()) {
			b.fail(h, fmt.Sprintf("%s is not a Linux interface name", h.Value()), "a Linux interface name such as eth1")
			return
		}
		ifc.HostName = h.Value()
		return
	}
	if m, ok := b.opts.InterfaceMap[ifc.Name]; ok {
		ifc.HostName = m
		return
	}
	switch ifc.Kind {
	case Tunnel, Service:
		return
	case Loopback:
		ifc.HostName = "lo"
		return
	}
	if config.IsJunosInterfaceName(ifc.Name) {
		b.cfg.Notices = append(b.cfg.Notices, Notice{
			Path: is.PathString(),
			Msg: fmt.Sprintf("%s is a Junos interface name; map it to a Linux interface with \"set interfaces %s host-interface NAME\" or --interface-map %s=NAME before running the daemon",
				ifc.Name, ifc.Name, ifc.Name),
		})
		return
	}
	ifc.HostName = ifc.Name
}

// Interface returns the configured interface called name, or nil.
func (c *Config) Interface(name string) *Interface {
	for _, i := range c.Interfaces {
		if i.Name == name {
			return i
		}
	}
	return nil
}

// UnmappedInterfaces lists physical interfaces that have no Linux name yet.
func (c *Config) UnmappedInterfaces() []string {
	var out []string
	for _, i := range c.Interfaces {
		if i.HostName == "" && (i.Kind == Physical) {
			out = append(out, i.Name)
		}
	}
	return out
}

// ParseInterfaceMap reads "junos=linux[,junos=linux...]" (the
// --interface-map flag).
func ParseInterfaceMap(s string) (map[string]string, error) {
	m := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	for _, pair := range strings.Split(s, ",") {
		from, to, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || from == "" || to == "" {
			return nil, fmt.Errorf("bad interface mapping %q: expected JUNOS-NAME=LINUX-NAME", pair)
		}
		if !config.IsLinuxInterfaceName(to) {
			return nil, fmt.Errorf("bad interface mapping %q: %q is not a Linux interface name", pair, to)
		}
		m[from] = to
	}
	return m, nil
}

package show

import (
	"fmt"
	"net/netip"
	"strings"
)

// Interface is one logical tunnel interface (a unit of st0) as `show
// interfaces` prints it: the unit a VPN's bind-interface names, its
// addresses and its packet counters.
type Interface struct {
	Name     string // "st0.1"
	Index    int    // the unit's local index; printed also as its SNMP ifIndex
	Disabled bool   // administratively down (the unit is configured disable)
	Up       bool   // link up: down while the daemon holds it down (its VPN has no Child SA, or vpn-monitor says down)

	InputPackets, OutputPackets uint64 // packets received from and sent into the tunnel

	Families []Family // address families configured on the unit, in configuration order
}

// Family is one protocol family of a unit (`family inet` / `family inet6`).
type Family struct {
	Name      string         // "inet" or "inet6"
	MTU       int            // protocol MTU in bytes
	Addresses []netip.Prefix // local address and prefix length; none for an unnumbered family
}

// InterfacesQuery is the arguments of `show interfaces [NAME] [terse]`.
type InterfacesQuery struct {
	Name  string // "st0.1" (one unit), "st0" (its units), "" (every interface)
	Terse bool
}

// physicalName is the device part of a unit name: "st0" of "st0.1".
func physicalName(unit string) string {
	dev, _, _ := strings.Cut(unit, ".")
	return dev
}

// selects reports whether the query names ifc: by its own name, by its
// device's name, or by no name at all.
func (q InterfacesQuery) selects(ifc *Interface) bool {
	return q.Name == "" || q.Name == ifc.Name || q.Name == physicalName(ifc.Name)
}

// Interfaces is `show interfaces st0.N`, `show interfaces st0 terse` and
// `show interfaces terse`, in the MX form of the reference (§4.6): no
// Security or host-inbound-traffic lines, which need SRX zones.
//
// ipsecgw has no physical device behind st0 to describe, so `show
// interfaces st0` (no unit, not terse) prints the block of each of its
// units; terse prints the device row Junos prints (always up: st0 has no
// carrier) above its units. A name that selects nothing is Junos's
// `error: device NAME not found`.
func Interfaces(ifs []Interface, q InterfacesQuery) Reply {
	var selected []*Interface
	for i := range ifs {
		if q.selects(&ifs[i]) {
			selected = append(selected, &ifs[i])
		}
	}
	if len(selected) == 0 && q.Name != "" {
		return errorReply("device " + q.Name + " not found")
	}
	if q.Terse {
		return interfacesTerse(selected)
	}
	var t text
	m := &InterfaceInformation{Style: "normal"}
	for _, ifc := range selected {
		writeLogicalInterface(&t, ifc)
		m.Logical = append(m.Logical, logicalInterfaceModel(ifc))
	}
	return Reply{t.String(), m}
}

// writeLogicalInterface prints the logical interface block of §4.6.
func writeLogicalInterface(t *text, ifc *Interface) {
	t.line("  Logical interface %s (Index %d) (SNMP ifIndex %d)", ifc.Name, ifc.Index, ifc.Index)
	t.line("    Flags: %s Point-To-Point SNMP-Traps Encapsulation: Secure-Tunnel", unitFlag(ifc.Up))
	t.line("    Input packets : %d", ifc.InputPackets)
	t.line("    Output packets: %d", ifc.OutputPackets)
	for _, f := range ifc.Families {
		t.line("    Protocol %s, MTU: %d", f.Name, f.MTU)
		t.line("      Flags: None")
		for i, a := range f.Addresses {
			t.line("      Addresses, Flags: %s", addressFlags(i))
			if dst, ok := destination(a); ok {
				t.line("        Destination: %s, Local: %s", dst, a.Addr())
			} else {
				t.line("        Local: %s", a.Addr())
			}
		}
	}
}

// unitFlag is the first word of a unit's Flags line.
func unitFlag(up bool) string {
	if up {
		return "Up"
	}
	return "Down"
}

// addressFlags are the flags of the i-th address of a family: every
// configured address is preferred, the first one is also the primary.
func addressFlags(i int) string {
	if i == 0 {
		return "Is-Preferred Is-Primary"
	}
	return "Is-Preferred"
}

// destination is the network a prefix wider than a host reaches through the
// point-to-point unit ("169.254.255.0/30"); a host prefix has none.
func destination(p netip.Prefix) (string, bool) {
	if p.Bits() < 0 || p.Bits() == p.Addr().BitLen() {
		return "", false
	}
	return p.Masked().String(), true
}

// linkStatus is the Admin or Link column of the terse table.
func linkStatus(up bool) string {
	if up {
		return "up"
	}
	return "down"
}

// Terse columns (§4.6): Interface 24, Admin 6, Link 5, Proto 9, Local 22.
const (
	terseHeader = "Interface               Admin Link Proto    Local                 Remote"
	terseFormat = "%-24s%-6s%-5s%-9s%s"
)

// interfacesTerse prints one row per device followed by a row per unit;
// a unit's further families and addresses continue on lines of their own,
// blank up to the Proto (a new family) or Local (a further address) column.
func interfacesTerse(selected []*Interface) Reply {
	var t text
	m := &InterfaceInformation{Style: "terse"}
	t.line(terseHeader)
	for _, ifc := range selected {
		dev := physicalName(ifc.Name)
		if n := len(m.Physical); n == 0 || m.Physical[n-1].Name != dev {
			t.terseRow(dev, "up", "up", "", "")
			m.Physical = append(m.Physical, TersePhysicalInterface{Name: dev, AdminStatus: "up", OperStatus: "up"})
		}
		admin, link := linkStatus(!ifc.Disabled), linkStatus(ifc.Up)
		lm := TerseLogicalInterface{Name: ifc.Name, AdminStatus: admin, OperStatus: link}
		name := ifc.Name
		if len(ifc.Families) == 0 {
			t.terseRow(name, admin, link, "", "")
		}
		for _, f := range ifc.Families {
			fm := TerseAddressFamily{Name: f.Name}
			proto := f.Name
			if len(f.Addresses) == 0 {
				t.terseRow(name, admin, link, proto, "")
			}
			for _, a := range f.Addresses {
				t.terseRow(name, admin, link, proto, a.String())
				fm.Addresses = append(fm.Addresses, TerseAddress{Local: a.String()})
				name, admin, link, proto = "", "", "", ""
			}
			name, admin, link = "", "", ""
			lm.Families = append(lm.Families, fm)
		}
		p := &m.Physical[len(m.Physical)-1]
		p.Logical = append(p.Logical, lm)
	}
	return Reply{t.String(), m}
}

// terseRow prints one row of the terse table, without trailing blanks.
func (t *text) terseRow(name, admin, link, proto, local string) {
	row := fmt.Sprintf(terseFormat, name, admin, link, proto, local)
	t.line("%s", strings.TrimRight(row, " "))
}

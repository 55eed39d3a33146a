package show

import "encoding/xml"

// InterfaceInformation is the reply of `show interfaces` (RPC
// get-interface-information). The detail of a unit lists logical-interface
// at the top, as Junos does for `show interfaces st0.1`; the terse style
// nests each unit under its device. Names from Junos captures of the same
// RPC, except where a field says "name guessed".
type InterfaceInformation struct {
	XMLName  xml.Name                 `xml:"interface-information"`
	Style    string                   `xml:"style,attr"` // normal, terse
	Physical []TersePhysicalInterface `xml:"physical-interface"`
	Logical  []LogicalInterface       `xml:"logical-interface"`
}

// Flag is an element whose presence is its value (<iff-up/>); a nil *Flag
// is a flag not set.
type Flag struct{}

// setFlag is the *Flag for b.
func setFlag(b bool) *Flag {
	if b {
		return &Flag{}
	}
	return nil
}

// LogicalInterface is the block of one unit.
type LogicalInterface struct {
	Name          string                `xml:"name"`
	LocalIndex    int                   `xml:"local-index"`
	SNMPIndex     int                   `xml:"snmp-index"`
	Flags         LogicalInterfaceFlags `xml:"if-config-flags"`
	Encapsulation string                `xml:"encapsulation"`
	Traffic       TrafficStatistics     `xml:"traffic-statistics"`
	Families      []AddressFamily       `xml:"address-family"`
}

// LogicalInterfaceFlags is the unit's Flags line.
type LogicalInterfaceFlags struct {
	Up           *Flag `xml:"iff-up"`
	Down         *Flag `xml:"iff-down"`           // name guessed
	PointToPoint *Flag `xml:"iff-point-to-point"` // name guessed
	SNMPTraps    *Flag `xml:"iff-snmp-traps"`
}

// TrafficStatistics is the unit's packet counters.
type TrafficStatistics struct {
	InputPackets  uint64 `xml:"input-packets"`
	OutputPackets uint64 `xml:"output-packets"`
}

// AddressFamily is one "Protocol" block.
type AddressFamily struct {
	Name      string             `xml:"address-family-name"`
	MTU       int                `xml:"mtu"`
	Flags     AddressFamilyFlags `xml:"address-family-flags"`
	Addresses []InterfaceAddress `xml:"interface-address"`
}

// AddressFamilyFlags is the family's Flags line; ipsecgw sets none.
type AddressFamilyFlags struct {
	None *Flag `xml:"ifff-none"`
}

// InterfaceAddress is one "Addresses" entry.
type InterfaceAddress struct {
	Flags       AddressFlags `xml:"ifa-flags"`
	Destination string       `xml:"ifa-destination,omitempty"`
	Local       string       `xml:"ifa-local"`
}

// AddressFlags is the "Addresses, Flags:" words: Is-Preferred is
// ifaf-current-preferred, Is-Primary ifaf-current-primary.
type AddressFlags struct {
	Preferred *Flag `xml:"ifaf-current-preferred"`
	Primary   *Flag `xml:"ifaf-current-primary"`
}

func logicalInterfaceModel(ifc *Interface) LogicalInterface {
	m := LogicalInterface{
		Name: ifc.Name, LocalIndex: ifc.Index, SNMPIndex: ifc.Index,
		Flags: LogicalInterfaceFlags{
			Up: setFlag(ifc.Up), Down: setFlag(!ifc.Up), PointToPoint: &Flag{}, SNMPTraps: &Flag{},
		},
		Encapsulation: "Secure-Tunnel",
		Traffic:       TrafficStatistics{ifc.InputPackets, ifc.OutputPackets},
	}
	for _, f := range ifc.Families {
		fm := AddressFamily{Name: f.Name, MTU: f.MTU, Flags: AddressFamilyFlags{None: &Flag{}}}
		for i, a := range f.Addresses {
			am := InterfaceAddress{
				Flags: AddressFlags{Preferred: &Flag{}, Primary: setFlag(i == 0)},
				Local: a.Addr().String(),
			}
			am.Destination, _ = destination(a)
			fm.Addresses = append(fm.Addresses, am)
		}
		m.Families = append(m.Families, fm)
	}
	return m
}

// TersePhysicalInterface is one device row of the terse table with its units.
type TersePhysicalInterface struct {
	Name        string                  `xml:"name"`
	AdminStatus string                  `xml:"admin-status"`
	OperStatus  string                  `xml:"oper-status"`
	Logical     []TerseLogicalInterface `xml:"logical-interface"`
}

// TerseLogicalInterface is one unit row of the terse table.
type TerseLogicalInterface struct {
	Name        string               `xml:"name"`
	AdminStatus string               `xml:"admin-status"`
	OperStatus  string               `xml:"oper-status"`
	Families    []TerseAddressFamily `xml:"address-family"`
}

// TerseAddressFamily is a Proto cell with its Local addresses.
type TerseAddressFamily struct {
	Name      string         `xml:"address-family-name"`
	Addresses []TerseAddress `xml:"interface-address"`
}

// TerseAddress is one Local cell: address and prefix length, as the terse
// table prints it.
type TerseAddress struct {
	Local string `xml:"ifa-local"`
}

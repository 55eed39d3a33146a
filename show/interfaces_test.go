package show

import (
	"strings"
	"testing"
)

// referenceST01 is the logical interface block of reference §4.6 in its MX
// form: the SRX-only Security and host-inbound lines dropped, the newer
// "Flags: Up ..." line.
const referenceST01 = `  Logical interface st0.1 (Index 70) (SNMP ifIndex 70)
    Flags: Up Point-To-Point SNMP-Traps Encapsulation: Secure-Tunnel
    Input packets : 8719
    Output packets: 41841
    Protocol inet, MTU: 9192
      Flags: None
      Addresses, Flags: Is-Preferred Is-Primary
        Destination: 169.254.255.0/30, Local: 169.254.255.2
`

// referenceTerse is the terse table of reference §4.6 for an unnumbered
// st0.1.
const referenceTerse = `Interface               Admin Link Proto    Local                 Remote
st0                     up    up
st0.1                   up    up   inet
`

func TestInterfacesReference(t *testing.T) {
	if got := Interfaces(labInterfaces(), InterfacesQuery{Name: "st0.1"}).Text(); got != referenceST01 {
		t.Errorf("st0.1 differs from the reference:\n%s", lineDiff(referenceST01, got))
	}
	unnumbered := []Interface{{Name: "st0.1", Index: 70, Up: true, Families: []Family{{Name: "inet", MTU: 9192}}}}
	if got := Interfaces(unnumbered, InterfacesQuery{Name: "st0", Terse: true}).Text(); got != referenceTerse {
		t.Errorf("terse differs from the reference:\n%s", lineDiff(referenceTerse, got))
	}
}

func TestInterfacesSelect(t *testing.T) {
	ifs := append(labInterfaces(), Interface{Name: "st1.0", Index: 90, Up: true})
	for _, c := range []struct {
		q     InterfacesQuery
		units []string
	}{
		{InterfacesQuery{Name: "st0.3"}, []string{"st0.3"}},
		{InterfacesQuery{Name: "st0"}, []string{"st0.1", "st0.2", "st0.3", "st0.4"}},
		{InterfacesQuery{Name: "st1", Terse: true}, []string{"st1.0"}},
		{InterfacesQuery{Terse: true}, []string{"st0.1", "st0.2", "st0.3", "st0.4", "st1.0"}},
		{InterfacesQuery{}, []string{"st0.1", "st0.2", "st0.3", "st0.4", "st1.0"}},
	} {
		r := Interfaces(ifs, c.q)
		if err := r.Err(); err != nil {
			t.Errorf("%+v: %v", c.q, err)
			continue
		}
		var got []string
		m := r.Model().(*InterfaceInformation)
		for _, l := range m.Logical {
			got = append(got, l.Name)
		}
		for _, p := range m.Physical {
			for _, l := range p.Logical {
				got = append(got, l.Name)
			}
		}
		if strings.Join(got, " ") != strings.Join(c.units, " ") {
			t.Errorf("%+v selects %v, want %v", c.q, got, c.units)
		}
	}
}

func TestInterfacesTerseOneRowPerDevice(t *testing.T) {
	ifs := append(labInterfaces(), Interface{Name: "st1.0", Index: 90, Up: true})
	got := Interfaces(ifs, InterfacesQuery{Terse: true}).Text()
	for _, dev := range []string{"st0", "st1"} {
		if n := strings.Count(got, "\n"+dev+" "); n != 1 {
			t.Errorf("device %s has %d rows, want 1:\n%s", dev, n, got)
		}
	}
}

func TestInterfacesNotFound(t *testing.T) {
	for _, q := range []InterfacesQuery{{Name: "st0.9"}, {Name: "st7", Terse: true}} {
		r := Interfaces(labInterfaces(), q)
		want := "device " + q.Name + " not found"
		if r.Err() == nil || r.Err().Error() != want {
			t.Errorf("%+v: Err() = %v, want %q", q, r.Err(), want)
		}
		if r.Text() != "error: "+want+"\n" {
			t.Errorf("%+v: text %q", q, r.Text())
		}
	}
	if err := Interfaces(nil, InterfacesQuery{Terse: true}).Err(); err != nil {
		t.Errorf("show interfaces terse with no units: %v, want the header only", err)
	}
	if err := Version(labSoftware).Err(); err != nil {
		t.Errorf("show version: %v", err)
	}
}

package show

import (
	"strings"
	"testing"
)

func TestChassisHighAvailability(t *testing.T) {
	r := ChassisHighAvailability(
		[]HANode{
			{ID: 1, Address: "198.51.100.11", Alive: true, Local: true, SRGs: []int{1}},
			{ID: 2, Address: "198.51.100.12", Alive: true, SRGs: []int{2}},
			{ID: 3, Address: "198.51.100.13"},
		},
		[]HASRG{
			{ID: 1, Owner: 1, Token: 17, Preemption: true, Priority: map[int]int{1: 200, 2: 100}, VirtualIPs: []string{"198.51.100.10/24 on eth1"}},
			{ID: 2, Owner: 2, Token: 21, Priority: map[int]int{1: 100, 2: 200}},
		})
	want := `Node Status: ONLINE
Local-id: 1
Local-IP: 198.51.100.11
Active SRGs: 1
HA Peer Information:
    Peer Id: 2     IP address: 198.51.100.12    Conn State: UP    Health Status: HEALTHY
        Active SRGs: 2
    Peer Id: 3     IP address: 198.51.100.13    Conn State: DOWN  Health Status: UNREACHABLE
        Active SRGs: none
Services Redundancy Group: 1
        Status: ACTIVE
        Active Node: 1
        Fencing Token: 17
        Activeness Priority: 200
        Preemption: ENABLED
        Virtual IP: 198.51.100.10/24 on eth1
Services Redundancy Group: 2
        Status: BACKUP
        Active Node: 2
        Fencing Token: 21
        Activeness Priority: 100
        Preemption: DISABLED
`
	if r.Text() != want {
		t.Fatalf("got\n%s\nwant\n%s", r.Text(), want)
	}
	x := r.XML()
	for _, s := range []string{"<chassis-high-availability-information>", "<local-id>1</local-id>",
		"<peer-conn-state>DOWN</peer-conn-state>", "<srg-status>BACKUP</srg-status>", "<virtual-ip>198.51.100.10/24 on eth1</virtual-ip>"} {
		if !strings.Contains(x, s) {
			t.Errorf("XML lacks %s:\n%s", s, x)
		}
	}
	if j := r.JSON(); !strings.Contains(j, `"chassis-high-availability-information"`) || !strings.Contains(j, `"srg-id"`) {
		t.Errorf("JSON:\n%s", j)
	}
}

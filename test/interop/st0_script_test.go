package interop

import "testing"

// gwaDaemonShell is the part of the libreswan and strongSwan guest scripts
// that starts ipsecgw on gwa and follows its st0.1. The VPN there is
// responder-only when the peer initiates: as on Junos, its st0.1 is down,
// with no route through it, until the peer has negotiated the Child SA
// (daemon/st0follow.go). So the daemon is waited for by its own word
// (running: IKE sockets, tunnel interface and API up), never by st0.1 or
// its route, and the tunnel by pings bounded in time, not in count (a
// ping through a unit still down fails at once).
//
//	start_daemon          starts ipsecgw, waits until it runs
//	unit_wait STATE       waits ~10 s for st0.1 to be STATE (up or down)
//	                      and prints what it is then (unit_state)
//	wait_tunnel           pings h1 → h2 until one echo comes back, ~20 s
const gwaDaemonShell = `
start_daemon() {
	mkdir -p "$dir/state"
	ip netns exec gwa "$SHARE/ipsecgw" daemon --config "$dir/ipsecgw.conf" --state-dir "$dir/state" --socket "$dir/state/api.sock" --debug > "$dir/daemon.log" 2>&1 &
	pid=$!
	for i in $(seq 150); do
		grep -q 'msg="ipsecgw running"' "$dir/daemon.log" && [ -S "$dir/state/api.sock" ] && return 0
		kill -0 $pid 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# unit_state prints st0.1 as the kernel and the CLI see it: up (link up,
# the route to h2's subnet through it, show interfaces says up), down (link
# down, no such route, show says down), or each part when they disagree.
unit_state() {
	local link=down route=none show
	ip -n gwa -o link show st0.1 2>/dev/null | grep -q '[<,]UP[,>]' && link=up
	ip -n gwa route show 198.18.2.0/24 2>/dev/null | grep -q 'dev st0\.1' && route=st0.1
	show=$("$SHARE/ipsecgw" cli --socket "$dir/state/api.sock" -c "show interfaces st0.1 terse" 2>/dev/null |
		awk '$1 == "st0.1" { print $3 }')
	if [ $link = up ] && [ $route = st0.1 ] && [ "$show" = up ]; then
		echo up
	elif [ $link = down ] && [ $route = none ] && [ "$show" = down ]; then
		echo down
	else
		echo "link:$link,route:$route,show:${show:-none}"
	fi
}

unit_wait() {
	local s
	for i in $(seq 50); do
		s=$(unit_state)
		[ "$s" = $1 ] && break
		sleep 0.2
	done
	echo "$s"
}

wait_tunnel() {
	local end=$((SECONDS + 20))
	while [ $SECONDS -lt $end ]; do
		ip netns exec h1 ping -c 1 -W 1 198.18.2.2 > /dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}
`

// checkUnit checks what a case's RESULT line says of gwa's st0.1: down
// once the daemon runs when the peer initiates (responder-only), up once
// the tunnel passes pings, in the kernel and in show interfaces alike.
func checkUnit(t *testing.T, r map[string]string, ipsecgwInitiates bool) {
	t.Helper()
	want := "down"
	if ipsecgwInitiates {
		want = "skip" // it may be coming up with the negotiation already
	}
	if r["unit-before"] != want {
		t.Errorf("gwa's st0.1 before the peer initiates: unit-before=%s, want %s", r["unit-before"], want)
	}
	if r["unit-after"] != "up" {
		t.Errorf("gwa's st0.1 with the tunnel up: unit-after=%s, want up", r["unit-after"])
	}
}

package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// writeCases puts each case's files into its directory under share, where
// the guest script finds them: gwa's configuration and gwk's ip(8) commands.
func writeCases(share string, cs []interopCase) error {
	for i, c := range cs {
		dir := filepath.Join(share, c.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		files := map[string]string{
			"ipsecgw.conf": c.ipsecgwConfig(i),
			"kernel.sh":    "set -e\n" + c.kernelCommands(i),
		}
		for name, text := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// guestScript is what runs inside UML: the topology once, then every case.
// Binaries ipsecgw and espinudp must be in share.
func guestScript(share string, cs []interopCase) string {
	var b strings.Builder
	b.WriteString("#!/bin/bash\n# Written by ipsecgw/test/interop: ipsecgw (gwa) against the kernel's XFRM (gwk).\n")
	fmt.Fprintf(&b, "SHARE='%s'\n", share)
	b.WriteString(scriptBody)
	for _, c := range cs {
		mode := "traffic"
		if c.wrongKey {
			mode = "control"
		}
		fmt.Fprintf(&b, "run_case '%s' '%s' %s\n", c.name, c.tcpTarget(), mode)
	}
	b.WriteString("echo '=== end'\n")
	return b.String()
}

// scriptBody builds the topology and defines run_case. What the test reads:
//
//	RESULT case=NAME key=value ...   one line per case (see run_case)
//	=== NAME SECTION                 raw dumps: xfrm-state (ip -s xfrm state
//	                                 on gwk), status (ipsecgw's status.json),
//	                                 xfrm_stat-before, xfrm_stat-after
//
// Every wait is bounded: pings by -W, iperf3 by timeout(1), the daemon's
// start, status and stop by polling loops.
const scriptBody = `
set -e
for ns in h1 gwa gwk h2; do
	ip netns add $ns
	# Addresses are usable at once: no duplicate address detection.
	ip netns exec $ns sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	ip -n $ns link set lo up
done
ip link add name h1-gwa netns h1 type veth peer name gwa-h1 netns gwa
ip link add name gwa-gwk netns gwa type veth peer name gwk-gwa netns gwk
ip link add name gwk-h2 netns gwk type veth peer name h2-gwk netns h2

ip -n h1 addr add 198.18.1.2/24 dev h1-gwa
ip -n h1 addr add 2001:db8:1::2/64 dev h1-gwa
ip -n h1 link set h1-gwa up
ip -n h1 route add default via 198.18.1.1
ip -n h1 -6 route add default via 2001:db8:1::1

# gwa's addresses and routes come from ipsecgw's configuration.
for ns in gwa gwk; do
	ip netns exec $ns sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
done

ip -n gwk addr add 192.0.2.2/24 dev gwk-gwa
ip -n gwk addr add 2001:db8:ff::2/64 dev gwk-gwa
ip -n gwk addr add 198.18.2.1/24 dev gwk-h2
ip -n gwk addr add 2001:db8:2::1/64 dev gwk-h2
ip -n gwk link set gwk-gwa up
ip -n gwk link set gwk-h2 up
# Routing must find a way to h1's network before XFRM's out policy takes
# the packet; the policies (fwd with a template) keep cleartext from ever
# crossing gwk in either direction.
ip -n gwk route add 198.18.1.0/24 via 192.0.2.1
ip -n gwk -6 route add 2001:db8:1::/64 via 2001:db8:ff::1

ip -n h2 addr add 198.18.2.2/24 dev h2-gwk
ip -n h2 addr add 2001:db8:2::2/64 dev h2-gwk
ip -n h2 link set h2-gwk up
ip -n h2 route add default via 198.18.2.1
ip -n h2 -6 route add default via 2001:db8:2::1
set +e

# The kernel decapsulates ESP-in-UDP only where a socket with
# UDP_ENCAP_ESPINUDP holds the port, as an IKE daemon's NAT-T socket would.
ip netns exec gwk "$SHARE/espinudp" -ready "$SHARE/espinudp.ready" > "$SHARE/espinudp.log" 2>&1 &
ip netns exec h2 iperf3 -s -p 5201 > "$SHARE/iperf3-server.log" 2>&1 &
for i in $(seq 50); do
	[ -e "$SHARE/espinudp.ready" ] && ip netns exec h2 ss -Hltn 'sport = :5201' | grep -q . && break
	sleep 0.1
done
[ -e "$SHARE/espinudp.ready" ] || { echo "SETUP espinudp did not start"; cat "$SHARE/espinudp.log"; exit 1; }
ip netns exec h2 ss -Hltn 'sport = :5201' | grep -q . || { echo "SETUP iperf3 server did not start"; cat "$SHARE/iperf3-server.log"; exit 1; }
echo "SETUP ok"

# udp_in counts the UDP datagrams gwk's sockets took, IPv4 and IPv6; the
# kernel counts ESP-in-UDP it decapsulates among them.
udp_in() {
	ip netns exec gwk awk '
		/^Udp:/ { if (!col) { for (i = 1; i <= NF; i++) if ($i == "InDatagrams") col = i } else v4 = $col }
		$1 == "Udp6InDatagrams" { v6 = $2 }
		END { print v4 + v6 }' /proc/net/snmp /proc/net/snmp6
}

# ping_check NS DST COUNT WAIT prints ok when every echo was answered.
ping_check() {
	local out="$dir/ping-$1-$2.txt"
	ip netns exec $1 ping -n -c $3 -i 0.2 -W $4 -w $(( $3 / 5 + $4 + 3 )) $2 > "$out" 2>&1
	local k
	# Every request answered, however late (netns.Ping says why not ping's totals).
	for k in $(seq 1 $3); do grep -q "icmp_seq=$k " "$out" || { echo fail; return; }; done
	echo ok
}

# tcp_check DIRECTION [iperf3 flags] prints the bytes the receiver got in
# one second of iperf3 from h1 to h2 (or back with -R), 0 on failure.
tcp_check() {
	local out="$dir/iperf3-$1.json" bytes=0 try
	shift
	# iperf3 serves one test at a time and resets a client that arrives
	# while it finishes the previous one: a bounded retry.
	for try in 1 2 3 4 5; do
		timeout 10 ip netns exec h1 iperf3 -c $tcp -p 5201 -t 1 --connect-timeout 3000 -J "$@" > "$out" 2>&1
		bytes=$(jq -r '.end.sum_received.bytes // 0' "$out" 2>/dev/null || echo 0)
		grep -q '"error":' "$out" || break
		sleep 0.3
	done
	echo "$bytes"
}

start_daemon() {
	mkdir -p "$dir/state"
	ip netns exec gwa "$SHARE/ipsecgw" daemon --config "$dir/ipsecgw.conf" --state-dir "$dir/state" --socket "$dir/state/api.sock" --debug > "$dir/daemon.log" 2>&1 &
	pid=$!
	for i in $(seq 100); do
		if ip -n gwa route show dev st0.1 2>/dev/null | grep -q 198.18.2.0 &&
			ip -n gwa -6 route show dev st0.1 2>/dev/null | grep -q 2001:db8:2::; then
			return 0
		fi
		kill -0 $pid 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# daemon_status asks the daemon for status.json (SIGUSR1).
daemon_status() {
	rm -f "$dir/state/status.json"
	kill -USR1 $pid
	for i in $(seq 50); do
		[ -e "$dir/state/status.json" ] && return 0
		sleep 0.1
	done
	return 1
}

# stop_daemon sends SIGTERM and sets daemon_exit to the exit status.
stop_daemon() {
	kill -TERM $pid 2>/dev/null
	for i in $(seq 50); do
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 $pid 2>/dev/null; then
		echo "daemon did not stop within 5 s of SIGTERM"
		kill -KILL $pid
	fi
	wait $pid
	daemon_exit=$?
}

# run_case NAME TCP-TARGET MODE re-keys both gateways for one case and
# sends its traffic. MODE "traffic": three pings each way per inner family
# and a TCP transfer each way; "control" (keys differ): one IPv4 ping each
# way, which must fail.
run_case() {
	local name=$1 mode=$3 t0=$EPOCHREALTIME
	# Globals the helpers read: the case's directory, the TCP target.
	dir=$SHARE/$1 tcp=$2
	local r="RESULT case=$name"
	ip -n gwk xfrm policy flush
	ip -n gwk xfrm state flush
	echo "=== $name xfrm_stat-before"
	ip netns exec gwk cat /proc/net/xfrm_stat
	local udp0=$(udp_in)
	if ! bash "$dir/kernel.sh" > "$dir/kernel.log" 2>&1; then
		echo "$r kernel=fail"
		cat "$dir/kernel.log"
		return
	fi
	if ! start_daemon; then
		stop_daemon
		echo "$r kernel=ok daemon=fail daemon-exit=$daemon_exit"
		cat "$dir/daemon.log"
		return
	fi
	r="$r kernel=ok daemon=ok"
	local tcp_out=skip tcp_in=skip
	if [ $mode = traffic ]; then
		r="$r ping4-out=$(ping_check h1 198.18.2.2 3 2) ping4-in=$(ping_check h2 198.18.1.2 3 2)"
		r="$r ping6-out=$(ping_check h1 2001:db8:2::2 3 2) ping6-in=$(ping_check h2 2001:db8:1::2 3 2)"
		# A tunnel that drops pings would only make iperf3 wait.
		tcp_out=not-run tcp_in=not-run
		if [[ "$r" != *=fail* ]]; then
			tcp_out=$(tcp_check out)
			tcp_in=$(tcp_check in -R)
		fi
	else
		r="$r ping4-out=$(ping_check h1 198.18.2.2 1 1) ping4-in=$(ping_check h2 198.18.1.2 1 1)"
	fi
	r="$r tcp=$tcp tcp-out=$tcp_out tcp-in=$tcp_in"
	# The last segments and ACKs land before anything is counted.
	sleep 0.5
	local status=ok
	daemon_status || status=fail
	local udp1=$(udp_in)
	echo "=== $name xfrm-state"
	ip -n gwk -s xfrm state
	echo "=== $name xfrm_stat-after"
	ip netns exec gwk cat /proc/net/xfrm_stat
	echo "=== $name status"
	cat "$dir/state/status.json" 2>/dev/null
	echo "=== $name result"
	stop_daemon
	r="$r status=$status daemon-exit=$daemon_exit udp-in=$((udp1 - udp0))"
	echo "$r seconds=$(awk -v a=$t0 -v b=$EPOCHREALTIME 'BEGIN { printf "%.2f", b - a }')"
	if [ $mode = traffic ] && { [[ "$r" == *=fail* ]] || [ "$tcp_out" = 0 ] || [ "$tcp_in" = 0 ] || [ "$tcp_in" = not-run ] || [ $daemon_exit != 0 ]; }; then
		echo "=== $name daemon.log"
		cat "$dir/daemon.log"
	fi
}
`

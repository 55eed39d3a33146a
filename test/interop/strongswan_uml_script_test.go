package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ssCase is one IKEv2 negotiation between ipsecgw (gwa) and strongSwan's
// charon (gws) on the UML kernel's XFRM, and the pings sent through the
// Child SA it makes:
//
//	h1 ── gwa (ipsecgw, st0.1) ══ raw ESP ══ gws (charon, kernel-netlink) ── h2
//
// gws has the address gwk has in the kernel test (192.0.2.2). Every case
// negotiates the same suites (ssIKE, ssESP); only the initiator differs.
type ssCase struct {
	name             string
	ipsecgwInitiates bool // else charon initiates (swanctl --initiate)
}

var ssCases = []ssCase{
	{name: "ipsecgw-initiates", ipsecgwInitiates: true},
	{name: "strongswan-initiates"},
}

// The suites as strongSwan names them in swanctl.conf, and as swanctl
// --list-sas and ip xfrm state show them once negotiated. A 256-bit GCM key
// reaches the kernel with its 32-bit salt: 288 bits, a 128-bit ICV.
const (
	ssIKE          = "aes256-sha256-modp2048"
	ssESP          = "aes256gcm16"
	ssIKEListed    = "AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048"
	ssESPListed    = "ESP:AES_GCM_16-256"
	ssKernelAEAD   = "rfc4106(gcm(aes))"
	ssKernelKeyICV = "(288 bits) 128"
)

// ssPlugins is charon's whole load list. The IPsec backend is
// kernel-netlink's XFRM half: kernel-libipsec (userspace ESP, always in
// UDP) is neither listed nor loadable (its load = no below). openssl
// brings AES-CBC, AES-GCM, SHA-1/2 and MODP; Debian 12's charon needs kdf
// to derive IKE keys.
const ssPlugins = "random nonce openssl kdf kernel-netlink socket-default vici"

// ssSwanctlPlugins is what swanctl loads for itself.
const ssSwanctlPlugins = "random nonce openssl pem pkcs1 pkcs8 x509 pubkey"

// ssPSK is test material, never a real secret.
const ssPSK = "ipsecgw-strongswan-kernel-esp-psk"

// ipsecgwConfig is gwa's configuration: a route-based VPN on st0.1 with
// the host subnets as proxy identity, IKE and ESP as charon proposes them.
func (c ssCase) ipsecgwConfig() string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("set system host-name gwa")
	line("set interfaces gwa-h1 unit 0 family inet address 198.18.1.1/24")
	line("set interfaces gwa-gws unit 0 family inet address %s/24", gwaOuter4)
	line("set interfaces st0 unit 1 family inet")
	line("set routing-options static route %s next-hop st0.1", h2Net4)
	ike := "set security ike "
	line(ike + "proposal p1 authentication-method pre-shared-keys")
	line(ike + "proposal p1 dh-group group14")
	line(ike + "proposal p1 authentication-algorithm sha-256")
	line(ike + "proposal p1 encryption-algorithm aes-256-cbc")
	line(ike + "policy pol1 mode main")
	line(ike + "policy pol1 proposals p1")
	line(ike+"policy pol1 pre-shared-key ascii-text %q", ssPSK)
	line(ike + "gateway gws ike-policy pol1")
	line(ike+"gateway gws address %s", gwkOuter4)
	line(ike + "gateway gws external-interface gwa-gws")
	line(ike + "gateway gws version v2-only")
	ipsec := "set security ipsec "
	line(ipsec + "proposal p2 protocol esp")
	line(ipsec + "proposal p2 encryption-algorithm aes-256-gcm")
	line(ipsec + "policy pol2 proposals p2")
	vpn := ipsec + "vpn to-gws "
	line(vpn + "bind-interface st0.1")
	line(vpn + "ike gateway gws")
	line(vpn + "ike ipsec-policy pol2")
	line(vpn+"ike proxy-identity local %s", h1Net4)
	line(vpn+"ike proxy-identity remote %s", h2Net4)
	if c.ipsecgwInitiates {
		line(vpn + "establish-tunnels immediately")
	} else {
		line(vpn + "establish-tunnels responder-only")
	}
	return b.String()
}

// strongswanConf is gws's strongswan.conf: its own plugin list (nothing
// from /etc/strongswan.d), its own vici socket and log file, both in dir.
// Nothing forces UDP encapsulation (encap, port_nat_t games, a faked NAT):
// with no NAT between the gateways, ESP must go raw.
func strongswanConf(dir string) string {
	return fmt.Sprintf(`# strongswan.conf written by ipsecgw/test/interop for charon on the UML kernel's XFRM
charon {
	load_modular = no
	load = %s
	install_virtual_ip = no
	retransmit_tries = 3
	plugins {
		kernel-libipsec {
			load = no
		}
		vici {
			socket = unix://%s/charon.vici
		}
	}
	filelog {
		test {
			path = %s/charon.log
			append = no
			flush_line = yes
			time_format = %%H:%%M:%%S
			time_add_ms = yes
			ike_name = yes
			default = 1
			ike = 2
			cfg = 2
			knl = 2
			net = 1
		}
	}
}
swanctl {
	load = %s
}
`, ssPlugins, dir, dir, ssSwanctlPlugins)
}

// swanctlConf is gws's connection. charon initiates it only when the case
// says so (swanctl --initiate); otherwise it waits for ipsecgw.
func swanctlConf() string {
	return fmt.Sprintf(`# swanctl.conf written by ipsecgw/test/interop
connections {
	gw {
		version = 2
		local_addrs = %[1]s
		remote_addrs = %[2]s
		proposals = %[3]s
		mobike = no
		encap = no
		local {
			auth = psk
			id = %[1]s
		}
		remote {
			auth = psk
			id = %[2]s
		}
		children {
			net {
				mode = tunnel
				local_ts = %[4]s
				remote_ts = %[5]s
				esp_proposals = %[6]s
				start_action = none
			}
		}
	}
}
secrets {
	ike-gw {
		id-gws = %[1]s
		id-gwa = %[2]s
		secret = "%[7]s"
	}
}
`, gwkOuter4, gwaOuter4, ssIKE, h2Net4, h1Net4, ssESP, ssPSK)
}

// writeSsCases puts each case's files into its directory under share:
// gwa's configuration, charon's strongswan.conf and swanctl.conf, and the
// (empty) credential directories swanctl --load-all reads beside it.
func writeSsCases(share string, cs []ssCase) error {
	for _, c := range cs {
		dir := filepath.Join(share, c.name)
		for _, sub := range []string{"x509", "x509ca", "private", "rsa", "ecdsa", "pkcs8", "pkcs12", "pubkey"} {
			if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
				return err
			}
		}
		files := map[string]string{
			"ipsecgw.conf":    c.ipsecgwConfig(),
			"strongswan.conf": strongswanConf(dir),
			"swanctl.conf":    swanctlConf(),
		}
		for name, text := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
				return err
			}
		}
	}
	return nil
}

// ssGuestScript is what runs inside UML: the topology once, then every
// case. The ipsecgw binary must be in share.
func ssGuestScript(share string, cs []ssCase) string {
	var b strings.Builder
	b.WriteString("#!/bin/bash\n# Written by ipsecgw/test/interop: ipsecgw (gwa) against strongSwan's charon on kernel XFRM (gws).\n")
	fmt.Fprintf(&b, "SHARE='%s'\nCHARON='%s'\n", share, ssCharon)
	b.WriteString(ssScriptBody)
	for _, c := range cs {
		who := "strongswan"
		if c.ipsecgwInitiates {
			who = "ipsecgw"
		}
		fmt.Fprintf(&b, "run_ss_case '%s' %s\n", c.name, who)
	}
	b.WriteString("echo '=== end'\n")
	return b.String()
}

// ssScriptBody builds the topology and defines run_ss_case. What the test
// reads:
//
//	RESULT case=NAME key=value ...   one line per case
//	=== NAME SECTION                 raw dumps, taken around the quiet
//	                                 phase of pings (SECTION-before,
//	                                 SECTION-after): xfrm-state (ip -s xfrm
//	                                 state on gws), xfrm_stat (gws's
//	                                 /proc/net/xfrm_stat), status (ipsecgw's
//	                                 status.json); and once after it:
//	                                 sas (swanctl --list-sas), policies
//	                                 (ip xfrm policy on gws)
//
// charon.log, daemon.log and the swanctl outputs stay in the case's
// directory for the test to read. Every wait is bounded.
const ssScriptBody = `
set -e
for ns in h1 gwa gws h2; do
	ip netns add $ns
	ip -n $ns link set lo up
done
ip link add name h1-gwa netns h1 type veth peer name gwa-h1 netns gwa
ip link add name gwa-gws netns gwa type veth peer name gws-gwa netns gws
ip link add name gws-h2 netns gws type veth peer name h2-gws netns h2

ip -n h1 addr add 198.18.1.2/24 dev h1-gwa
ip -n h1 link set h1-gwa up
ip -n h1 route add default via 198.18.1.1

# Inner traffic is IPv4 only; without IPv6 on gwa, st0.1 sends no router
# solicitations or MLD reports, which no Child SA covers and ipsecgw would
# count as no-outbound-sa in the quiet phase.
ip netns exec gwa sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
for ns in gwa gws; do
	ip netns exec $ns sysctl -qw net.ipv4.ip_forward=1
done

# gwa's addresses and routes come from ipsecgw's configuration.
ip -n gws addr add 192.0.2.2/24 dev gws-gwa
ip -n gws addr add 198.18.2.1/24 dev gws-h2
ip -n gws link set gws-gwa up
ip -n gws link set gws-h2 up

ip -n h2 addr add 198.18.2.2/24 dev h2-gws
ip -n h2 link set h2-gws up
ip -n h2 route add default via 198.18.2.1
set +e
echo "SETUP ok"

# sw COMMAND [OPTIONS] runs swanctl against this case's charon: its
# strongswan.conf, its vici socket (--uri is an option of each command, so
# it follows the command). swanctl needs no namespace, only the socket.
sw() { STRONGSWAN_CONF="$dir/strongswan.conf" timeout 25 swanctl "$1" --uri "unix://$dir/charon.vici" "${@:2}"; }

# start_charon runs charon in gws with its own strongswan.conf, and a
# private /run for its compiled-in pid file (/var/run/charon.pid). Every
# step execs, so cpid is charon's own PID. Waits for vici to answer.
start_charon() {
	ip netns exec gws env STRONGSWAN_CONF="$dir/strongswan.conf" unshare --mount --propagation private \
		sh -c 'mount -t tmpfs tmpfs /run && exec "$0"' "$CHARON" > "$dir/charon.out" 2>&1 &
	cpid=$!
	for i in $(seq 100); do
		[ -S "$dir/charon.vici" ] && sw --stats > "$dir/stats.txt" 2>&1 && return 0
		kill -0 $cpid 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

stop_charon() {
	kill -TERM $cpid 2>/dev/null
	for i in $(seq 50); do
		kill -0 $cpid 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 $cpid 2>/dev/null; then
		echo "charon did not stop within 5 s of SIGTERM"
		kill -KILL $cpid
	fi
	wait $cpid 2>/dev/null
	ip -n gws xfrm state flush
	ip -n gws xfrm policy flush
}

` + gwaDaemonShell + `
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

# ping_check NS DST COUNT prints ok when every echo was answered.
ping_check() {
	local out="$dir/ping-$1-$2.txt"
	ip netns exec $1 ping -n -c $3 -i 0.2 -W 2 -w $(( $3 / 5 + 5 )) $2 > "$out" 2>&1
	local k
	# Every request answered, however late (netns.Ping says why not ping's totals).
	for k in $(seq 1 $3); do grep -q "icmp_seq=$k " "$out" || { echo fail; return; }; done
	echo ok
}

# snapshot SUFFIX dumps both sides' counters.
snapshot() {
	daemon_status || status=fail
	echo "=== $name xfrm-state-$1"
	ip -n gws -s xfrm state
	echo "=== $name xfrm_stat-$1"
	ip netns exec gws cat /proc/net/xfrm_stat
	echo "=== $name status-$1"
	cat "$dir/state/status.json" 2>/dev/null
	echo
	echo "=== $name result"
}

# run_ss_case NAME INITIATOR (ipsecgw or strongswan).
run_ss_case() {
	name=$1 dir=$SHARE/$1 status=ok
	local who=$2 t0=$EPOCHREALTIME r="RESULT case=$1"
	if ! start_charon; then
		stop_charon
		echo "$r charon=fail"
		ls -la "$dir"
		cat "$dir/stats.txt" "$dir/charon.out" "$dir/charon.log"
		return
	fi
	if ! sw --load-all --file "$dir/swanctl.conf" > "$dir/load-all.txt" 2>&1; then
		echo "$r charon=ok load=fail"
		cat "$dir/load-all.txt" "$dir/charon.log"
		stop_charon
		return
	fi
	r="$r charon=ok load=ok"
	if ! start_daemon; then
		stop_daemon
		echo "$r daemon=fail daemon-exit=$daemon_exit"
		cat "$dir/daemon.log" "$dir/charon.log"
		stop_charon
		return
	fi
	r="$r daemon=ok"
	# A responder-only VPN's st0.1 is down until the peer negotiates.
	local unit_before=skip unit_after=not-run
	[ $who = ipsecgw ] || unit_before=$(unit_wait down)
	r="$r unit-before=$unit_before"
	local initiate=skip
	if [ $who = strongswan ]; then
		initiate=ok
		sw --initiate --child net --timeout 20 > "$dir/initiate.txt" 2>&1 || initiate=fail
	fi
	r="$r initiate=$initiate"
	local tunnel=ok ping_out=not-run ping_in=not-run
	wait_tunnel || tunnel=fail
	if [ $tunnel = ok ]; then
		unit_after=$(unit_wait up)
		# The quiet phase: nothing but these pings crosses the tunnel
		# between the two snapshots.
		sleep 0.3
		snapshot before
		ping_out=$(ping_check h1 198.18.2.2 5)
		ping_in=$(ping_check h2 198.18.1.2 5)
		sleep 0.5
	fi
	snapshot after
	echo "=== $name sas"
	sw --list-sas 2>&1
	echo "=== $name policies"
	ip -n gws xfrm policy
	echo "=== $name result"
	stop_daemon
	stop_charon
	r="$r tunnel=$tunnel unit-after=$unit_after ping-out=$ping_out ping-in=$ping_in status=$status daemon-exit=$daemon_exit"
	echo "$r seconds=$(awk -v a=$t0 -v b=$EPOCHREALTIME 'BEGIN { printf "%.2f", b - a }')"
}
`

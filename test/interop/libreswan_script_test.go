package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// lswCase is one IKEv2 negotiation between ipsecgw (gwa) and libreswan's
// pluto (gwl), and the pings sent through the Child SA it makes:
//
//	h1 ── gwa (ipsecgw, st0.1) ══ raw ESP ══ gwl (pluto, kernel XFRM) ── h2
//
// gwl has the address gwk has in the kernel test (192.0.2.2).
type lswCase struct {
	name             string
	ipsecgwInitiates bool   // else pluto initiates (whack --initiate)
	espEnc, espAuth  string // ipsecgw's ipsec proposal; espAuth "" for an AEAD
	lswESP           string // pluto's esp=
	kernelAlg        string // what ip xfrm state shows on gwl
	// cert authenticates with certificates instead of the pre-shared key
	// (libreswan_cert_test.go).
	cert bool
	// ppk: a postquantum preshared key both insist on
	// (libreswan_ppk_test.go).
	ppk bool
}

// Both cases negotiate IKE with AES-256-CBC, SHA-256 (PRF and integrity)
// and MODP-2048, which pluto spells aes256-sha2_256;modp2048.
var lswCases = []lswCase{
	{name: "ipsecgw-initiates-aes256gcm16", ipsecgwInitiates: true, espEnc: "aes-256-gcm",
		lswESP: "aes_gcm256", kernelAlg: "rfc4106(gcm(aes))"},
	{name: "libreswan-initiates-aes256-sha2_256", espEnc: "aes-256-cbc", espAuth: "hmac-sha-256-128",
		lswESP: "aes256-sha2_256", kernelAlg: "hmac(sha256)"},
	lswCertCase,
	{name: "ipsecgw-initiates-ppk", ipsecgwInitiates: true, espEnc: "aes-256-gcm",
		lswESP: "aes_gcm256", kernelAlg: "rfc4106(gcm(aes))", ppk: true},
	{name: "libreswan-initiates-ppk", espEnc: "aes-256-gcm",
		lswESP: "aes_gcm256", kernelAlg: "rfc4106(gcm(aes))", ppk: true},
}

// lswPSK is test material, never a real secret.
const lswPSK = "ipsecgw-libreswan-interop-psk"

// ipsecgwConfig is gwa's configuration: a route-based VPN on st0.1 whose
// proxy identity is the two host subnets, since pluto's responder does not
// narrow ipsecgw's default 0.0.0.0/0 selectors.
func (c lswCase) ipsecgwConfig() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("set system host-name gwa")
	w("set interfaces gwa-h1 unit 0 family inet address 198.18.1.1/24")
	w("set interfaces gwa-gwl unit 0 family inet address %s/24", gwaOuter4)
	w("set interfaces st0 unit 1 family inet")
	w("set routing-options static route %s next-hop st0.1", h2Net4)
	w("set security ike proposal ike_prop dh-group group14")
	w("set security ike proposal ike_prop authentication-algorithm sha-256")
	w("set security ike proposal ike_prop encryption-algorithm aes-256-cbc")
	w("set security ike policy ike_policy mode main")
	w("set security ike policy ike_policy proposals ike_prop")
	b.WriteString(c.ipsecgwAuth())
	w("set security ike gateway ike_gw ike-policy ike_policy")
	w("set security ike gateway ike_gw address %s", gwkOuter4)
	w("set security ike gateway ike_gw external-interface gwa-gwl")
	w("set security ike gateway ike_gw version v2-only")
	w("set security ipsec proposal ipsec_prop protocol esp")
	w("set security ipsec proposal ipsec_prop encryption-algorithm %s", c.espEnc)
	if c.espAuth != "" {
		w("set security ipsec proposal ipsec_prop authentication-algorithm %s", c.espAuth)
	}
	w("set security ipsec policy ipsec_policy proposals ipsec_prop")
	p := "set security ipsec vpn ipsec_vpn "
	w(p + "bind-interface st0.1")
	w(p + "ike gateway ike_gw")
	w(p + "ike ipsec-policy ipsec_policy")
	w(p+"ike proxy-identity local %s", h1Net4)
	w(p+"ike proxy-identity remote %s", h2Net4)
	if c.ipsecgwInitiates {
		w(p + "establish-tunnels immediately")
	} else {
		w(p + "establish-tunnels responder-only")
	}
	if c.ppk {
		b.WriteString(lswPPKConfig) // libreswan_ppk_test.go
	}
	return b.String()
}

// plutoConfig is gwl's ipsec.conf. No updown script runs (the tree's would
// look for itself under /usr/libexec): the guest script routes h1's subnet
// towards gwa, and the kernel's policies do the rest.
func (c lswCase) plutoConfig() string {
	return c.plutoPPK(fmt.Sprintf(`config setup
	uniqueids=yes

conn lsw
	ikev2=insist
%s	type=tunnel
	encapsulation=no
	left=%s
	leftsubnet=%s
	leftupdown=%%disabled
	right=%s
	rightsubnet=%s
	ike=aes256-sha2_256;modp2048
	esp=%s
	pfs=no
	auto=add
`, c.plutoAuth(), gwkOuter4, h2Net4, gwaOuter4, h1Net4, c.lswESP))
}

func plutoSecrets() string {
	return fmt.Sprintf("%s %s : PSK %q\n", gwkOuter4, gwaOuter4, lswPSK)
}

// writeLswCases puts each case's files into its directory under share:
// gwa's configuration, pluto's configuration, secrets and NSS database.
func writeLswCases(share string, cs []lswCase) error {
	for _, c := range cs {
		dir := filepath.Join(share, c.name)
		if err := os.MkdirAll(filepath.Join(dir, "ipsec.d"), 0o755); err != nil {
			return err
		}
		files := map[string]string{
			"ipsecgw.conf":  c.ipsecgwConfig(),
			"ipsec.conf":    c.plutoConfig(),
			"ipsec.secrets": plutoSecrets() + c.plutoPPKSecret(),
		}
		for name, text := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
				return err
			}
		}
		if err := makeNSSDB(filepath.Join(dir, "nss")); err != nil {
			return err
		}
		if c.cert {
			if err := writeLswCerts(dir); err != nil {
				return err
			}
		}
	}
	return nil
}

// lswGuestScript is what runs inside UML: the topology once, then every
// case. The ipsecgw binary must be in share.
func lswGuestScript(share string, cs []lswCase) string {
	var b strings.Builder
	b.WriteString("#!/bin/bash\n# Written by ipsecgw/test/interop: ipsecgw (gwa) against libreswan's pluto (gwl).\n")
	fmt.Fprintf(&b, "SHARE='%s'\nLSWTREE='%s'\nLSW='%s'\nLSWLIB='%s'\n", share, libreswanTree, libreswanExec, libreswanLibs)
	b.WriteString(lswScriptBody)
	for _, c := range cs {
		who := "libreswan"
		if c.ipsecgwInitiates {
			who = "ipsecgw"
		}
		fmt.Fprintf(&b, "run_lsw_case '%s' %s\n", c.name, who)
	}
	b.WriteString("echo '=== end'\n")
	return b.String()
}

// lswScriptBody builds the topology and defines run_lsw_case. What the test
// reads:
//
//	RESULT case=NAME key=value ...   one line per case
//	=== NAME SECTION                 raw dumps, each taken twice around the
//	                                 quiet phase of pings (SECTION-before,
//	                                 SECTION-after): xfrm-state (ip -s xfrm
//	                                 state on gwl), status (ipsecgw's
//	                                 status.json); and once after it:
//	                                 lsw-states (whack --showstates),
//	                                 lsw-traffic (whack --trafficstatus)
//
// Every wait is bounded.
const lswScriptBody = `
set -e
for ns in h1 gwa gwl h2; do
	ip netns add $ns
	ip -n $ns link set lo up
done
ip link add name h1-gwa netns h1 type veth peer name gwa-h1 netns gwa
ip link add name gwa-gwl netns gwa type veth peer name gwl-gwa netns gwl
ip link add name gwl-h2 netns gwl type veth peer name h2-gwl netns h2

ip -n h1 addr add 198.18.1.2/24 dev h1-gwa
ip -n h1 link set h1-gwa up
ip -n h1 route add default via 198.18.1.1

# The inner traffic is IPv4 only. Without IPv6 in gwa, st0.1 sends no
# router solicitations or MLD reports, which ipsecgw would count as
# no-outbound-sa (no Child SA covers them) during the quiet phase.
ip netns exec gwa sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1

# gwa's addresses and routes come from ipsecgw's configuration.
for ns in gwa gwl; do
	ip netns exec $ns sysctl -qw net.ipv4.ip_forward=1
done

ip -n gwl addr add 192.0.2.2/24 dev gwl-gwa
ip -n gwl addr add 198.18.2.1/24 dev gwl-h2
ip -n gwl link set gwl-gwa up
ip -n gwl link set gwl-h2 up
# Routing must find a way to h1's subnet before pluto's out policy takes
# the packet (pluto runs no updown script here).
ip -n gwl route add 198.18.1.0/24 via 192.0.2.1

ip -n h2 addr add 198.18.2.2/24 dev h2-gwl
ip -n h2 link set h2-gwl up
ip -n h2 route add default via 198.18.2.1
set +e
echo "SETUP ok"

lsw() { ip netns exec gwl env LD_LIBRARY_PATH="$LSWLIB" "$LSW/$1" "${@:2}"; }
whack() { lsw whack --ctlsocket "$dir/run/pluto.ctl" "$@"; }

# ping_check NS DST COUNT prints ok when every echo was answered.
ping_check() {
	local out="$dir/ping-$1-$2.txt"
	ip netns exec $1 ping -n -c $3 -i 0.2 -W 2 -w $(( $3 / 5 + 5 )) $2 > "$out" 2>&1
	local k
	# Every request answered, however late (netns.Ping says why not ping's totals).
	for k in $(seq 1 $3); do grep -q "icmp_seq=$k " "$out" || { echo fail; return; }; done
	echo ok
}

start_pluto() {
	mkdir -p "$dir/run"
	# pluto insists on /usr/libexec/ipsec/addconn (a path compiled in):
	# it runs in a mount namespace of its own where the tree's libexec
	# covers the host's, which it never changes.
	ip netns exec gwl unshare -m --propagation private env LD_LIBRARY_PATH="$LSWLIB" sh -c \
		'mount --bind "$1/usr/libexec" /usr/libexec && shift && exec "$@"' sh "$LSWTREE" \
		"$LSW/pluto" --config "$dir/ipsec.conf" --nofork --stderrlog --secretsfile "$dir/ipsec.secrets" \
		--ipsecdir "$dir/ipsec.d" --nssdir "$dir/nss" --rundir "$dir/run" --nhelpers 0 --no-dnssec \
		> "$dir/pluto.log" 2>&1 &
	ppid=$!
	for i in $(seq 100); do
		[ -S "$dir/run/pluto.ctl" ] && whack --status > /dev/null 2>&1 && return 0
		kill -0 $ppid 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

stop_pluto() {
	whack --shutdown > /dev/null 2>&1 &
	for i in $(seq 50); do
		kill -0 $ppid 2>/dev/null || break
		sleep 0.1
	done
	kill -0 $ppid 2>/dev/null && kill -KILL $ppid
	wait $ppid 2>/dev/null
	ip -n gwl xfrm state flush
	ip -n gwl xfrm policy flush
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

# snapshot SUFFIX dumps both sides' counters.
snapshot() {
	daemon_status || status=fail
	echo "=== $name xfrm-state-$1"
	ip -n gwl -s xfrm state
	echo "=== $name status-$1"
	cat "$dir/state/status.json" 2>/dev/null
	echo
	echo "=== $name result"
}

# run_lsw_case NAME INITIATOR (ipsecgw or libreswan).
run_lsw_case() {
	name=$1 dir=$SHARE/$1 status=ok
	local who=$2 t0=$EPOCHREALTIME r="RESULT case=$1"
	if ! start_pluto; then
		echo "$r pluto=fail"
		cat "$dir/pluto.log"
		return
	fi
	whack --listen > "$dir/whack-listen.txt" 2>&1
	if ! lsw addconn --ctlsocket "$dir/run/pluto.ctl" --config "$dir/ipsec.conf" lsw > "$dir/addconn.txt" 2>&1; then
		echo "$r pluto=ok conn=fail"
		cat "$dir/addconn.txt" "$dir/pluto.log"
		stop_pluto
		return
	fi
	r="$r pluto=ok conn=ok"
	if ! start_daemon; then
		stop_daemon
		echo "$r daemon=fail daemon-exit=$daemon_exit"
		cat "$dir/daemon.log" "$dir/pluto.log"
		stop_pluto
		return
	fi
	r="$r daemon=ok"
	# A responder-only VPN's st0.1 is down until the peer negotiates.
	local unit_before=skip unit_after=not-run
	[ $who = ipsecgw ] || unit_before=$(unit_wait down)
	r="$r unit-before=$unit_before"
	# A case's own set-up of the running daemon (certificates: the CLI).
	if [ -e "$dir/daemon-setup.sh" ]; then
		SHARE=$SHARE dir=$dir bash "$dir/daemon-setup.sh" > "$dir/daemon-setup.txt" 2>&1 && r="$r daemon-setup=ok" || r="$r daemon-setup=fail"
	fi
	local initiate=skip
	if [ $who = libreswan ]; then
		initiate=ok
		timeout 20 ip netns exec gwl env LD_LIBRARY_PATH="$LSWLIB" "$LSW/whack" --ctlsocket "$dir/run/pluto.ctl" \
			--name lsw --initiate > "$dir/initiate.txt" 2>&1 || initiate=fail
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
		snapshot after
	else
		snapshot after
	fi
	echo "=== $name lsw-states"
	whack --showstates 2>&1
	echo "=== $name lsw-traffic"
	whack --trafficstatus 2>&1
	echo "=== $name pluto-log"
	cat "$dir/pluto.log"
	echo "=== $name result"
	stop_daemon
	stop_pluto
	r="$r tunnel=$tunnel unit-after=$unit_after ping-out=$ping_out ping-in=$ping_in status=$status daemon-exit=$daemon_exit"
	echo "$r seconds=$(awk -v a=$t0 -v b=$EPOCHREALTIME 'BEGIN { printf "%.2f", b - a }')"
	if [[ "$r" == *=fail* ]] || [[ "$r" == *unit-*=link:* ]] || [ $daemon_exit != 0 ]; then
		echo "=== $name logs"
		cat "$dir/initiate.txt" "$dir/daemon-setup.txt" 2>/dev/null
		echo "--- daemon.log"
		cat "$dir/daemon.log"
		echo "--- pluto.log"
		cat "$dir/pluto.log"
	fi
}
`

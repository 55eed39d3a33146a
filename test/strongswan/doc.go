// Package strongswan runs strongSwan's IKE daemon, charon, inside a test
// network namespace, so that root-only tests can hold ipsecgw against an
// independent IKEv2 (and IKEv1) implementation:
//
//	n := netns.New(t, "gw1", "gw2")
//	c := strongswan.Start(t, n, "gw2", strongswan.Config{Connections: ...})
//	err := c.Initiate("net")
//	sas, err := c.ListSAs()
//
// Start writes strongswan.conf and swanctl.conf into t.TempDir(), starts
// Debian's /usr/lib/ipsec/charon (never the system service), waits for its
// vici socket, loads the configuration with swanctl, and registers a cleanup
// that stops charon by PID (SIGTERM, bounded wait, SIGKILL) and, when the test
// has failed, logs the tail of charon's log.
//
// # Userspace ESP on a kernel without XFRM
//
// The machine's kernel has no XFRM and no ESP, so charon's usual kernel
// interface (kernel-netlink's XFRM half) cannot install SAs: it gets
// "received netlink error: Function not implemented (38)" for every SAD entry.
// The kernel-libipsec plugin does ESP in userspace instead: it creates a TUN
// device, ipsec0, routes the remote traffic selectors into it, and seals and
// opens packets in charon's own process. What that means for tests:
//
//   - Plugin order matters. kernel-libipsec must come before kernel-netlink in
//     the load list, so it is the registered IPsec backend. kernel-netlink is
//     still required, for its kernel-net half (addresses, routes, the routing
//     rule): without it charon aborts with "libcharon has unmet dependency:
//     CUSTOM:kernel-net". Loaded second, its XFRM half is never used.
//   - load_modular = no and an explicit load list (Plugins): the Debian
//     configuration under /etc/strongswan.d is never read.
//   - Debian 12's build needs the kdf plugin (without it IKE_SA_INIT ends in
//     "key derivation failed"), and charon will not start without a SHA-1
//     hasher (NAT detection), whatever the proposals. The openssl plugin
//     provides every algorithm the tests use (AES-CBC, AES-GCM,
//     ChaCha20-Poly1305, SHA-1/2, MODP, ECP, X25519), so the separate aes,
//     gcm, sha1, sha2, hmac, gmp, curve25519 and chapoly plugins are not
//     loaded. openssl (like gcm) is in Debian's libstrongswan-standard-
//     plugins, which a --no-install-recommends install of strongswan-charon
//     leaves out; without it there is no AES-GCM and no ECP at all.
//   - libipsec only does UDP-encapsulated ESP (RFC 3948): it declares
//     KERNEL_REQUIRE_UDP_ENCAPSULATION, so charon sends a random
//     NAT_DETECTION_SOURCE_IP hash (a faked NAT), moves IKE to port 4500 after
//     IKE_SA_INIT, and sends ESP inside UDP 4500 through its own socket, with
//     no NAT anywhere. A peer (ipsecgw) therefore always sees "peer is behind
//     NAT" and must speak ESP-in-UDP on 4500; list-sas shows encap=yes and
//     nat-remote=yes.
//   - libipsec has no extended sequence numbers: an ESN proposal is accepted
//     in IKE and then fails with "IPsec SA: ESN not supported".
//   - libipsec does tunnel mode only, and routes rather than matching
//     policies in the kernel: for each CHILD SA it adds a route to the remote
//     traffic selector via ipsec0 in table 220 (rule "from all lookup 220",
//     priority 220), with the gateway's own address inside the local traffic
//     selector as source. The gateway must therefore own such an address (a
//     LAN interface, or one on lo); without one the CHILD SA fails with
//     "error installing route with policy ... unable to install IPsec
//     policies (SPD)". Because of that source address the gateway's own
//     packets to the remote subnet use the tunnel as well as forwarded ones.
//   - By the plugin's source (not exercised here): a remote traffic selector
//     equal to the peer's own address is refused ("conflicts with IKE
//     traffic") unless charon.plugins.kernel-libipsec.allow_peer_ts = yes,
//     and one that covers the peer gets an exclude route for it.
//
// # Running charon in a namespace
//
// charon's pid file, /var/run/charon.pid, is compiled in, and charon refuses
// to start while it names a live process; /var/run is a symlink to /run on
// Debian. Each charon therefore runs as
//
//	ip netns exec NS unshare --mount --propagation private \
//	    sh -c 'mount -t tmpfs tmpfs /run && exec "$0"' /usr/lib/ipsec/charon
//
// with STRONGSWAN_CONF pointing at its own strongswan.conf. Every step
// execs, so the started process is charon itself and its PID is the one to
// signal. ip netns exec already enters a new mount namespace (to remount
// /sys); unshare makes that explicit and private. The tmpfs hides the host's
// /run only from this charon; /tmp (where t.TempDir lives) stays shared, so
// the configuration, the log and the vici socket are reachable from the test.
//
// The vici socket lives in its own short directory under os.TempDir, not in
// t.TempDir: a Unix socket path is limited to 107 bytes and subtest names make
// t.TempDir long. charon leaves the socket file behind when it stops, which is
// why every Start gets a fresh directory. swanctl talks to that socket with
// --uri and needs no namespace; it reads the same strongswan.conf (for its own
// small plugin list) and swanctl.conf through --file, and looks for
// credentials in the x509/, private/, ... directories beside it, which Start
// creates empty so that certificate tests can drop files there.
//
// # Configuration files
//
// strongSwan's settings syntax takes one key per line: a value runs to the end
// of the line (or to "#" or "}"), so "a = 1  b = 2" sets a to "1  b = 2".
// Values are quoted here when they hold anything but plain characters. A
// section repeated later is merged and a repeated key wins, so the raw Extra
// and Charon lines can override anything the structured fields generate.
//
// charon logs to a file (Charon.Log) with ike 2, cfg 2, knl 2, net 1 and
// milliseconds; with a filelog configured it writes nothing to syslog.
//
// # Test networks
//
// Namespaces with IPv6 hosts should turn off duplicate address detection
// before their links exist (net.ipv6.conf.{all,default}.accept_dad=0, see
// twoSites in the tests): otherwise the first IPv6 packet through a fresh
// topology waits about a second for neighbour discovery.
package strongswan

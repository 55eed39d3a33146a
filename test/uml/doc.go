// Package uml boots Debian's User-Mode Linux kernel with the host's file
// system as its root and runs a shell script inside it as root. It is how
// tests reach a Linux kernel with XFRM and ESP when the host kernel has none
// and loads no modules: the UML kernel (6.1, package user-mode-linux) is an
// ordinary host process, and inside it namespaces, veth, TUN, XFRM and raw
// ESP all work. Run needs no root on the host.
//
//	uml.RequireUML(t)
//	res, err := uml.Run(ctx, "ip xfrm state; uname -r", uml.Options{ShareDir: t.TempDir()})
//
// # How a boot works
//
// Run makes a run directory (os.MkdirTemp, removed afterwards) and writes
// into it: the caller's script; bin/modprobe, built from ./kmod/modprobe by
// BuildStatic; kernel-modprobe, a shell filter in front of it; and init, the
// wrapper that replaces the distribution's init. It then starts, in its own
// process group and with the run directory as working directory:
//
//	/usr/bin/linux.uml mem=512M root=/dev/root rootfstype=hostfs rootflags=/ rw
//	    init=RUN/init umid=ipsecgw-uml-N uml_dir=RUN
//	    con=null con0=null,fd:1 ssl=null noreboot quiet [Options.KernelArgs...]
//
// root/rootfstype/rootflags mount the host's / through hostfs, read-write.
// umid and uml_dir keep UML's pid file and mconsole socket in the run
// directory instead of ~/.uml. con0=null,fd:1 sends the console to a pipe
// Run reads (Result.Console) and reads nothing; con=null and ssl=null stop
// every other console and serial line, which Debian's kernel would otherwise
// attach to an xterm. No eth/vec argument is given, so the guest has no
// network device but its loopback and what the script creates; Options
// refuses arguments that would add one.
//
// The init wrapper (PID 1, /bin/sh from the host):
//   - mounts proc, sysfs, devpts, and tmpfs on /dev/shm, /run and /tmp (the
//     kernel has already mounted devtmpfs on /dev); /run being the guest's
//     own is what keeps "ip netns" state off the host;
//   - before covering /tmp, bind-mounts the run and share directories aside
//     under /run/uml and binds them back at their host paths afterwards, so a
//     path under the host's /tmp (every t.TempDir) means the same file inside
//     and out;
//   - sets /proc/sys/kernel/modprobe to RUN/kernel-modprobe and loads
//     Options.Modules (DefaultModules when nil) with bin/modprobe, which is
//     also first in the script's PATH as "modprobe";
//   - brings lo up, cds to the share directory (else /tmp), exports
//     UML_SHARE, and runs the script with stdin /dev/null and stdout and
//     stderr to RUN/output; then writes its status to RUN/status, syncs, and
//     powers off with "echo o > /proc/sysrq-trigger". Guest uptime at the
//     script's start goes to RUN/boot (Result.Boot).
//
// A wrapper step that fails writes RUN/init-error and powers off; Run turns
// that, a missing status (timeout, crash) or a failed start into an error
// with the console attached. On return, and on timeout, Run kills the whole
// process group: UML runs each guest process as a host process of its own.
// Boots are serialised machine-wide by an flock on $TMPDIR/ipsecgw-uml.lock.
//
// # Modules
//
// Debian's README expects the guest to mount /usr/lib/uml/modules on
// /lib/modules and to run kmod's modprobe. Neither works here: the host has
// no kmod (no modprobe, no insmod) and no /lib/modules directory to mount
// on, and the guest's root is the host's. So package kmod reads the
// modules.dep, modules.alias and modules.builtin that depmod left in
// /usr/lib/uml/modules/RELEASE and inserts files with finit_module(2), and
// kmod/modprobe wraps it in modprobe's command line. The kernel's own
// requests (request_module, e.g. "crypto-gcm", "net-pf-10",
// "xfrm-type-2-50") reach it through kernel.modprobe, so on-demand loading
// works too. The crypto API asks for every template instance
// ("crypto-rfc4106(gcm(aes))", then "...-all") before building it from
// templates; kernel-modprobe answers those "no" in the shell, since starting
// a Go binary costs ~0.1 s in UML and a first GCM SA would ask about twenty
// times.
//
// IPv6, veth, TUN, xfrm_user, esp4/esp6 and every ESP cipher are modules in
// this kernel; AES, SHA-1, SHA-256, cryptomgr and the tunnel mode itself are
// built in. DefaultModules preloads the set ipsecgw needs (~0.25 s).
//
// # Facts checked by this package's tests (kernel 6.1.176)
//
//   - A boot to the script's start takes about 2 s (1.7 s without modules);
//     power-off and process exit add ~0.2 s.
//   - hostfs root is read-write and the guest's root writes as the host user
//     running UML: files written to the share directory are on the host when
//     Run returns (sync runs before power-off; power-off does not sync).
//   - /dev/net/tun does not exist until tun is loaded; devtmpfs then creates
//     it (10,200). No mknod is needed, but nothing can open a missing node to
//     trigger autoloading, so tun must be preloaded (DefaultModules does).
//     "ip tuntap add" works in the root namespace and in named ones.
//   - Static Go binaries built on the host run in the guest (dynamically
//     linked host binaries run too: the host's libraries are there).
//   - Tunnel-mode ESP between namespaces over veth works for
//     rfc4106(gcm(aes)) with 256-bit keys, cbc(aes)+hmac(sha256) (128-bit
//     truncation), cbc(des3_ede)+hmac(sha1), rfc7539esp(chacha20,poly1305),
//     IPv4 and IPv6, ESN (GCM, and authencesn for CBC+HMAC) with a replay
//     window, and ESP-in-UDP (encap espinudp 4500 4500) over IPv4 and IPv6.
//
// # Gotchas
//
//   - ESP-in-UDP is decapsulated only where a UDP socket with
//     UDP_ENCAP_ESPINUDP holds the port (an IKE daemon's NAT-T socket);
//     without one, packets to 4500 get port unreachable. ./espinudp is such a
//     holder, a static binary for the guest.
//   - With several SA pairs between the same two outer addresses, each pair
//     needs its own reqid on the states and the policy templates, or the
//     kernel picks any state for the destination.
//   - iproute2 takes abbreviations: "ip link add a type veth" reads "a" as
//     "address". Say "name".
//   - A TUN device shows NO-CARRIER until a process attaches to it.
//   - UML opens ./root_fs as its first disk if there is one: Run starts it
//     in the run directory.
//   - An init that exits panics the kernel; the wrapper waits for the
//     power-off it asked for instead.
//   - Writing the console to a regular file makes UML log "epollctl add err";
//     Run gives it a pipe.
//   - The script runs as root on a read-write host root: what it writes
//     outside /tmp, /run, /dev/shm and the share directory changes the host.
package uml

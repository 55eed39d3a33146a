package uml

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"ipsecgw/test/uml/kmod"
)

// The run directory: written by the host before the boot, by the init
// wrapper during it, read by the host after it.
const (
	initFile        = "init"            // the init wrapper, PID 1
	scriptFile      = "script"          // the caller's script
	modprobeFile    = "bin/modprobe"    // kmod/modprobe, static; first in the script's PATH
	kernModprobe    = "kernel-modprobe" // what /proc/sys/kernel/modprobe names
	outputFile      = "output"          // the script's stdout and stderr
	statusFile      = "status"          // the script's exit status, written after it ends
	bootFile        = "boot"            // guest uptime (seconds) when the script started
	initErrorFile   = "init-error"      // why the wrapper gave up before the script
	modprobePackage = "ipsecgw/test/uml/kmod/modprobe"
)

// guest is one boot's run directory.
type guest struct {
	run     string // host directory, also at the same path inside the guest
	share   string // Options.ShareDir, or ""
	modules []string
	release string // the UML kernel's, naming its module directory
}

func (g *guest) path(name string) string { return filepath.Join(g.run, name) }

// prepare writes everything the boot needs into the run directory.
func (g *guest) prepare(ctx context.Context, script string) error {
	if err := BuildStatic(ctx, modprobePackage, g.path(modprobeFile)); err != nil {
		return err
	}
	ix, err := kmod.Open(filepath.Join(ModuleBase, g.release))
	if err != nil {
		return fmt.Errorf("uml: %w", err)
	}
	files := []struct {
		name string
		text string
	}{
		{scriptFile, script},
		{initFile, g.initScript()},
		{kernModprobe, g.kernelModprobe(ix)},
	}
	for _, f := range files {
		if err := os.WriteFile(g.path(f.name), []byte(f.text), 0o755); err != nil {
			return fmt.Errorf("uml: writing %s: %w", f.name, err)
		}
	}
	return nil
}

// initScript is PID 1: it gives the guest its own /proc, /sys, /dev, /run
// and /tmp, carries the run and share directories across the new /tmp, loads
// modules, runs the script with its output and status going to the run
// directory, and powers off.
func (g *guest) initScript() string {
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/sh\n# UML init wrapper written by ipsecgw/test/uml for one boot.\n")
	fmt.Fprintf(&b, "RUN=%s\nSHARE=%s\nMODULES=%s\n", shellQuote(g.run), shellQuote(g.share), shellQuote(strings.Join(g.modules, " ")))
	b.WriteString(initBody)
	return b.String()
}

// initBody runs with the host's / as the guest's root, read-write: every
// mount below is the guest's own, but a file written outside a tmpfs lands
// on the host. It must never exit (PID 1 exiting panics the kernel); it ends
// by asking for a power-off and waiting for it.
const initBody = `
PATH=$RUN/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
HOME=/tmp
export PATH HOME

note() { echo "uml-init: $*"; }
halt() {
	sync
	echo o > /proc/sysrq-trigger
	sleep 60
}
fail() {
	note "$*"
	echo "$*" > "$RUN/init-error"
	halt
}

mount -t proc proc /proc || fail "mount /proc"
mount -t sysfs sysfs /sys || fail "mount /sys"
# The kernel mounts devtmpfs on /dev itself (CONFIG_DEVTMPFS_MOUNT).
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev || fail "mount /dev"
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts || fail "mount /dev/pts"
mount -t tmpfs -o mode=1777 tmpfs /dev/shm || fail "mount /dev/shm"
mount -t tmpfs -o mode=0755 tmpfs /run || fail "mount /run"

# /tmp becomes a tmpfs, which would hide the run and share directories when
# they live under the host's /tmp: bind them aside, mount, bind them back at
# the same paths.
mkdir -p /run/uml/run /run/uml/share
mount --bind "$RUN" /run/uml/run || fail "bind $RUN"
if [ -n "$SHARE" ]; then mount --bind "$SHARE" /run/uml/share || fail "bind $SHARE"; fi
mount -t tmpfs -o mode=1777 tmpfs /tmp || fail "mount /tmp"
mkdir -p "$RUN" && mount --bind /run/uml/run "$RUN" || fail "rebind $RUN"
if [ -n "$SHARE" ]; then
	mkdir -p "$SHARE" && mount --bind /run/uml/share "$SHARE" || fail "rebind $SHARE"
fi

# The host has no kmod; kmod/modprobe loads from /usr/lib/uml/modules, for
# us now and for the kernel's on-demand requests later.
echo "$RUN/kernel-modprobe" > /proc/sys/kernel/modprobe || fail "set kernel.modprobe"
if [ -n "$MODULES" ]; then
	modprobe $MODULES || fail "modprobe $MODULES"
fi

ip link set lo up || fail "lo up"
echo uml > /proc/sys/kernel/hostname

cd "${SHARE:-/tmp}" || fail "cd ${SHARE:-/tmp}"
read -r up _ < /proc/uptime && echo "$up" > "$RUN/boot"
UML_SHARE=$SHARE "$RUN/script" > "$RUN/output" 2>&1 < /dev/null
echo $? > "$RUN/status"
halt
`

// kernelModprobe is what the kernel runs for an on-demand load, as
// "kernel-modprobe -q -- NAME". Building a crypto transform makes the kernel
// ask for every template instance ("crypto-rfc4106(gcm(aes))", then the same
// with "-all") before it builds the instance itself; no module provides
// those, and starting the Go modprobe costs about 0.1 s in UML each time, so
// they are answered "no" here unless the index has such an alias.
func (g *guest) kernelModprobe(ix *kmod.Index) string {
	exceptions := ix.Aliases(func(p string) bool { return strings.Contains(p, "(") || strings.HasSuffix(p, "-all") })
	var b strings.Builder
	b.WriteString("#!/bin/sh\n# kernel.modprobe for one UML boot, written by ipsecgw/test/uml.\n")
	fast := true
	for _, e := range exceptions {
		if strings.ContainsAny(e, "*?[") {
			fast = false // a wildcard alias: let the real lookup decide
		}
	}
	if fast {
		b.WriteString("case \"$3\" in\n")
		if len(exceptions) > 0 {
			quoted := make([]string, len(exceptions))
			for i, e := range exceptions {
				quoted[i] = shellQuote(e)
			}
			fmt.Fprintf(&b, "%s) ;;\n", strings.Join(quoted, "|"))
		}
		b.WriteString("*'('*|*-all) exit 1 ;;\nesac\n")
	}
	fmt.Fprintf(&b, "exec %s \"$@\"\n", shellQuote(g.path(modprobeFile)))
	return b.String()
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

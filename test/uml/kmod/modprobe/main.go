// Command modprobe is the UML guest's modprobe(8): a small static binary the
// init wrapper runs to load modules before the test script, and that the
// kernel runs (through /proc/sys/kernel/modprobe) to load modules on demand,
// as "modprobe -q -- NAME".
//
// Usage: modprobe [-q] [-v] [-a] [-d DIR] [--] NAME...
//
// Every NAME is a module name or an alias (crypto-gcm, net-pf-10,
// xfrm-type-2-50, rtnl-link-veth). Modules come from DIR/<release>, DIR being
// /usr/lib/uml/modules unless -d says otherwise. -a is accepted for
// compatibility: every NAME is always loaded.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"ipsecgw/test/uml/kmod"
)

const defaultBase = "/usr/lib/uml/modules"

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	quiet, verbose, base := false, false, defaultBase
	var names []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			names = append(names, args[i+1:]...)
			i = len(args)
		case a == "-q" || a == "--quiet":
			quiet = true
		case a == "-v" || a == "--verbose":
			verbose = true
		case a == "-a" || a == "--all" || a == "-b" || a == "--use-blacklist":
		case a == "-d" && i+1 < len(args):
			i++
			base = args[i]
		case len(a) > 1 && a[0] == '-':
			fmt.Fprintf(os.Stderr, "modprobe: unknown option %q (know -q -v -a -d DIR)\n", a)
			return 2
		default:
			names = append(names, a)
		}
	}
	if len(names) == 0 {
		fmt.Fprintln(os.Stderr, "modprobe: no module named; usage: modprobe [-q] [-v] [-d DIR] [--] NAME...")
		return 2
	}

	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		fmt.Fprintf(os.Stderr, "modprobe: uname: %v\n", err)
		return 1
	}
	release := unix.ByteSliceToString(uts.Release[:])
	ix, err := kmod.Open(filepath.Join(base, release))
	if err != nil {
		fmt.Fprintf(os.Stderr, "modprobe: %v\n", err)
		return 1
	}
	loaded := map[string]bool{}
	if f, err := os.Open("/proc/modules"); err == nil {
		loaded, _ = kmod.ParseProcModules(f)
		f.Close()
	}
	l := &kmod.Loader{Index: ix, Loaded: loaded, Insert: insert}
	if verbose {
		l.Log = func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	}
	status := 0
	for _, n := range names {
		if err := l.Load(n); err != nil {
			if !quiet {
				fmt.Fprintf(os.Stderr, "modprobe: %v\n", err)
			}
			status = 1
		}
	}
	return status
}

// insert hands one module file to the kernel; EEXIST means another loader
// (the kernel's own request_module racing ours) got there first.
func insert(_, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.FinitModule(int(f.Fd()), "", 0); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("finit_module %s: %w", file, err)
	}
	return nil
}

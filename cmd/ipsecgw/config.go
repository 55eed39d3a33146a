package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"ipsecgw/config"
	"ipsecgw/config/schema"
	"ipsecgw/config/syntax"
)

func runConfig(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		configUsage(stderr)
		return 2
	}
	switch args[0] {
	case "check":
		return configCheck(args[1:], stdout, stderr)
	case "show":
		return configShow(args[1:], stdout, stderr)
	case "compare":
		return configCompare(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		configUsage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "ipsecgw config: unknown subcommand %q\n", args[0])
	configUsage(stderr)
	return 2
}

func configUsage(w io.Writer) {
	fmt.Fprint(w, `usage:
  ipsecgw config check [--interface-map JUNOS=LINUX,...] [--node-id N] FILE...
        validate configuration files (brace or set format); every error is
        printed as file:line:column: statement path: problem; expected ...
        (--node-id: as cluster node N would, "${node}" naming group nodeN)
  ipsecgw config show [--format brace|set] FILE
        print a configuration in the brace format ("show") or as set
        commands ("show | display set")
  ipsecgw config compare OLD NEW
        print what changes from OLD to NEW, as "show | compare" does
`)
}

func configCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("config check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	mapFlag := fs.String("interface-map", "", "map Junos interface names to Linux ones: et-0/2/10=eth1,...")
	quiet := fs.Bool("q", false, "print errors only, no notices")
	nodeID := fs.Int("node-id", 0, "check as cluster node N (apply-groups \"${node}\" is group nodeN)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "ipsecgw config check: no files given")
		return 2
	}
	ifmap, err := schema.ParseInterfaceMap(*mapFlag)
	if err != nil {
		fmt.Fprintf(stderr, "ipsecgw config check: %v\n", err)
		return 2
	}
	failed := false
	for _, file := range fs.Args() {
		cfg, err := loadModel(file, schema.Options{InterfaceMap: ifmap, NodeID: *nodeID})
		if err != nil {
			printErrors(stderr, err)
			failed = true
			continue
		}
		if !*quiet {
			for _, n := range cfg.Notices {
				fmt.Fprintf(stdout, "%s: notice: [edit %s] %s\n", file, n.Path, n.Msg)
			}
		}
		fmt.Fprintf(stdout, "%s: configuration check succeeds\n", file)
	}
	if failed {
		return 1
	}
	return 0
}

func loadTree(file string) (*config.Tree, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return config.Parse(file, src, nil)
}

func loadModel(file string, opts schema.Options) (*schema.Config, error) {
	t, err := loadTree(file)
	if err != nil {
		return nil, err
	}
	return schema.Build(t, opts)
}

func printErrors(w io.Writer, err error) {
	var list config.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			fmt.Fprintf(w, "error: %s\n", e)
		}
		return
	}
	fmt.Fprintf(w, "error: %v\n", err)
}

func configShow(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("config show", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "brace", "output format: brace or set")
	// Allow the flag after the file, as the README writes it.
	files, rest := splitArgs(args)
	if err := fs.Parse(rest); err != nil {
		return 2
	}
	files = append(files, fs.Args()...)
	if len(files) != 1 {
		fmt.Fprintln(stderr, "ipsecgw config show: give exactly one file")
		return 2
	}
	f, ok := syntax.ParseFormat(*format)
	if !ok {
		fmt.Fprintf(stderr, "ipsecgw config show: unknown format %q; expected brace or set\n", *format)
		return 2
	}
	t, err := loadTree(files[0])
	if err != nil {
		printErrors(stderr, err)
		return 1
	}
	if f == syntax.FormatSet {
		fmt.Fprint(stdout, config.FormatSet(t.Root))
	} else {
		fmt.Fprint(stdout, config.FormatBrace(t.Root))
	}
	return 0
}

// splitArgs separates leading positional arguments from flags, so that
// "show FILE --format set" works as well as "show --format set FILE".
func splitArgs(args []string) (positional, flags []string) {
	for i, a := range args {
		if len(a) > 1 && a[0] == '-' {
			return positional, args[i:]
		}
		positional = append(positional, a)
	}
	return positional, nil
}

func configCompare(args []string, stdout, stderr io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintln(stderr, "ipsecgw config compare: give OLD and NEW files")
		return 2
	}
	oldT, err := loadTree(args[0])
	if err != nil {
		printErrors(stderr, err)
		return 1
	}
	newT, err := loadTree(args[1])
	if err != nil {
		printErrors(stderr, err)
		return 1
	}
	fmt.Fprint(stdout, config.Compare(oldT, newT))
	return 0
}

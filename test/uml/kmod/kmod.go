// Package kmod loads Linux kernel modules the way modprobe(8) does, for a
// guest that has no kmod: a name or alias is resolved through the text files
// depmod writes (modules.dep, modules.alias, modules.builtin), the module's
// dependencies are inserted first, and each file goes to finit_module(2).
//
// It exists because the UML guest boots the host's root file system, and the
// host need not have kmod installed (this workplace's does not), while the
// UML kernel builds XFRM, ESP, IPv6, veth and TUN as modules.
package kmod

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Index is what depmod wrote for one kernel release: which module lives in
// which file, what it depends on, which names are aliases of which modules,
// and which modules are built into the kernel image.
type Index struct {
	dir     string              // the release's module directory
	files   map[string]string   // module name → file, relative to dir
	deps    map[string][]string // module name → names it needs, as modules.dep lists them
	aliases []alias             // in modules.alias order
	builtin map[string]bool
}

type alias struct {
	raw     string // as modules.alias spells it
	pattern string // normalised, may hold fnmatch wildcards
	module  string
}

// Open reads the index of the module directory dir (for example
// /usr/lib/uml/modules/6.1.176). modules.builtin is optional.
func Open(dir string) (*Index, error) {
	dep, err := os.Open(filepath.Join(dir, "modules.dep"))
	if err != nil {
		return nil, fmt.Errorf("kmod: module index: %w", err)
	}
	defer dep.Close()
	al, err := os.Open(filepath.Join(dir, "modules.alias"))
	if err != nil {
		return nil, fmt.Errorf("kmod: module index: %w", err)
	}
	defer al.Close()
	var builtin io.Reader = strings.NewReader("")
	if b, err := os.Open(filepath.Join(dir, "modules.builtin")); err == nil {
		defer b.Close()
		builtin = b
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("kmod: module index: %w", err)
	}
	ix, err := Parse(dep, al, builtin)
	if err != nil {
		return nil, fmt.Errorf("kmod: %s: %w", dir, err)
	}
	ix.dir = dir
	return ix, nil
}

// Parse builds an index from the contents of modules.dep, modules.alias and
// modules.builtin. Paths in it stay relative; Path joins them to Open's dir.
func Parse(dep, aliases, builtin io.Reader) (*Index, error) {
	ix := &Index{files: map[string]string{}, deps: map[string][]string{}, builtin: map[string]bool{}}
	err := eachLine(dep, "modules.dep", func(n int, line string) error {
		file, rest, ok := strings.Cut(line, ":")
		if !ok {
			return fmt.Errorf("modules.dep line %d: want \"file: deps...\", got %q", n, line)
		}
		name := NameOf(file)
		ix.files[name] = file
		for _, d := range strings.Fields(rest) {
			ix.deps[name] = append(ix.deps[name], NameOf(d))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachLine(aliases, "modules.alias", func(n int, line string) error {
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "alias" {
			return fmt.Errorf("modules.alias line %d: want \"alias PATTERN MODULE\", got %q", n, line)
		}
		ix.aliases = append(ix.aliases, alias{raw: f[1], pattern: normalizeAlias(f[1]), module: Normalize(f[2])})
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachLine(builtin, "modules.builtin", func(_ int, line string) error {
		ix.builtin[NameOf(line)] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ix, nil
}

// eachLine calls fn for every line that is neither blank nor a comment.
func eachLine(r io.Reader, what string, fn func(n int, line string) error) error {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; s.Scan(); n++ {
		line := strings.TrimSpace(s.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if err := fn(n, line); err != nil {
			return err
		}
	}
	if err := s.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", what, err)
	}
	return nil
}

// NameOf returns the module name of a module file path:
// "kernel/net/ipv4/esp4.ko" → "esp4", "kernel/crypto/ghash-generic.ko.xz" →
// "ghash_generic".
func NameOf(file string) string {
	base := path.Base(file)
	if i := strings.Index(base, ".ko"); i >= 0 {
		base = base[:i]
	}
	return Normalize(base)
}

// Normalize spells a module name the way the kernel does: '-' and '_' are
// the same character in module names, and the kernel uses '_'.
func Normalize(name string) string {
	return strings.ReplaceAll(name, "-", "_")
}

// normalizeAlias is Normalize outside bracket expressions, where '-' is a
// range and must stay (kmod does the same before looking an alias up).
func normalizeAlias(s string) string {
	b := []byte(s)
	inBracket := false
	for i, c := range b {
		switch {
		case c == '[':
			inBracket = true
		case c == ']':
			inBracket = false
		case c == '-' && !inBracket:
			b[i] = '_'
		}
	}
	return string(b)
}

// Resolve returns the modules that provide name: the module itself when one
// is called that, otherwise every module with a matching alias. builtin is
// true when the kernel already has it built in (nothing to load).
func (ix *Index) Resolve(name string) (modules []string, builtin bool, err error) {
	n := Normalize(name)
	if ix.builtin[n] {
		return nil, true, nil
	}
	if _, ok := ix.files[n]; ok {
		return []string{n}, false, nil
	}
	key := normalizeAlias(name)
	seen := map[string]bool{}
	for _, a := range ix.aliases {
		if ok, _ := path.Match(a.pattern, key); !ok || seen[a.module] {
			continue
		}
		seen[a.module] = true
		if ix.builtin[a.module] {
			builtin = true
			continue
		}
		modules = append(modules, a.module)
	}
	if len(modules) == 0 && !builtin {
		return nil, false, fmt.Errorf("kmod: module %q not found: no such module, alias or built-in in the index", name)
	}
	return modules, builtin, nil
}

// Order returns the modules that must be inserted, in insertion order, for
// module to load: its dependencies (each after its own) and then itself.
func (ix *Index) Order(module string) ([]string, error) {
	var order []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(m string, chain []string) error
	visit = func(m string, chain []string) error {
		switch state[m] {
		case 2:
			return nil
		case 1:
			return fmt.Errorf("kmod: dependency cycle: %s → %s", strings.Join(chain, " → "), m)
		}
		if _, ok := ix.files[m]; !ok {
			if ix.builtin[m] {
				state[m] = 2
				return nil
			}
			return fmt.Errorf("kmod: module %q (needed by %s) is not in modules.dep", m, strings.Join(chain, " → "))
		}
		state[m] = 1
		for _, d := range ix.deps[m] {
			if err := visit(d, append(chain, m)); err != nil {
				return err
			}
		}
		state[m] = 2
		order = append(order, m)
		return nil
	}
	if err := visit(Normalize(module), nil); err != nil {
		return nil, err
	}
	return order, nil
}

// Aliases returns every alias pattern for which keep is true, spelled as
// modules.alias has it.
func (ix *Index) Aliases(keep func(pattern string) bool) []string {
	var out []string
	for _, a := range ix.aliases {
		if keep(a.raw) {
			out = append(out, a.raw)
		}
	}
	return out
}

// Path returns the absolute file of a module.
func (ix *Index) Path(module string) string {
	return filepath.Join(ix.dir, ix.files[Normalize(module)])
}

// Loader inserts modules; Insert is given the module name and its file, and
// must treat "already loaded" as success. Loaded lists modules known to be
// in the kernel already (from /proc/modules), which are skipped.
type Loader struct {
	Index  *Index
	Loaded map[string]bool
	Insert func(module, file string) error
	// Log, when set, is told about every module inserted.
	Log func(format string, args ...any)
}

// Load loads name (a module name or alias) with its dependencies. An alias
// that several modules provide loads all of them, as modprobe does.
func (l *Loader) Load(name string) error {
	modules, _, err := l.Index.Resolve(name)
	if err != nil {
		return err
	}
	for _, m := range modules {
		order, err := l.Index.Order(m)
		if err != nil {
			return err
		}
		for _, o := range order {
			if l.Loaded[o] {
				continue
			}
			if err := l.Insert(o, l.Index.Path(o)); err != nil {
				return fmt.Errorf("kmod: loading %s (for %s): %w", o, name, err)
			}
			if l.Loaded == nil {
				l.Loaded = map[string]bool{}
			}
			l.Loaded[o] = true
			if l.Log != nil {
				l.Log("insmod %s", l.Index.Path(o))
			}
		}
	}
	return nil
}

// ParseProcModules returns the names listed in /proc/modules.
func ParseProcModules(r io.Reader) (map[string]bool, error) {
	loaded := map[string]bool{}
	err := eachLine(r, "/proc/modules", func(_ int, line string) error {
		name, _, _ := strings.Cut(line, " ")
		loaded[name] = true
		return nil
	})
	return loaded, err
}

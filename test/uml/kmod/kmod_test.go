package kmod

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A slice of the real UML 6.1 index: ESP over IPv6 needs xfrm_algo, ipv6
// and crc-ccitt first.
const (
	testDep = `kernel/net/ipv6/esp6.ko: kernel/net/xfrm/xfrm_algo.ko kernel/net/ipv6/ipv6.ko kernel/lib/crc-ccitt.ko
kernel/net/ipv6/ipv6.ko: kernel/lib/crc-ccitt.ko
kernel/net/xfrm/xfrm_algo.ko:
kernel/lib/crc-ccitt.ko:
kernel/crypto/gcm.ko:
kernel/crypto/ghash-generic.ko:
kernel/net/ipv4/esp4.ko: kernel/net/xfrm/xfrm_algo.ko
kernel/drivers/net/loop-a.ko: kernel/drivers/net/loop-b.ko
kernel/drivers/net/loop-b.ko: kernel/drivers/net/loop-a.ko
`
	testAlias = `# Aliases extracted from modules themselves.
alias crypto-gcm gcm
alias crypto-rfc4106 gcm
alias crypto-ghash-generic ghash_generic
alias xfrm-type-10-50 esp6
alias xfrm-type-2-50 esp4
alias net-pf-10 ipv6
alias pci:v00008086d*sv*sd*bc02sc00i* esp4
alias crypto-sha256 sha256_generic
`
	testBuiltin = "kernel/crypto/sha256_generic.ko\nkernel/crypto/aes_generic.ko\n"
)

func testIndex(t *testing.T) *Index {
	t.Helper()
	ix, err := Parse(strings.NewReader(testDep), strings.NewReader(testAlias), strings.NewReader(testBuiltin))
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func TestResolve(t *testing.T) {
	ix := testIndex(t)
	for _, tc := range []struct {
		name    string
		want    []string
		builtin bool
	}{
		{"esp6", []string{"esp6"}, false},
		{"ghash-generic", []string{"ghash_generic"}, false},        // '-' is '_' in names
		{"crypto-ghash_generic", []string{"ghash_generic"}, false}, // and in aliases
		{"xfrm-type-10-50", []string{"esp6"}, false},
		{"net-pf-10", []string{"ipv6"}, false},
		{"pci:v00008086d00001234sv0sd0bc02sc00i00", []string{"esp4"}, false},
		{"aes_generic", nil, true},
		{"crypto-sha256", nil, true},
	} {
		got, builtin, err := ix.Resolve(tc.name)
		if err != nil || !slices.Equal(got, tc.want) || builtin != tc.builtin {
			t.Errorf("Resolve(%q) = %v, %v, %v; want %v, %v, nil", tc.name, got, builtin, err, tc.want, tc.builtin)
		}
	}
	if _, _, err := ix.Resolve("crypto-rfc4106(gcm(aes))-all"); err == nil {
		t.Error("Resolve of an unknown alias: want an error")
	}
}

func TestOrderPutsDependenciesFirst(t *testing.T) {
	ix := testIndex(t)
	got, err := ix.Order("esp6")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"xfrm_algo", "crc_ccitt", "ipv6", "esp6"}
	if !slices.Equal(got, want) {
		t.Fatalf("Order(esp6) = %v, want %v", got, want)
	}
	if _, err := ix.Order("loop_a"); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Fatalf("Order of a dependency cycle: err = %v, want a cycle error", err)
	}
}

func TestLoaderSkipsLoadedAndReportsFailures(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{"modules.dep": testDep, "modules.alias": testAlias, "modules.builtin": testBuiltin} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := ParseProcModules(strings.NewReader("xfrm_algo 16384 1 esp4, Live 0x0\n"))
	if err != nil {
		t.Fatal(err)
	}
	var inserted []string
	l := &Loader{Index: ix, Loaded: loaded, Insert: func(m, file string) error {
		if file != filepath.Join(dir, ix.files[m]) {
			t.Errorf("Insert(%s) got file %s", m, file)
		}
		inserted = append(inserted, m)
		return nil
	}}
	for _, n := range []string{"xfrm-type-10-50", "esp6", "crypto-sha256"} {
		if err := l.Load(n); err != nil {
			t.Fatalf("Load(%s): %v", n, err)
		}
	}
	if want := []string{"crc_ccitt", "ipv6", "esp6"}; !slices.Equal(inserted, want) {
		t.Fatalf("inserted %v, want %v (xfrm_algo was loaded, esp6 only once, sha256 built in)", inserted, want)
	}
	if err := l.Load("no-such-thing"); err == nil {
		t.Fatal("Load of an unknown name: want an error")
	}
}

func TestParseRejectsMalformedIndex(t *testing.T) {
	if _, err := Parse(strings.NewReader("kernel/x.ko\n"), strings.NewReader(""), strings.NewReader("")); err == nil {
		t.Error("modules.dep line without ':': want an error")
	}
	if _, err := Parse(strings.NewReader(""), strings.NewReader("alias only-two\n"), strings.NewReader("")); err == nil {
		t.Error("modules.alias line with two fields: want an error")
	}
}

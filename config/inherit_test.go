package config

import (
	"strings"
	"testing"
)

const clusterConf = `groups {
    node1 {
        interfaces {
            eth1 {
                unit 0 {
                    family inet {
                        address 198.51.100.11/24;
                    }
                }
            }
        }
    }
    node2 {
        interfaces {
            eth1 {
                unit 0 {
                    family inet {
                        address 198.51.100.12/24;
                    }
                }
            }
        }
    }
    mtus {
        interfaces {
            "<eth*>" {
                mtu 1400;
            }
            "<lan?>" {
                mtu 9000;
            }
        }
    }
}
apply-groups [ "${node}" mtus ];
interfaces {
    eth2 {
        unit 0;
    }
    lan0 {
        mtu 1500;
    }
}
`

func addrOf(t *testing.T, tr *Tree, ifd string) string {
	t.Helper()
	f := tr.Root.Lookup("interfaces", ifd, "unit", "0", "family", "inet")
	if f == nil {
		return ""
	}
	var out []string
	for _, a := range f.Entries("address") {
		out = append(out, a.Key)
	}
	return strings.Join(out, ",")
}

func TestInheritNodeGroup(t *testing.T) {
	tr := mustParse(t, clusterConf)
	for node, want := range map[string]string{"node1": "198.51.100.11/24", "node2": "198.51.100.12/24", "": ""} {
		x, err := Expand(tr, node)
		if err != nil {
			t.Fatalf("%q: %v", node, err)
		}
		if got := addrOf(t, x, "eth1"); got != want {
			t.Errorf("node %q: eth1 address %q, want %q", node, got, want)
		}
		if x.Root.Child("groups") != nil || x.Root.Child("apply-groups") != nil {
			t.Errorf("Expand kept the group statements:\n%s", FormatBrace(x.Root))
		}
	}
	// The source tree is untouched.
	if addrOf(t, tr, "eth1") != "" {
		t.Fatal("Expand changed its input")
	}
}

func TestInheritWildcards(t *testing.T) {
	x, err := Expand(mustParse(t, clusterConf), "node1")
	if err != nil {
		t.Fatal(err)
	}
	mtu := func(ifd string) string {
		if s := x.Root.Lookup("interfaces", ifd, "mtu"); s != nil {
			return s.Value()
		}
		return ""
	}
	// eth1 comes from node1, then <eth*> matches it; eth2 is written here;
	// lan0 has its own mtu, which wins; no "<eth*>" entry is created.
	if mtu("eth1") != "1400" || mtu("eth2") != "1400" || mtu("lan0") != "1500" {
		t.Fatalf("mtu eth1=%q eth2=%q lan0=%q\n%s", mtu("eth1"), mtu("eth2"), mtu("lan0"), FormatBrace(x.Root))
	}
	for _, e := range x.Root.Lookup("interfaces").Entries("") {
		if IsWildcard(e.Key) {
			t.Fatalf("a wildcard created entry %s", e.Key)
		}
	}
}

func TestInheritPriority(t *testing.T) {
	src := `groups {
    a { system { host-name from-a; } interfaces { eth0 { description a; mtu 1000; } } }
    b { system { host-name from-b; } interfaces { eth0 { description b; mtu 2000; unit 0; } } }
    c { interfaces { eth0 { description c; } } }
}
apply-groups [ a b ];
interfaces {
    apply-groups c;
    eth0 {
        mtu 3000;
    }
}
`
	x, err := Expand(mustParse(t, src), "")
	if err != nil {
		t.Fatal(err)
	}
	check := func(want string, path ...string) {
		t.Helper()
		s := x.Root.Lookup(path...)
		if s == nil || s.Value() != want {
			t.Errorf("%v: got %v, want %q\n%s", path, s, want, FormatBrace(x.Root))
		}
	}
	check("from-a", "system", "host-name")                       // first group named wins
	check("3000", "interfaces", "eth0", "mtu")                   // written here wins
	check("c", "interfaces", "eth0", "description")              // deeper apply-groups wins
	if x.Root.Lookup("interfaces", "eth0", "unit", "0") == nil { // b fills what is missing
		t.Errorf("unit 0 from group b missing\n%s", FormatBrace(x.Root))
	}
}

func TestInheritExcept(t *testing.T) {
	src := `groups { g { interfaces { <*> { mtu 1400; } } } }
apply-groups g;
interfaces {
    eth0 { unit 0; }
    eth1 { apply-groups-except g; unit 0; }
}
`
	x, err := Expand(mustParse(t, src), "")
	if err != nil {
		t.Fatal(err)
	}
	if x.Root.Lookup("interfaces", "eth0", "mtu") == nil || x.Root.Lookup("interfaces", "eth1", "mtu") != nil {
		t.Fatalf("apply-groups-except not honoured:\n%s", FormatBrace(x.Root))
	}
}

func TestInheritErrors(t *testing.T) {
	_, err := Expand(mustParse(t, "groups { a { system { host-name h; } } }\napply-groups [ a nosuch ];\n"), "")
	if err == nil || !strings.Contains(err.Error(), `t.conf:2:18`) || !strings.Contains(err.Error(), `group "nosuch" is not defined`) {
		t.Fatalf("undefined group: %v", err)
	}
	// A wildcard is a key only inside a group.
	if _, err := Parse("t.conf", []byte("security { ike { proposal <p*> { dh-group group14; } } }\n"), seeded()); err == nil {
		t.Fatal("a wildcard outside a group was accepted")
	}
	if _, err := Parse("t.conf", []byte("groups { g { interfaces { <> { mtu 1400; } } } }\n"), seeded()); err == nil {
		t.Fatal("an empty wildcard was accepted")
	}
	// Groups do not nest.
	if _, err := Expand(mustParse(t, "groups { a { interfaces { apply-groups b; } } b; }\n"), ""); err == nil || !strings.Contains(err.Error(), "t.conf:1:27: groups a interfaces apply-groups: apply-groups inside a group") {
		t.Fatalf("apply-groups inside a group: %v", err)
	}
	if _, err := Parse("t.conf", []byte("groups { g { groups { h; } } }\n"), seeded()); err == nil {
		t.Fatal("a group inside a group was accepted")
	}
}

func TestInheritKeepsGroupPositions(t *testing.T) {
	x, err := Expand(mustParse(t, clusterConf), "node2")
	if err != nil {
		t.Fatal(err)
	}
	a := x.Root.Lookup("interfaces", "eth1", "unit", "0", "family", "inet", "address", "198.51.100.12/24")
	if a == nil || a.Pos.Line != 18 || a.InheritedFrom != "node2" {
		t.Fatalf("inherited address: %+v", a)
	}
}

func TestDisplayInheritance(t *testing.T) {
	src := `groups { g { system { host-name gw; } interfaces { eth0 { unit 0; } } } }
apply-groups g;
interfaces { eth1 { mtu 1400; } }
`
	x, err := Inherit(mustParse(t, src), "")
	if err != nil {
		t.Fatal(err)
	}
	got := FormatBrace(x.Root)
	want := `groups {
    g {
        system {
            host-name gw;
        }
        interfaces {
            eth0 {
                unit 0;
            }
        }
    }
}
apply-groups g;
##
## 'system' was inherited from group 'g'
##
system {
    ##
    ## 'gw' was inherited from group 'g'
    ##
    host-name gw;
}
interfaces {
    eth1 {
        mtu 1400;
    }
    ##
    ## 'eth0' was inherited from group 'g'
    ##
    eth0 {
        ##
        ## '0' was inherited from group 'g'
        ##
        unit 0;
    }
}
`
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	// The marks are comments: the output parses back to the inherited tree.
	back := mustParse(t, got)
	if y, _ := Expand(back, ""); y == nil || !y.Equal(&Tree{Root: mustExpand(t, x)}) {
		t.Fatal("display inheritance does not parse back to the same configuration")
	}
}

func mustExpand(t *testing.T, x *Tree) *Stmt {
	t.Helper()
	y, err := Expand(x, "")
	if err != nil {
		t.Fatal(err)
	}
	return y.Root
}

func TestGroupsRoundTrip(t *testing.T) {
	tr := mustParse(t, clusterConf)
	if got := FormatBrace(tr.Root); got != clusterConf {
		t.Fatalf("brace form does not print back:\n%s", got)
	}
	viaSet := mustParse(t, FormatSet(tr.Root))
	if !viaSet.Equal(tr) {
		t.Fatalf("set form differs:\n%s", FormatSet(tr.Root))
	}
}

func TestWildcardMatch(t *testing.T) {
	for _, c := range []struct {
		w, key string
		want   bool
	}{
		{"<*>", "anything", true},
		{"<ge-*>", "ge-0/0/0", true},
		{"<ge-*>", "xe-0/0/0", false},
		{"<eth?>", "eth1", true},
		{"<eth?>", "eth10", false},
		{"<eth[0-2]>", "eth2", true},
		{"<eth[0-2]>", "eth3", false},
		{"<st0.[13]>", "st0.3", true},
	} {
		if got := wildcardMatch(c.w, c.key); got != c.want {
			t.Errorf("%s ~ %s = %v", c.w, c.key, got)
		}
	}
}

// FuzzInherit: any configuration that parses inherits without a panic, the
// result holds no wildcard entry and no group statement, and inheriting is
// idempotent (the expanded tree has nothing left to inherit).
func FuzzInherit(f *testing.F) {
	f.Add([]byte(clusterConf))
	f.Add([]byte("groups { g { interfaces { \"<*>\" { unit 0 { family inet; } } } } }\ninterfaces { apply-groups g; e0; apply-groups-except g; }\n"))
	f.Add([]byte("set groups a system host-name x\nset apply-groups a\nset apply-groups ${node}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		tr, err := Parse("f", src, seeded())
		if err != nil {
			return
		}
		x, err := Expand(tr, "node1")
		if err != nil {
			return
		}
		var walk func(s *Stmt)
		walk = func(s *Stmt) {
			for _, c := range s.Children {
				if IsGroupStatement(c.Node) || c.Node.Kind == KindList && IsWildcard(c.Key) {
					t.Fatalf("expanded tree holds %s", c.PathString())
				}
				walk(c)
			}
		}
		walk(x.Root)
		y, err := Expand(x, "node1")
		if err != nil || !y.Equal(x) {
			t.Fatalf("expanding twice differs: %v", err)
		}
	})
}

// "${node}" with no group of that name applies nothing; a named group
// that is not defined is an error (TestInheritErrors).
func TestNodeGroupMayBeMissing(t *testing.T) {
	x, err := Expand(mustParse(t, "groups { node1 { system { host-name one; } } }\napply-groups \"${node}\";\n"), "node3")
	if err != nil || x.Root.Lookup("system") != nil {
		t.Fatalf("node3: %v\n%s", err, FormatBrace(x.Root))
	}
}

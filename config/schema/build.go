package schema

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"ipsecgw/config"
	"ipsecgw/config/secret"
)

// Options adjust how a tree becomes a model.
type Options struct {
	// InterfaceMap maps configured interface names (usually Junos names such
	// as et-0/2/10) to Linux interface names; "interfaces X host-interface
	// Y" in the configuration does the same and wins.
	InterfaceMap map[string]string
	// NodeID is this daemon's node in a cluster (--node-id with
	// --cluster-etcd); 0 for a single gateway. "${node}" in apply-groups
	// names group NodeGroup(NodeID).
	NodeID int
}

// Build turns a tree into a typed, checked model. It reports every error
// found (a config.ErrorList), each with its position, statement path and
// what was expected; on error the model is nil.
func Build(t *config.Tree, opts Options) (*Config, error) {
	b := &builder{cfg: &Config{}, opts: opts, units: map[string]*Unit{}}
	t, err := config.Expand(t, NodeGroup(opts.NodeID))
	if err != nil {
		return nil, err
	}
	root := t.Root
	b.system(root.Lookup("system"))
	b.interfaces(root.Lookup("interfaces"))
	b.routing(root.Lookup("routing-options"))
	b.routingProtocols(root.Lookup("routing-options"), root.Lookup("protocols"), root.Lookup("policy-options"))
	b.securityPKI(root.Lookup("security", "pki"))
	b.securityIKE(root.Lookup("security", "ike"))
	b.securityIPsec(root.Lookup("security", "ipsec"))
	b.quantum(child(root, "security")) // quantum.go
	b.securityFlow(child(child(root, "security"), "flow"))
	b.servicesIPsecVPN(root.Lookup("services", "ipsec-vpn"))
	b.serviceSets(root.Lookup("services"))
	b.highAvailability(root.Lookup("chassis", "high-availability"))
	for _, check := range b.afterHA {
		check()
	}
	b.notApplied(root)
	if len(b.errs) > 0 {
		b.errs.Sort()
		return nil, b.errs
	}
	return b.cfg, nil
}

type builder struct {
	cfg   *Config
	opts  Options
	errs  config.ErrorList
	units map[string]*Unit // "ifd.unit" → unit
	// afterHA are checks that need chassis high-availability, which is
	// built after security.
	afterHA []func()
}

// fail records an error about statement s (at its value when it has one).
func (b *builder) fail(s *config.Stmt, msg, expected string) {
	p := s.Pos
	if len(s.ValuePos) > 0 && s.ValuePos[0].IsValid() {
		p = s.ValuePos[0]
	}
	b.errs = append(b.errs, &config.Error{Pos: p, Path: s.PathString(), Msg: msg, Expected: expected})
}

// Tree access that skips inactive statements: they stay in the
// configuration but the daemon ignores them.

func child(s *config.Stmt, name string) *config.Stmt {
	if s == nil {
		return nil
	}
	c := s.Child(name)
	if c == nil || c.Inactive {
		return nil
	}
	return c
}

func entries(s *config.Stmt, name string) []*config.Stmt {
	if s == nil || s.Inactive {
		return nil
	}
	var out []*config.Stmt
	for _, e := range s.Entries(name) {
		if !e.Inactive {
			out = append(out, e)
		}
	}
	return out
}

func str(s *config.Stmt, name string) string {
	if c := child(s, name); c != nil {
		return c.Value()
	}
	return ""
}

func has(s *config.Stmt, name string) bool { return child(s, name) != nil }

// num returns a numeric leaf; the schema has already checked its range.
func num(s *config.Stmt, name string, def int) int {
	c := child(s, name)
	if c == nil {
		return def
	}
	n, _ := strconv.ParseUint(c.Value(), 10, 64)
	return int(n)
}

func seconds(s *config.Stmt, name string, def time.Duration) time.Duration {
	c := child(s, name)
	if c == nil {
		return def
	}
	n, _ := strconv.ParseUint(c.Value(), 10, 32)
	return time.Duration(n) * time.Second
}

func addr(s *config.Stmt, name string) netip.Addr {
	a, _ := netip.ParseAddr(str(s, name))
	return a
}

func prefix(s *config.Stmt, name string) (netip.Prefix, bool) {
	p, err := netip.ParsePrefix(str(s, name))
	return p, err == nil
}

// key reads a "key (ascii-text | hexadecimal)" container.
func (b *builder) key(s *config.Stmt) Key {
	if s == nil {
		return Key{}
	}
	for _, c := range s.Children {
		if c.Inactive {
			continue
		}
		v, err := secret.FromEncoded(c.Value())
		if err != nil { // the tree only holds valid encodings; keep the check honest
			b.fail(c, "bad $9$ secret", "a $9$ string")
			return Key{}
		}
		return Key{Value: v, Hex: c.Node.Name == "hexadecimal"}
	}
	return Key{}
}

func identity(s *config.Stmt) Identity {
	if s == nil {
		return Identity{}
	}
	for _, c := range s.Children {
		if !c.Inactive {
			if c.Node.Name == "distinguished-name" {
				return distinguishedName(c)
			}
			return Identity{Type: c.Node.Name, Value: c.Value()}
		}
	}
	return Identity{}
}

func trace(s *config.Stmt) Trace {
	if s == nil {
		return Trace{}
	}
	t := Trace{Level: str(s, "level")}
	if f := entries(s, "file"); len(f) > 0 {
		t.File = f[0].Key
	}
	if c := child(s, "flag"); c != nil {
		t.Flags = append(t.Flags, c.Values...)
	}
	return t
}

func names[T any](list []T, name func(T) string) string {
	if len(list) == 0 {
		return "none are defined"
	}
	out := make([]string, len(list))
	for i, x := range list {
		out[i] = name(x)
	}
	return "defined: " + strings.Join(out, ", ")
}

func (b *builder) system(s *config.Stmt) {
	b.cfg.HostName = str(s, "host-name")
	b.systemLogin(s)    // system.go
	b.systemServices(s) // system.go
}

func (b *builder) routing(s *config.Stmt) {
	if s == nil || s.Inactive {
		return
	}
	b.cfg.RouterID = addr(s, "router-id")
	for _, r := range entries(child(s, "static"), "route") {
		p, _ := netip.ParsePrefix(r.Key)
		route := &StaticRoute{Prefix: p, Discard: has(r, "discard"), Preference: uint32(num(r, "preference", 0))}
		if nh := child(r, "next-hop"); nh != nil {
			for i, v := range nh.Values {
				if a, err := netip.ParseAddr(v); err == nil {
					if a.Is4() != p.Addr().Is4() {
						b.failValue(nh, i, fmt.Sprintf("next hop %s is not of the route's address family", v), "an address of the same family as "+r.Key)
						continue
					}
					route.Gateways = append(route.Gateways, a)
					continue
				}
				u := b.units[v]
				if u == nil {
					b.failValue(nh, i, fmt.Sprintf("next-hop interface %s is not configured", v), "a unit configured under [edit interfaces]")
					continue
				}
				route.Interfaces = append(route.Interfaces, u)
			}
		}
		if child(r, "next-hop") == nil && !route.Discard {
			b.fail(r, "static route "+r.Key+" has no next hop", "next-hop ADDRESS|INTERFACE or discard")
			continue
		}
		b.cfg.Routes = append(b.cfg.Routes, route)
	}
}

// failValue reports an error at the i-th value of a leaf-list.
func (b *builder) failValue(s *config.Stmt, i int, msg, expected string) {
	p := s.Pos
	if i < len(s.ValuePos) && s.ValuePos[i].IsValid() {
		p = s.ValuePos[i]
	}
	b.errs = append(b.errs, &config.Error{Pos: p, Path: s.PathString(), Msg: msg, Expected: expected})
}

// unitRef resolves a logical-interface leaf; a bare interface name means
// unit 0, as in Junos.
func (b *builder) unitRef(s *config.Stmt) *Unit {
	if s == nil {
		return nil
	}
	name := s.Value()
	if _, _, ok := config.SplitIfl(name); !ok {
		name += ".0"
	}
	u := b.units[name]
	if u == nil {
		b.fail(s, fmt.Sprintf("interface %s is not configured", s.Value()), "a unit configured under [edit interfaces]")
	}
	return u
}

func (b *builder) notApplied(s *config.Stmt) {
	if s.Inactive {
		return
	}
	if s.Node.NotApplied != "" && s.Parent() != nil {
		b.cfg.Notices = append(b.cfg.Notices, Notice{Path: s.PathString(), Msg: "accepted, not applied: " + s.Node.NotApplied})
		return
	}
	for _, c := range s.Children {
		b.notApplied(c)
	}
}

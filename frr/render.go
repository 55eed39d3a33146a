// Package frr runs a configuration's routing protocols with FRR, the Linux
// routing suite: it renders the typed model (protocols ospf|ospf3|bgp,
// policy-options, routing-options) as FRR's integrated configuration
// (frr.conf), starts the FRR daemons a configuration needs with a private
// state directory and sockets, applies each new rendering in one reload,
// and reads FRR's JSON back for the show commands.
//
// Junos and FRR differ in a few ways the rendering bridges:
//   - Junos names interfaces (so-0/0/0.0, st0.1, lo0.0); FRR uses the
//     Linux names the daemon gave them (Options.IfName).
//   - Static routes are installed by ipsecgw itself, so FRR sees them as
//     kernel routes: "from protocol static" is FRR's kernel, "direct" is
//     connected.
//   - A Junos policy chain is evaluated per route, first terminating action
//     wins, then the protocol's default; it becomes one FRR route-map per
//     use (policy.go), with the protocol conditions resolved where the
//     route's source is known (redistribution, import) and by route tags
//     where it is not (BGP export).
package frr

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"ipsecgw/config/schema"
)

// Options say how to render.
type Options struct {
	// IfName is the Linux name of a configured unit (st0.1 is its TUN,
	// so-0/0/0.0 the mapped interface, lo0.0 is lo).
	IfName func(*schema.Unit) string
	// LogFile, when set, is where the daemons log.
	LogFile string
}

// Rendering is a configuration as FRR runs it.
type Rendering struct {
	// Text is the integrated configuration (frr.conf).
	Text string
	// Daemons are the FRR daemons it needs, zebra first.
	Daemons []string
	// Secrets are the plaintext keys the text holds (OSPF md5 keys, BGP
	// passwords) with their $9$ forms, so what FRR says back can be
	// cleaned of them before it reaches a log or an error.
	Secrets map[string]string
}

// Redact replaces every secret of r in s by its $9$ form.
func (r *Rendering) Redact(s string) string {
	keys := make([]string, 0, len(r.Secrets))
	for k := range r.Secrets {
		keys = append(keys, k)
	}
	// Longest first: a key that contains another is replaced whole.
	sort.Slice(keys, func(i, j int) bool { return len(keys[i]) > len(keys[j]) })
	for _, k := range keys {
		s = strings.ReplaceAll(s, k, r.Secrets[k])
	}
	return s
}

// Render renders cfg's routing for FRR. It returns nil when cfg runs no
// routing protocol (then no FRR is needed).
func Render(cfg *schema.Config, opts Options) (*Rendering, error) {
	rt := cfg.Routing
	if rt == nil {
		return nil, nil
	}
	w := &writer{cfg: cfg, rt: rt, opts: opts, secrets: map[string]string{}, bfdProfiles: map[string]*schema.BFD{}}
	if opts.IfName == nil {
		return nil, fmt.Errorf("frr: no interface naming")
	}
	daemons := []string{"zebra"}
	w.line("frr defaults traditional")
	if opts.LogFile != "" {
		w.line("log file %s", opts.LogFile)
	}
	w.line("service integrated-vtysh-config")
	w.line("!")
	// The body is written first to learn which prefix lists, route-maps
	// and BFD profiles it uses; those are definitions FRR wants before
	// their users, so they go first in the text.
	body := &writer{cfg: cfg, rt: rt, opts: opts, secrets: w.secrets, bfdProfiles: w.bfdProfiles, maps: w}
	if err := body.interfaces(); err != nil {
		return nil, err
	}
	if rt.OSPF != nil {
		daemons = append(daemons, "ospfd")
		body.ospf(rt.OSPF)
	}
	if rt.OSPF3 != nil {
		daemons = append(daemons, "ospf6d")
		body.ospf(rt.OSPF3)
	}
	if rt.BGP != nil {
		daemons = append(daemons, "bgpd")
		if err := body.bgp(rt.BGP); err != nil {
			return nil, err
		}
	}
	if len(w.bfdProfiles) > 0 {
		daemons = append(daemons, "bfdd")
		w.line("bfd")
		for _, name := range slices.Sorted(maps.Keys(w.bfdProfiles)) {
			p := w.bfdProfiles[name]
			ms := p.MinimumInterval.Milliseconds()
			w.line(" profile %s", name)
			w.line("  detect-multiplier %d", p.Multiplier)
			w.line("  receive-interval %d", ms)
			w.line("  transmit-interval %d", ms)
			w.line(" exit")
		}
		w.line("exit")
		w.line("!")
	}
	w.b.WriteString(w.defs.String())
	w.b.WriteString(body.b.String())
	w.line("end")
	return &Rendering{Text: w.b.String(), Daemons: daemons, Secrets: w.secrets}, nil
}

// writer accumulates configuration text. The body's writer points at the
// top one (maps), where route-maps and prefix lists are defined.
type writer struct {
	cfg         *schema.Config
	rt          *schema.Routing
	opts        Options
	b           strings.Builder
	defs        strings.Builder // prefix lists and route-maps (top writer)
	defined     map[string]bool // route-map and prefix-list names written
	secrets     map[string]string
	bfdProfiles map[string]*schema.BFD
	maps        *writer
}

func (w *writer) line(format string, args ...any) {
	fmt.Fprintf(&w.b, format, args...)
	w.b.WriteByte('\n')
}

func (w *writer) secret(k schema.Key) string {
	plain := string(k.Value.Plain())
	w.secrets[plain] = k.Value.Encoded()
	return plain
}

// bfdProfile names the BFD profile of a bfd-liveness-detection.
func (w *writer) bfdProfile(b *schema.BFD) string {
	name := fmt.Sprintf("ipsecgw-%dms-x%d", b.MinimumInterval.Milliseconds(), b.Multiplier)
	w.bfdProfiles[name] = b
	return name
}

// ospfInterface is one interface's OSPF settings of either version.
type ospfInterface struct {
	v2, v3 *schema.OSPFInterface
	a2, a3 netip.Addr
}

// interfaces writes the interface stanzas: each interface once, with its
// OSPFv2 and OSPFv3 settings.
func (w *writer) interfaces() error {
	byName := map[string]*ospfInterface{}
	var order []string
	add := func(o *schema.OSPF, v3 bool) error {
		if o == nil {
			return nil
		}
		for _, a := range o.Areas {
			for _, oi := range a.Interfaces {
				name := w.opts.IfName(oi.Unit)
				if name == "" {
					return fmt.Errorf("protocols %s area %s interface %s: no Linux interface (map it with host-interface or --interface-map)",
						map[bool]string{false: "ospf", true: "ospf3"}[v3], a.ID, oi.Unit.Name())
				}
				e := byName[name]
				if e == nil {
					e = &ospfInterface{}
					byName[name] = e
					order = append(order, name)
				}
				if v3 {
					e.v3, e.a3 = oi, a.ID
				} else {
					e.v2, e.a2 = oi, a.ID
				}
			}
		}
		return nil
	}
	if err := add(w.rt.OSPF, false); err != nil {
		return err
	}
	if err := add(w.rt.OSPF3, true); err != nil {
		return err
	}
	sort.Strings(order)
	for _, name := range order {
		e := byName[name]
		w.line("interface %s", name)
		if oi := e.v2; oi != nil {
			w.line(" ip ospf area %s", e.a2)
			if t := networkType(oi.Type, false); t != "" {
				w.line(" ip ospf network %s", t)
			}
			w.ospfTimers("ip ospf", oi)
			for _, k := range oi.MD5 {
				w.line(" ip ospf message-digest-key %d md5 %s", k.ID, w.secret(k.Key))
			}
			if len(oi.MD5) > 0 {
				w.line(" ip ospf authentication message-digest")
			}
			if oi.Passive {
				w.line(" ip ospf passive")
			}
			if oi.BFD != nil {
				w.line(" ip ospf bfd")
				w.line(" ip ospf bfd profile %s", w.bfdProfile(oi.BFD))
			}
		}
		if oi := e.v3; oi != nil {
			w.line(" ipv6 ospf6 area %s", e.a3)
			if t := networkType(oi.Type, true); t != "" {
				w.line(" ipv6 ospf6 network %s", t)
			}
			w.ospfTimers("ipv6 ospf6", oi)
			if oi.Passive {
				w.line(" ipv6 ospf6 passive")
			}
			if oi.BFD != nil {
				w.line(" ipv6 ospf6 bfd")
				w.line(" ipv6 ospf6 bfd profile %s", w.bfdProfile(oi.BFD))
			}
		}
		w.line("exit")
		w.line("!")
	}
	return nil
}

func (w *writer) ospfTimers(prefix string, oi *schema.OSPFInterface) {
	if oi.Metric != 0 {
		w.line(" %s cost %d", prefix, oi.Metric)
	}
	if oi.Hello != 0 {
		w.line(" %s hello-interval %d", prefix, int(oi.Hello.Seconds()))
	}
	if oi.Dead != 0 {
		w.line(" %s dead-interval %d", prefix, int(oi.Dead.Seconds()))
	}
}

// networkType is FRR's word for a Junos interface-type ("" on lo).
func networkType(t string, v3 bool) string {
	switch t {
	case "p2p":
		return "point-to-point"
	case "broadcast":
		return "broadcast"
	case "nbma":
		if v3 {
			return ""
		}
		return "non-broadcast"
	case "p2mp":
		return "point-to-multipoint"
	}
	return ""
}

// ospf writes router ospf or router ospf6.
func (w *writer) ospf(o *schema.OSPF) {
	proto, rid := "ospf", "ospf router-id"
	if o.Version == 3 {
		proto, rid = "ospf6", "ospf6 router-id"
	}
	w.line("router %s", proto)
	if w.cfg.RouterID.IsValid() {
		w.line(" %s %s", rid, w.cfg.RouterID)
	}
	if o.ReferenceBandwidth != 0 {
		mbps := o.ReferenceBandwidth / 1e6
		if mbps == 0 {
			mbps = 1
		}
		w.line(" auto-cost reference-bandwidth %d", mbps)
	}
	fam := v4
	if o.Version == 3 {
		fam = v6
	}
	for _, src := range redistributable(o.Export, protoOSPF) {
		if src == srcBGP && w.rt.BGP == nil {
			continue
		}
		rm := w.maps.routeMap(proto+"-export-"+src.frr, o.Export, fam, src, false)
		w.line(" redistribute %s route-map %s", src.frr, rm)
	}
	w.line("exit")
	w.line("!")
}

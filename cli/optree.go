package cli

import (
	"fmt"
	"net/netip"
	"strconv"

	"ipsecgw/mgmt/mgmtpb"
)

// The operational-mode commands, as one tree that both the parser and the
// help and completion walk, so that what "?" offers is exactly what parses.

// opNode is one keyword of an operational command. A node has either
// sub-commands, or options (and so is a command), or takes the rest of the
// line as a configuration path (show configuration).
type opNode struct {
	name  string
	help  string
	alias string // another word accepted for it ("sa"), never offered
	sub   []*opNode
	opts  []*opOption
	// configPath: the remaining words are a configuration hierarchy path.
	configPath bool
	// build turns the parsed options into the command; nil when the node
	// needs a sub-command.
	build func(a opArgs) opCommand
}

// opOption is an option of a command: a flag ("detail"), a keyword with a
// value ("index 3"), or a positional value (name "", "198.51.100.2").
type opOption struct {
	name  string
	help  string
	value *opValue // nil: a flag
	group string   // options of one group exclude each other (brief|detail)
}

// opValue is what an option's value may be.
type opValue struct {
	placeholder string // "<index>"
	help        string
	enum        []choice            // fixed keywords, offered in help
	check       func(v string) bool // nil: anything
}

// opArgs holds the options given: keyword (or placeholder for a positional
// value) to value, "" for flags.
type opArgs map[string]string

func (a opArgs) has(k string) bool { _, ok := a[k]; return ok }

func (a opArgs) uint32(k string) uint32 {
	n, _ := strconv.ParseUint(a[k], 10, 32)
	return uint32(n)
}

func (a opArgs) style() mgmtpb.Style {
	switch {
	case a.has("brief"):
		return mgmtpb.Style_BRIEF
	case a.has("detail"):
		return mgmtpb.Style_DETAIL
	}
	return mgmtpb.Style_STYLE_DEFAULT
}

// opCommand is a parsed operational command: an RPC to make, or something
// the CLI does itself.
type opCommand struct {
	show    *mgmtpb.ShowRequest
	clear   *mgmtpb.ClearRequest
	request *mgmtpb.CommandRequest // request ... (cli/pki.go)
	local   string                 // "configure", "exit", "quit", "help"
}

var (
	indexValue = &opValue{placeholder: "<index>", help: "Index number", check: func(v string) bool {
		_, err := strconv.ParseUint(v, 10, 32)
		return err == nil
	}}
	peerValue = &opValue{placeholder: "<peer-address>", help: "IP address of the peer", check: func(v string) bool {
		_, err := netip.ParseAddr(v)
		return err == nil
	}}
	familyValue = &opValue{placeholder: "<family>", help: "Address family", enum: []choice{
		{word: "inet", help: "IPv4 family"},
		{word: "inet6", help: "IPv6 family"},
	}}
	interfaceValue = &opValue{placeholder: "<interface-name>", help: "Name of tunnel interface (st0 or st0.N)"}
)

func optBrief() *opOption {
	return &opOption{name: "brief", help: "Show brief output (default)", group: "style"}
}
func optDetail() *opOption {
	return &opOption{name: "detail", help: "Show detailed output", group: "style"}
}
func optIndex(help string) *opOption {
	return &opOption{name: "index", help: help, value: indexValue}
}
func optPeer(group string) *opOption {
	return &opOption{help: "IP address of the peer", value: peerValue, group: group}
}

func local(name string) func(opArgs) opCommand {
	return func(opArgs) opCommand { return opCommand{local: name} }
}

func showReq(r *mgmtpb.ShowRequest) opCommand { return opCommand{show: r} }

func ikeSAs(services bool) func(opArgs) opCommand {
	return func(a opArgs) opCommand {
		return showReq(&mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_IkeSecurityAssociations{
			IkeSecurityAssociations: &mgmtpb.IKESecurityAssociations{
				Style: a.style(), Index: a.uint32("index"), Address: a[peerValue.placeholder], Services: services,
			}}})
	}
}

func ipsecSAs(services bool) func(opArgs) opCommand {
	return func(a opArgs) opCommand {
		return showReq(&mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_IpsecSecurityAssociations{
			IpsecSecurityAssociations: &mgmtpb.IPsecSecurityAssociations{
				Style: a.style(), Index: a.uint32("index"), Family: a["family"], Services: services,
			}}})
	}
}

func ipsecStatistics(services bool) func(opArgs) opCommand {
	return func(a opArgs) opCommand {
		return showReq(&mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_IpsecStatistics{
			IpsecStatistics: &mgmtpb.IPsecStatistics{Index: a.uint32("index"), Services: services, Detail: a.has("detail")},
		}})
	}
}

func clearIKE(a opArgs) opCommand {
	return opCommand{clear: &mgmtpb.ClearRequest{Command: &mgmtpb.ClearRequest_IkeSecurityAssociations{
		IkeSecurityAssociations: &mgmtpb.ClearIKE{Index: a.uint32("index"), Address: a[peerValue.placeholder]},
	}}}
}

func clearIPsec(a opArgs) opCommand {
	return opCommand{clear: &mgmtpb.ClearRequest{Command: &mgmtpb.ClearRequest_IpsecSecurityAssociations{
		IpsecSecurityAssociations: &mgmtpb.ClearIPsec{Index: a.uint32("index")},
	}}}
}

func clearStatistics(a opArgs) opCommand {
	return opCommand{clear: &mgmtpb.ClearRequest{Command: &mgmtpb.ClearRequest_IpsecStatistics{
		IpsecStatistics: &mgmtpb.ClearStatistics{Index: a.uint32("index")},
	}}}
}

const saHelp = "Show security associations"

// opRoot is the operational-mode command tree.
var opRoot = &opNode{sub: []*opNode{
	{name: "clear", help: "Clear information in the system", sub: []*opNode{
		{name: "security", help: "Clear security information", sub: []*opNode{
			{name: "ike", help: "Clear Internet Key Exchange information", sub: []*opNode{
				{name: "security-associations", alias: "sa", help: "Clear IKE security associations",
					opts: []*opOption{optIndex("Index of the IKE security association"), optPeer("")}, build: clearIKE},
			}},
			{name: "ipsec", help: "Clear IP Security information", sub: []*opNode{
				{name: "security-associations", alias: "sa", help: "Clear IPsec security associations",
					opts: []*opOption{optIndex("Index of the tunnel")}, build: clearIPsec},
				{name: "statistics", help: "Clear IPsec statistics",
					opts: []*opOption{optIndex("Index of the tunnel")}, build: clearStatistics},
			}},
			pkiClear,
		}},
		{name: "services", help: "Clear services information", sub: []*opNode{
			{name: "ipsec-vpn", help: "Clear IPsec VPN service information", sub: []*opNode{
				{name: "ike", help: "Clear Internet Key Exchange information", sub: []*opNode{
					{name: "security-associations", alias: "sa", help: "Clear IKE security associations", build: clearIKE},
				}},
				{name: "ipsec", help: "Clear IP Security information", sub: []*opNode{
					{name: "security-associations", alias: "sa", help: "Clear IPsec security associations", build: clearIPsec},
					{name: "statistics", help: "Clear IPsec statistics", build: clearStatistics},
				}},
			}},
		}},
	}},
	{name: "configure", help: "Manipulate software configuration information", build: local("configure")},
	{name: "exit", help: "Exit the management session", build: local("exit")},
	{name: "help", help: "Provide help information", build: local("help")},
	{name: "quit", help: "Exit the management session", build: local("quit")},
	{name: "request", help: "Make system-level requests", sub: []*opNode{
		requestChassis,
		{name: "security", help: "Make security requests", sub: []*opNode{ikeRequest, ipsecRequest, pkiRequest}}, // oprekey.go, pki.go
	}},
	{name: "show", help: "Show system information", sub: []*opNode{
		showChassis,
		{name: "configuration", help: "Show current configuration", configPath: true, build: func(opArgs) opCommand {
			return showReq(&mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_Configuration{Configuration: &mgmtpb.ShowConfiguration{}}})
		}},
		{name: "interfaces", help: "Show interface information", opts: []*opOption{
			{help: "Name of tunnel interface", value: interfaceValue},
			{name: "terse", help: "Display terse output"},
		}, build: func(a opArgs) opCommand {
			return showReq(&mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_Interfaces{
				Interfaces: &mgmtpb.Interfaces{Name: a[interfaceValue.placeholder], Terse: a.has("terse")},
			}})
		}},
		{name: "security", help: "Show security information", sub: []*opNode{
			{name: "ike", help: "Show Internet Key Exchange information", sub: []*opNode{
				{name: "security-associations", alias: "sa", help: "Show Internet Key Exchange security associations",
					opts:  []*opOption{optBrief(), optDetail(), optIndex("Index of the IKE security association"), optPeer("")},
					build: ikeSAs(false)},
			}},
			{name: "ipsec", help: "Show IP Security information", sub: []*opNode{
				{name: "inactive-tunnels", help: "Show inactive tunnels", build: func(opArgs) opCommand {
					return showReq(&mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_InactiveTunnels{InactiveTunnels: &mgmtpb.InactiveTunnels{}}})
				}},
				{name: "security-associations", alias: "sa", help: "Show IPsec security associations",
					opts: []*opOption{optBrief(), optDetail(), optIndex("Index of the tunnel"),
						{name: "family", help: "Show security associations of one address family", value: familyValue}},
					build: ipsecSAs(false)},
				{name: "statistics", help: "Show IPsec statistics",
					opts: []*opOption{optIndex("Index of the tunnel"), optDetail()}, build: ipsecStatistics(false)},
			}},
			pkiShow,
		}},
		{name: "services", help: "Show services information", sub: []*opNode{
			{name: "ipsec-vpn", help: "Show IPsec VPN service information", sub: []*opNode{
				{name: "ike", help: "Show Internet Key Exchange information", sub: []*opNode{
					{name: "security-associations", alias: "sa", help: "Show IKE security associations",
						opts: []*opOption{optDetail(), optPeer("")}, build: ikeSAs(true)},
				}},
				{name: "ipsec", help: "Show IP Security information", sub: []*opNode{
					{name: "security-associations", alias: "sa", help: saHelp,
						opts: []*opOption{optDetail()}, build: ipsecSAs(true)},
					{name: "statistics", help: "Show IPsec statistics", build: ipsecStatistics(true)},
				}},
			}},
		}},
		{name: "version", help: "Show software process revision levels", build: func(opArgs) opCommand {
			return showReq(&mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_Version{Version: &mgmtpb.Version{}}})
		}},
	}},
}}

// keywords lists the sub-command names and aliases of n for resolve.
func (n *opNode) keywords() ([]string, map[string]string) {
	names := make([]string, 0, len(n.sub))
	aliases := map[string]string{}
	for _, c := range n.sub {
		names = append(names, c.name)
		if c.alias != "" {
			aliases[c.alias] = c.name
		}
	}
	return names, aliases
}

func (n *opNode) child(name string) *opNode {
	for _, c := range n.sub {
		if c.name == name {
			return c
		}
	}
	panic(fmt.Sprintf("cli: no sub-command %q under %q", name, n.name))
}

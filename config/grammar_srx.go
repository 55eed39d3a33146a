package config

// Statements of an SRX configuration (as the cloud providers' downloadable
// "Juniper SRX" configurations write them) beyond IPsec itself: the flow
// options ipsecgw applies (tcp-mss ipsec-vpn), and the zones and policies of
// the SRX firewall, which have no meaning on a gateway without one: they
// are accepted, kept and reported at commit as not applied.

var securityFlow = container("flow", "Flow (packet path) options",
	container("tcp-mss", "Clamp the TCP maximum segment size of SYN packets",
		container("ipsec-vpn", "TCP SYNs entering or leaving IPsec tunnels",
			leaf("mss", "Largest MSS let through (the default 1320 when written without a value)", uintRange(64, 65535)),
		),
		container("all-tcp", "All TCP SYNs",
			leaf("mss", "Largest MSS let through", uintRange(64, 65535)),
		).notApplied("ipsecgw forwards only tunnel traffic; use tcp-mss ipsec-vpn"),
		container("gre-in", "TCP SYNs in GRE entering the tunnel",
			leaf("mss", "Largest MSS let through", uintRange(64, 65535)),
		).notApplied("ipsecgw does not look inside GRE"),
		container("gre-out", "TCP SYNs in GRE leaving the tunnel",
			leaf("mss", "Largest MSS let through", uintRange(64, 65535)),
		).notApplied("ipsecgw does not look inside GRE"),
	),
)

var (
	systemServices = enum("all", "any-service", "appqoe", "bootp", "dhcp", "dhcpv6", "dns", "finger", "ftp",
		"high-availability", "http", "https", "ident-reset", "ike", "lsping", "netconf", "ntp", "ping",
		"r2cp", "reverse-ssh", "reverse-telnet", "rlogin", "rpm", "rsh", "snmp", "snmp-trap", "ssh",
		"tcp-encap", "telnet", "tftp", "traceroute", "webapi-clear-text", "webapi-ssl", "xnm-clear-text", "xnm-ssl")
	hostProtocols = enum("all", "bfd", "bgp", "dvmrp", "igmp", "ldp", "msdp", "nhrp", "ospf", "ospf3", "pgm",
		"pim", "rip", "ripng", "router-discovery", "rsvp", "sap", "vrrp")
	zoneName = name(63)
)

// The named entries of host-inbound-traffic and of a zone's interfaces sit
// in a block of their own, as Junos prints them ("system-services { ike;
// ping; }", "interfaces { st0.1; }"); the set form is the same either way.

func hostInboundTraffic() *Node {
	return container("host-inbound-traffic", "Traffic to the device itself allowed from this zone or interface",
		container("system-services", "System services allowed",
			list("", "System service allowed", systemServices,
				flag("except", "All but this service (with all)"),
			),
		),
		container("protocols", "Routing protocols allowed",
			list("", "Routing protocol allowed", hostProtocols,
				flag("except", "All but this protocol (with all)"),
			),
		),
	)
}

// zoneInterfaces is a zone's "interfaces { IF; IF { host-inbound-traffic
// ... } }".
func zoneInterfaces() *Node {
	return container("interfaces", "Interfaces in this zone",
		list("", "Interface in this zone", typeIfOrIfl,
			hostInboundTraffic(),
		),
	)
}

var securityZones = container("zones", "Security zones",
	list("security-zone", "Security zone", zoneName,
		description(),
		leaf("screen", "Screen (IDS) profile", nameType),
		flag("tcp-rst", "Send RST for non-SYN packets of no session"),
		hostInboundTraffic(),
		zoneInterfaces(),
	),
	list("functional-zone", "Functional zone", enum("management"),
		zoneInterfaces(),
		hostInboundTraffic(),
	),
).notApplied("ipsecgw has no firewall zones: it forwards what is routed into its tunnel interfaces")

func securityPolicy() *Node {
	return list("policy", "Security policy", name(63),
		description(),
		container("match", "Match conditions",
			leafList("source-address", "Source address names (any, any-ipv4, any-ipv6, or address-book entries)", name(63), 0),
			leafList("destination-address", "Destination address names", name(63), 0),
			leafList("application", "Applications (any, junos-... or configured)", name(63), 0),
		),
		container("then", "Action",
			append(choices("action",
				container("permit", "Permit the traffic",
					container("tunnel", "Policy-based VPN",
						leaf("ipsec-vpn", "IPsec VPN", nameType),
						leaf("pair-policy", "Policy of the other direction", name(63)),
					),
				),
				flag("deny", "Drop the traffic"),
				flag("reject", "Drop the traffic and send TCP RST or ICMP unreachable"),
			),
				container("log", "Log sessions",
					flag("session-init", "Log the session's start"),
					flag("session-close", "Log the session's end"),
				),
				flag("count", "Count matching traffic"),
			)...,
		),
	)
}

var securityPolicies = container("policies", "Security policies",
	// "from-zone A to-zone B { policy ... }": two keys on one line.
	list("from-zone", "Policies of traffic from a zone", zoneName,
		list("to-zone", "Policies of traffic from the zone to another", zoneName,
			securityPolicy(),
		),
	).flat(),
	container("global", "Policies of any zone pair", securityPolicy()),
	container("default-policy", "Action when no policy matches", choices("default-policy",
		flag("permit-all", "Permit"),
		flag("deny-all", "Deny"),
	)...),
).notApplied("ipsecgw has no firewall policies: every packet routed into a tunnel interface is carried")

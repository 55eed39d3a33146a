package cli

import "ipsecgw/mgmt/mgmtpb"

// The operator's rekeys, ours (Junos has no such command): "request
// security ike security-associations rekey" and "request security ipsec
// security-associations rekey" start the rekey a lifetime would, now.

// rekeyWords builds the request's words: the command, then each option
// given, in the order listed.
func rekeyWords(protocol string, opts ...string) func(opArgs) opCommand {
	return func(a opArgs) opCommand {
		words := []string{"security", protocol, "security-associations", "rekey"}
		for _, k := range opts {
			if v, ok := a[k]; ok {
				words = append(words, k, v)
			}
		}
		return opCommand{request: &mgmtpb.CommandRequest{Words: words}}
	}
}

// ikeRequest is "request security ike".
var ikeRequest = &opNode{name: "ike", help: "Internet Key Exchange requests", sub: []*opNode{
	{name: "security-associations", alias: "sa", help: "IKE security association requests", sub: []*opNode{
		{name: "rekey", help: "Rekey IKE security associations now (ipsecgw's command)",
			opts: []*opOption{optIndex("Index of the IKE security association"),
				{name: "peer-address", help: "IP address of the peer", value: peerValue}},
			build: rekeyWords("ike", "peer-address", "index")},
	}},
}}

// ipsecRequest is "request security ipsec".
var ipsecRequest = &opNode{name: "ipsec", help: "IP Security requests", sub: []*opNode{
	{name: "security-associations", alias: "sa", help: "IPsec security association requests", sub: []*opNode{
		{name: "rekey", help: "Rekey IPsec security associations now (ipsecgw's command)",
			opts:  []*opOption{optIndex("Index of the tunnel")},
			build: rekeyWords("ipsec", "index")},
	}},
}}

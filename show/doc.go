// Package show renders the Junos operational outputs of ipsecgw: the
// `show security ike|ipsec ...` and `show services ipsec-vpn ...` commands,
// `show interfaces st0...` and `show version`,
// in the operator's text layout and in the structured forms that
// `| display xml` and `| display json` print, plus the text pipes
// (`| match`, `| except`, `| count`, `| no-more`).
//
// Every command is one pure function from a view to a Reply:
//
//	view  (plain structs the IKE daemon and the data plane fill: IKESA,
//	      IPsecView, Statistics, InactiveTunnel, ServiceTunnel,
//	      Interface, Software, ...)
//	  → text   the Junos layout, column for column (ike.go, ipsec.go, ...)
//	  → model  a struct tagged with the Junos XML element names
//	           (IKESecurityAssociationsInformation, ...), the one
//	           structured form of the command
//	        → element tree (element.go, by reflection, written once)
//	              → | display xml   (xml.go: the <rpc-reply> wrapper)
//	              → | display json  (json.go: Junos JSON)
//
// No renderer touches a socket, a clock or a lock: time values arrive in the
// view already measured (remaining lifetimes as durations, event times as
// time.Time in the zone the operator wants to read), so a renderer's output
// depends on its arguments only and every layout is a golden file under
// testdata/.
//
// Model values follow one rule: an element carries the string the text
// layout prints for the same field, except where a Junos capture shows the
// XML differs (lower-case role, state and anti-replay words; hex SPIs without
// 0x; seconds alone in the brief lifetime). Element names come from the
// reference (docs §4, §5) where it gives them; the others follow Junos's
// naming and are marked "name guessed" on their field.
package show

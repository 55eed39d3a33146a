// Package ikev1 negotiates IPsec SAs with IKEv1 (RFC 2409 over the ISAKMP
// of RFC 2408, the IPsec DOI of RFC 2407): Main Mode with pre-shared keys
// or RSA signatures (phase 1; sigauth.go), Quick Mode with and without PFS (phase 2), Informational
// exchanges (DELETE, notifications), dead peer detection (RFC 3706) and NAT
// traversal (RFC 3947). It is what seed 001's AS PIC routers speak.
//
// It shares its contract with the data plane and the daemon with package
// ikev2 (ike.Installer, ike.ChildSA, ike.Transport, ike.SAInfo,
// ike.Event), so the daemon installs an IKEv1 SA exactly as an IKEv2 one.
//
// Like ikev2's, the Engine owns all of its SAs' state under one mutex;
// messages and timers are handled one at a time.
//
// The exchanges:
//
//	Main Mode (phase 1, identity protection):
//	  HDR, SA, VID...                  -->
//	                                   <--  HDR, SA, VID...
//	  HDR, KE, Ni, NAT-D, NAT-D        -->
//	                                   <--  HDR, KE, Nr, NAT-D, NAT-D
//	  HDR*, IDii, HASH_I               -->            (on UDP 4500 after a NAT)
//	                                   <--  HDR*, IDir, HASH_R
//
//	Quick Mode (phase 2):
//	  HDR*, HASH(1), SA, Ni, [KE], IDci, IDcr  -->
//	                                   <--  HDR*, HASH(2), SA, Nr, [KE], IDci, IDcr
//	  HDR*, HASH(3)                    -->
//
//	Informational: HDR*, HASH(1), N/D
package ikev1

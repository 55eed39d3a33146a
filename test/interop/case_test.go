package interop

import (
	"fmt"
	"strings"
)

// suite is one ESP transform as both sides name it: ipsecgw by its Junos
// keywords, the kernel by its crypto API algorithm names. Key lengths are in
// bytes and include the 4-byte salt of an AEAD, which both sides append to
// the key the same way (RFC 4106 §8.1, RFC 7634 §2).
type suite struct {
	encryption    string // Junos "encryption algorithm"
	encryptionKey int
	auth          string // Junos "authentication algorithm"; "" for an AEAD
	authKey       int

	kernelEnc  string // an AEAD ("aead") when kernelAuth is "", else "enc"
	kernelAuth string // "auth-trunc" algorithm
	icvBits    int    // ICV length the kernel is told: AEAD tag or HMAC truncation
}

var (
	aes128GCM  = suite{encryption: "aes-128-gcm", encryptionKey: 20, kernelEnc: "rfc4106(gcm(aes))", icvBits: 128}
	aes256GCM  = suite{encryption: "aes-256-gcm", encryptionKey: 36, kernelEnc: "rfc4106(gcm(aes))", icvBits: 128}
	chachaPoly = suite{encryption: "chacha20-poly1305", encryptionKey: 36,
		kernelEnc: "rfc7539esp(chacha20,poly1305)", icvBits: 128}
	aes128SHA1 = suite{encryption: "aes-128-cbc", encryptionKey: 16, auth: "hmac-sha1-96", authKey: 20,
		kernelEnc: "cbc(aes)", kernelAuth: "hmac(sha1)", icvBits: 96}
	aes256SHA256 = suite{encryption: "aes-256-cbc", encryptionKey: 32, auth: "hmac-sha-256-128", authKey: 32,
		kernelEnc: "cbc(aes)", kernelAuth: "hmac(sha256)", icvBits: 128}
	aes256SHA512 = suite{encryption: "aes-256-cbc", encryptionKey: 32, auth: "hmac-sha-512-256", authKey: 64,
		kernelEnc: "cbc(aes)", kernelAuth: "hmac(sha512)", icvBits: 256}
	tripleDESSHA1 = suite{encryption: "3des-cbc", encryptionKey: 24, auth: "hmac-sha1-96", authKey: 20,
		kernelEnc: "cbc(des3_ede)", kernelAuth: "hmac(sha1)", icvBits: 96}
)

// interopCase is one SA between gwa and gwk and the traffic sent through it.
type interopCase struct {
	name   string
	suite  suite
	outer6 bool // ESP between the gateways' IPv6 addresses
	udp    bool // ESP in UDP, port 4500 both ends (RFC 3948)
	esn    bool // 64-bit extended sequence numbers (RFC 4303 §2.2.1)
	tcp6   bool // the TCP transfer runs over inner IPv6 (pings use both)
	// wrongKey gives the kernel a key that differs from ipsecgw's in one
	// bit: nothing may pass, and both sides must count the ICV failures.
	// It shows the counters these tests compare would catch a mismatch.
	wrongKey bool
}

// cases are run in this order in one boot. Every suite appears at least
// once; IPv6 outer, ESP-in-UDP over both families, and ESN with an AEAD and
// with CBC+HMAC each have a case. Inner traffic is always IPv4 and IPv6.
var cases = []interopCase{
	{name: "aes-128-gcm", suite: aes128GCM},
	{name: "aes-256-gcm-esn-outer-ipv6", suite: aes256GCM, outer6: true, esn: true, tcp6: true},
	{name: "chacha20-poly1305-udp-4500", suite: chachaPoly, udp: true},
	{name: "aes-128-cbc-hmac-sha1-96", suite: aes128SHA1, tcp6: true},
	{name: "aes-256-cbc-hmac-sha-256-128-esn-udp-4500-outer-ipv6", suite: aes256SHA256, outer6: true, udp: true, esn: true},
	{name: "3des-cbc-hmac-sha1-96-outer-ipv6", suite: tripleDESSHA1, outer6: true, tcp6: true},
	{name: "aes-256-cbc-hmac-sha-512-256-esn-udp-4500", suite: aes256SHA512, udp: true, esn: true},
	{name: "aes-128-gcm-wrong-key", suite: aes128GCM, wrongKey: true},
}

// Addresses of the topology (see the package documentation).
const (
	gwaOuter4, gwkOuter4 = "192.0.2.1", "192.0.2.2"
	gwaOuter6, gwkOuter6 = "2001:db8:ff::1", "2001:db8:ff::2"
	h1Net4, h2Net4       = "198.18.1.0/24", "198.18.2.0/24"
	h1Net6, h2Net6       = "2001:db8:1::/64", "2001:db8:2::/64"
	h1Addr4, h2Addr4     = "198.18.1.2", "198.18.2.2"
	h1Addr6, h2Addr6     = "2001:db8:1::2", "2001:db8:2::2"

	// replayWindow is the kernel's anti-replay window on every state: with
	// none, the kernel would not track the highest sequence number
	// received, which the test compares with ipsecgw's.
	replayWindow = 64
	encapPort    = 4500
)

// spi is case i's SPI: inside the manual-SA range (256..16639), and
// different per case so a stale state could never match.
func (c interopCase) spi(i int) uint32 { return 0x2000 + uint32(i) }

// outer returns the gateways' outer addresses for the case's family.
func (c interopCase) outer() (gwa, gwk string) {
	if c.outer6 {
		return gwaOuter6, gwkOuter6
	}
	return gwaOuter4, gwkOuter4
}

// keys returns case i's encryption and authentication keys: deterministic
// test material, never a real secret, different for every case.
func (c interopCase) keys(i int) (enc, auth []byte) {
	fill := func(n int, seed byte) []byte {
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(j)*13 + seed
		}
		return b
	}
	return fill(c.suite.encryptionKey, byte(2*i+1)), fill(c.suite.authKey, byte(2*i+2))
}

// ipsecgwConfig is gwa's configuration in set format.
func (c interopCase) ipsecgwConfig(i int) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("set system host-name gwa")
	w("set interfaces gwa-h1 unit 0 family inet address 198.18.1.1/24")
	w("set interfaces gwa-h1 unit 0 family inet6 address 2001:db8:1::1/64")
	w("set interfaces gwa-gwk unit 0 family inet address %s/24", gwaOuter4)
	w("set interfaces gwa-gwk unit 0 family inet6 address %s/64", gwaOuter6)
	w("set interfaces st0 unit 1 family inet")
	w("set interfaces st0 unit 1 family inet6")
	w("set routing-options static route %s next-hop st0.1", h2Net4)
	w("set routing-options static route %s next-hop st0.1", h2Net6)
	_, peer := c.outer()
	enc, auth := c.keys(i)
	p := "set security ipsec vpn to-kernel "
	w(p + "bind-interface st0.1")
	w(p+"manual gateway %s", peer)
	w(p + "manual external-interface gwa-gwk")
	w(p + "manual protocol esp")
	w(p+"manual spi %d", c.spi(i))
	if c.esn {
		w(p + "manual extended-sequence-number")
	}
	w(p+"manual encryption algorithm %s", c.suite.encryption)
	w(p+"manual encryption key hexadecimal %x", enc)
	if c.suite.auth != "" {
		w(p+"manual authentication algorithm %s", c.suite.auth)
		w(p+"manual authentication key hexadecimal %x", auth)
	}
	if c.udp {
		w(p+"udp-encapsulate dest-port %d", encapPort)
	}
	return b.String()
}

// kernelCommands are the ip(8) commands that give gwk the same SA pair:
// one state per direction with the one SPI (Junos manual SAs use the same
// SPI and keys both ways; the kernel tells them apart by destination) and,
// for each inner family, out, in and fwd policies. "flag af-unspec" lets
// one state carry both inner families over either outer family.
func (c interopCase) kernelCommands(i int) string {
	enc, auth := c.keys(i)
	if c.wrongKey {
		enc = append([]byte(nil), enc...)
		enc[0] ^= 0x01
	}
	var alg string
	if c.suite.auth == "" {
		alg = fmt.Sprintf("aead '%s' 0x%x %d", c.suite.kernelEnc, enc, c.suite.icvBits)
	} else {
		alg = fmt.Sprintf("enc '%s' 0x%x auth-trunc '%s' 0x%x %d", c.suite.kernelEnc, enc, c.suite.kernelAuth, auth, c.suite.icvBits)
	}
	flags := "flag af-unspec"
	if c.esn {
		flags += " esn"
	}
	extra := fmt.Sprintf("replay-window %d %s", replayWindow, flags)
	if c.udp {
		oa := "0.0.0.0" // original address, used only by transport-mode NAT-T
		if c.outer6 {
			oa = "::"
		}
		extra += fmt.Sprintf(" encap espinudp %d %d %s", encapPort, encapPort, oa)
	}
	gwa, gwk := c.outer()
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	for _, d := range [][2]string{{gwa, gwk}, {gwk, gwa}} {
		w("ip -n gwk xfrm state add src %s dst %s proto esp spi %#x reqid 1 mode tunnel %s %s", d[0], d[1], c.spi(i), alg, extra)
	}
	for _, nets := range [][2]string{{h2Net4, h1Net4}, {h2Net6, h1Net6}} {
		local, remote := nets[0], nets[1]
		tmplOut := fmt.Sprintf("tmpl src %s dst %s proto esp reqid 1 mode tunnel", gwk, gwa)
		tmplIn := fmt.Sprintf("tmpl src %s dst %s proto esp reqid 1 mode tunnel", gwa, gwk)
		w("ip -n gwk xfrm policy add src %s dst %s dir out %s", local, remote, tmplOut)
		w("ip -n gwk xfrm policy add src %s dst %s dir in %s", remote, local, tmplIn)
		w("ip -n gwk xfrm policy add src %s dst %s dir fwd %s", remote, local, tmplIn)
	}
	return b.String()
}

// tcpTarget is the address h1 connects to for the TCP transfer.
func (c interopCase) tcpTarget() string {
	if c.tcp6 {
		return h2Addr6
	}
	return h2Addr4
}

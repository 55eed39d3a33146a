package e2e

import (
	"encoding/hex"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"ipsecgw/test/netns"
)

// Wireshark as an independent judge of our ESP bytes: tshark captures the
// outer link, decrypts every packet with the manual SA's keys, checks every
// ICV, and must find exactly the pings that were sent inside.

// tsharkPingPattern fills the ICMP echo payload after ping's timestamp (ping -p
// takes at most 16 bytes).
const tsharkPingPattern = "1e5ec0de5a1ad0b5c0ffee0ddba11fab"

// tsharkSA is one SA in the names of tshark 4.0's esp_sa table: the
// encryption and authentication columns are its value strings, keys are
// 0x-prefixed hexadecimal (for AES-GCM the key followed by the 4-octet salt,
// as in RFC 4106 keying).
type tsharkSA struct {
	encryption, encKey string
	auth, authKey      string
}

const (
	tsharkGCM16      = "AES-GCM with 16 octet ICV [RFC4106]"
	tsharkAESCBC     = "AES-CBC [RFC3602]"
	tshark3DESCBC    = "TripleDES-CBC [RFC2451]"
	tsharkNoAuth     = "NULL"
	tsharkSHA1_96    = "HMAC-SHA-1-96 [RFC2404]"
	tsharkSHA256_128 = "HMAC-SHA-256-128 [RFC4868]"
)

// TestWiresharkDecryptsESP: for each transform tshark 4.0 can decrypt
// (not ChaCha20-Poly1305), over raw ESP on IPv4, UDP port 4500 and IPv6
// outer, tshark decrypts every captured packet, reports every ICV good,
// flags nothing malformed, and finds inside exactly the pings sent both
// ways, and no IV twice. With a wrong key it must not find the pings, or
// must report the ICV bad.
func TestWiresharkDecryptsESP(t *testing.T) {
	netns.RequireRoot(t)
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Fatalf("tshark is needed to judge the wire format: %v", err)
	}
	for _, tc := range []struct {
		name string
		v    vpn
		sa   tsharkSA
	}{
		{"aes-128-gcm", vpn{encryption: "aes-128-gcm", encKey: hexKey(20, 21)},
			tsharkSA{encryption: tsharkGCM16, auth: tsharkNoAuth}},
		{"aes-256-gcm", vpn{encryption: "aes-256-gcm", encKey: hexKey(36, 22)},
			tsharkSA{encryption: tsharkGCM16, auth: tsharkNoAuth}},
		{"aes-256-gcm-udp-4500", vpn{encryption: "aes-256-gcm", encKey: hexKey(36, 23), udpPort: 4500},
			tsharkSA{encryption: tsharkGCM16, auth: tsharkNoAuth}},
		{"aes-128-gcm-outer-ipv6", vpn{encryption: "aes-128-gcm", encKey: hexKey(20, 24), outer6: true},
			tsharkSA{encryption: tsharkGCM16, auth: tsharkNoAuth}},
		{"aes-128-cbc-hmac-sha1-96", vpn{encryption: "aes-128-cbc", encKey: hexKey(16, 25), auth: "hmac-sha1-96", authKey: hexKey(20, 26)},
			tsharkSA{encryption: tsharkAESCBC, auth: tsharkSHA1_96}},
		{"aes-256-cbc-hmac-sha1-96", vpn{encryption: "aes-256-cbc", encKey: hexKey(32, 27), auth: "hmac-sha1-96", authKey: hexKey(20, 28)},
			tsharkSA{encryption: tsharkAESCBC, auth: tsharkSHA1_96}},
		{"aes-128-cbc-hmac-sha-256-128", vpn{encryption: "aes-128-cbc", encKey: hexKey(16, 29), auth: "hmac-sha-256-128", authKey: hexKey(32, 30)},
			tsharkSA{encryption: tsharkAESCBC, auth: tsharkSHA256_128}},
		{"aes-256-cbc-hmac-sha-256-128-udp-4500-outer-ipv6", vpn{encryption: "aes-256-cbc", encKey: hexKey(32, 31), auth: "hmac-sha-256-128", authKey: hexKey(32, 32), udpPort: 4500, outer6: true},
			tsharkSA{encryption: tsharkAESCBC, auth: tsharkSHA256_128}},
		{"3des-cbc-hmac-sha1-96", vpn{encryption: "3des-cbc", encKey: hexKey(24, 33), auth: "hmac-sha1-96", authKey: hexKey(20, 34)},
			tsharkSA{encryption: tshark3DESCBC, auth: tsharkSHA1_96}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sa := tc.sa
			sa.encKey = "0x" + tc.v.encKey
			if tc.v.authKey != "" {
				sa.authKey = "0x" + tc.v.authKey
			}
			tp := newTopology(t)
			tp.start(tc.v)
			pcap := filepath.Join(t.TempDir(), "gw1-gw2.pcap")
			c := tp.startTsharkCapture(pcap)
			tp.tsharkPing("h1", "198.18.2.2")
			tp.tsharkPing("h2", "198.18.1.2")
			time.Sleep(200 * time.Millisecond) // let the last reply cross the link
			c.Stop()

			packets, table := tsharkRead(t, pcap, tc.v, sa)
			t.Logf("tshark's view of %d ESP frames (%s):\n%s", len(packets), strings.Join(tsharkFields, " "), table)
			checkTsharkDecrypted(t, packets, tc.v)

			// The judge must be able to say no. With AES-GCM a wrong key
			// fails the ICV; with CBC a wrong cipher key hides the pings
			// and a wrong HMAC key fails the ICV of what still decrypts.
			wrongEnc := sa
			wrongEnc.encKey = "0x" + invertKey(tc.v.encKey)
			checkTsharkWrongKey(t, "wrong encryption key", pcap, tc.v, wrongEnc, len(packets),
				tsharkWrongKeyWant{hidesPings: true, failsICV: tc.v.auth == ""})
			if tc.v.auth != "" {
				wrongAuth := sa
				wrongAuth.authKey = "0x" + invertKey(tc.v.authKey)
				checkTsharkWrongKey(t, "wrong authentication key", pcap, tc.v, wrongAuth, len(packets),
					tsharkWrongKeyWant{failsICV: true})
			}
		})
	}
}

// tsharkPing sends three echo requests carrying tsharkPingPattern.
func (tp *topology) tsharkPing(from, to string) {
	t := tp.t
	t.Helper()
	p := netns.Ping{Count: 3, Interval: 200 * time.Millisecond, Extra: []string{"-p", tsharkPingPattern}}
	out, _ := tp.net.Try(from, p.Args(to)...)
	if err := p.Check(to, out); err != nil {
		t.Fatalf("from %s: %v\ngw1:\n%s\ngw2:\n%s\n%s", from, err, tp.logOf(tp.gws[0]), tp.logOf(tp.gws[1]), tp.counters())
	}
}

// tsharkCapture is a tshark writing an interface to a pcap file
// (netns.Capture).
type tsharkCapture = netns.Capture

// tsharkProbePort marks the moment a capture is live; its datagrams are
// left out when a capture is read.
const tsharkProbePort = netns.CaptureProbePort

// startTsharkCapture starts tshark on gw1-gw2 and returns once it captures.
func (tp *topology) startTsharkCapture(file string) *tsharkCapture {
	tp.t.Helper()
	return tp.startTsharkOn("gw1", "gw1-gw2", "esp or udp port 4500", "192.0.2.2", file)
}

// startTsharkOn captures what filter selects on interface iface of
// namespace ns into file, once a probe datagram sent from ns to probeTo
// has been seen.
func (tp *topology) startTsharkOn(ns, iface, filter, probeTo, file string) *tsharkCapture {
	tp.t.Helper()
	return tp.net.StartCapture(tp.t, ns, iface, filter, probeTo, file)
}

// tsharkFrame is what tshark reports for one captured frame, each field with
// all its occurrences (ip.src twice when IPv4 carries IPv4).
type tsharkFrame map[string][]string

func (f tsharkFrame) get(field string) string { return strings.Join(f[field], ",") }

// tsharkFields are the fields read per frame.
var tsharkFields = []string{
	"frame.number", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "udp.dstport",
	"esp.spi", "esp.sequence", "esp.iv", "esp.pad", "esp.pad_len", "esp.protocol",
	"esp.icv_good", "esp.icv_bad", "icmp.type", "data.data",
	"_ws.malformed", "_ws.expert.message",
}

// tsharkPacket is one ESP frame as tshark decoded it.
type tsharkPacket struct {
	where              string // for messages
	outerSrc, outerDst string
	udpDstPort         string
	spi                string
	sequence           int
	iv                 string // hexadecimal
	pad                string // hexadecimal
	padLen, nextHeader string
	icvGood, icvBad    string
	innerSrc, innerDst string // "" when nothing was decrypted
	icmpType, data     string
	flags              string // malformed or expert, "" when none
}

// tsharkRead decodes the pcap with both directions' SA in tshark's table and
// returns the packets and tshark's table of fields. An esp_sa row in tshark
// 4.0 is eight quoted fields: "IPv4" or "IPv6", source, destination, SPI
// ("0x00001234"), encryption, its key, authentication, its key. Sequence
// analysis is off: it keys on the SPI alone, and both directions use SPI
// 4660, so it would flag every change of direction.
func tsharkRead(t *testing.T, pcap string, v vpn, sa tsharkSA) ([]tsharkPacket, string) {
	t.Helper()
	family, a, b := "IPv4", "192.0.2.1", "192.0.2.2"
	if v.outer6 {
		family, a, b = "IPv6", "2001:db8:ff::1", "2001:db8:ff::2"
	}
	args := []string{"tshark", "-r", pcap, "-n",
		"-Y", fmt.Sprintf("!(udp.port == %d)", tsharkProbePort),
		"-o", "esp.enable_encryption_decode:TRUE",
		"-o", "esp.enable_authentication_check:TRUE",
		"-o", "esp.do_esp_sequence_analysis:FALSE",
	}
	for _, dir := range [][2]string{{a, b}, {b, a}} {
		args = append(args, "-o", fmt.Sprintf(`uat:esp_sa:"%s","%s","%s","0x%08x","%s","%s","%s","%s"`,
			family, dir[0], dir[1], 4660, sa.encryption, sa.encKey, sa.auth, sa.authKey))
	}
	args = append(args, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|", "-E", "separator=/t")
	for _, f := range tsharkFields {
		args = append(args, "-e", f)
	}
	out, err := netns.Command(args...)
	if err != nil {
		t.Fatalf("tshark -r: %v\n%s", err, out)
	}
	var packets []tsharkPacket
	for _, line := range strings.Split(out, "\n") {
		col := strings.Split(line, "\t")
		if len(col) != len(tsharkFields) {
			continue // tshark's warnings on stderr, merged in
		}
		f := tsharkFrame{}
		for i, name := range tsharkFields {
			if col[i] != "" {
				f[name] = strings.Split(col[i], "|")
			}
		}
		packets = append(packets, f.packet(v.outer6))
	}
	return packets, out
}

// packet sorts a frame's addresses into outer and inner header.
func (f tsharkFrame) packet(outer6 bool) tsharkPacket {
	p := tsharkPacket{udpDstPort: f.get("udp.dstport"), spi: f.get("esp.spi"), iv: f.get("esp.iv"),
		pad: f.get("esp.pad"), padLen: f.get("esp.pad_len"), nextHeader: f.get("esp.protocol"),
		icvGood: f.get("esp.icv_good"), icvBad: f.get("esp.icv_bad"),
		icmpType: f.get("icmp.type"), data: f.get("data.data"),
		flags: strings.TrimSpace(f.get("_ws.malformed") + " " + f.get("_ws.expert.message"))}
	p.sequence, _ = strconv.Atoi(f.get("esp.sequence"))
	outerFamily, innerFamily := "ip", "ipv6"
	if outer6 {
		outerFamily, innerFamily = "ipv6", "ip"
	}
	src, dst := f[outerFamily+".src"], f[outerFamily+".dst"]
	if len(src) > 0 && len(dst) > 0 {
		p.outerSrc, p.outerDst = src[0], dst[0]
	}
	if len(src) == 2 && len(dst) == 2 {
		p.innerSrc, p.innerDst = src[1], dst[1]
	} else if len(f[innerFamily+".src"]) == 1 && len(f[innerFamily+".dst"]) == 1 {
		p.innerSrc, p.innerDst = f[innerFamily+".src"][0], f[innerFamily+".dst"][0]
	}
	p.where = fmt.Sprintf("frame %s (%s → %s, SPI %s, sequence %d)", f.get("frame.number"), p.outerSrc, p.outerDst, p.spi, p.sequence)
	return p
}

// checkTsharkDecrypted: every ESP packet on the link decrypts, with a good
// ICV, RFC 4303 padding (1, 2, 3, ...) and nothing malformed or flagged; no
// IV repeats and each direction's sequence numbers are consecutive. Inside
// are exactly the pings sent (three each way, request and reply, in the
// tunnel direction their addresses imply) and, besides them, only the
// gateways' own IPv6 link-local multicast on st0 (MLD reports): st0 is a
// link, and that traffic is legitimately tunnelled.
func checkTsharkDecrypted(t *testing.T, packets []tsharkPacket, v vpn) {
	t.Helper()
	outer := map[string]string{"198.18.1.2": "192.0.2.1", "198.18.2.2": "192.0.2.2"}
	if v.outer6 {
		outer = map[string]string{"198.18.1.2": "2001:db8:ff::1", "198.18.2.2": "2001:db8:ff::2"}
	}
	want := map[string]int{ // inner "src>dst ICMP type" → packets
		"198.18.1.2>198.18.2.2 8": 3, "198.18.2.2>198.18.1.2 0": 3,
		"198.18.2.2>198.18.1.2 8": 3, "198.18.1.2>198.18.2.2 0": 3,
	}
	got := map[string]int{}
	sequences := map[string][]int{} // outer source → sequence numbers
	linkLocal := 0
	ivs := map[string]string{} // IV → where it was first seen
	repeated := 0
	for _, p := range packets {
		if p.spi != "0x00001234" {
			t.Errorf("%s: not an ESP packet of SPI 0x00001234", p.where)
			continue
		}
		sequences[p.outerSrc] = append(sequences[p.outerSrc], p.sequence)
		// A manual SA has one key for both directions, so no IV may
		// repeat anywhere on the link: with AES-GCM a repeated IV is a
		// repeated nonce (RFC 4106 §3.1), which leaks the XOR of the two
		// plaintexts and the GHASH key.
		if first, ok := ivs[p.iv]; ok {
			if repeated++; repeated == 1 {
				t.Errorf("%s: IV %s already sent in %s under the same key", p.where, p.iv, first)
			}
		} else {
			ivs[p.iv] = p.where
		}
		if v.udpPort != 0 && p.udpDstPort != fmt.Sprint(v.udpPort) {
			t.Errorf("%s: UDP destination port %q, want %d", p.where, p.udpDstPort, v.udpPort)
		}
		if v.udpPort == 0 && p.udpDstPort != "" {
			t.Errorf("%s: UDP-encapsulated (port %s), want raw ESP", p.where, p.udpDstPort)
		}
		if p.icvGood != "1" || p.icvBad == "1" {
			t.Errorf("%s: ICV not reported good (good=%q bad=%q)", p.where, p.icvGood, p.icvBad)
		}
		if p.flags != "" {
			t.Errorf("%s: tshark flags it: %s", p.where, p.flags)
		}
		if p.innerSrc == "" {
			t.Errorf("%s: no inner packet after decryption", p.where)
			continue
		}
		if n, err := strconv.Atoi(p.padLen); err != nil || p.pad != tsharkDefaultPad(n) {
			t.Errorf("%s: padding %q of length %q, want 01 02 03 ... (RFC 4303 2.4)", p.where, p.pad, p.padLen)
		}
		if strings.HasPrefix(p.innerSrc, "fe80:") && strings.HasPrefix(p.innerDst, "ff02:") && p.nextHeader == "0x29" {
			linkLocal++
			continue
		}
		if p.nextHeader != "0x04" {
			t.Errorf("%s: next header %s, want 0x04 (IPv4)", p.where, p.nextHeader)
		}
		if outer[p.innerSrc] != p.outerSrc || outer[p.innerDst] != p.outerDst {
			t.Errorf("%s: inner %s → %s in the wrong tunnel direction", p.where, p.innerSrc, p.innerDst)
		}
		if !strings.Contains(p.data, tsharkPingPattern) {
			t.Errorf("%s: inner ICMP payload %q lacks the pattern %s", p.where, p.data, tsharkPingPattern)
		}
		got[fmt.Sprintf("%s>%s %s", p.innerSrc, p.innerDst, p.icmpType)]++
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("inner ICMP %s: %d packets, want %d", k, got[k], n)
		}
	}
	for k, n := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected inner packets %s: %d", k, n)
		}
	}
	for src, seqs := range sequences {
		slices.Sort(seqs)
		for i := 1; i < len(seqs); i++ {
			if seqs[i] != seqs[i-1]+1 {
				t.Errorf("from %s: sequence numbers %v are not consecutive", src, seqs)
				break
			}
		}
	}
	if repeated > 1 {
		t.Errorf("%d of %d packets repeat an earlier IV under the same key", repeated, len(packets))
	}
	t.Logf("%d ESP packets judged: 12 pings expected, %d link-local IPv6 packets besides", len(packets), linkLocal)
}

// tsharkDefaultPad is the default ESP padding of n octets, in tshark's
// hexadecimal.
func tsharkDefaultPad(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%02x", i)
	}
	return b.String()
}

// tsharkWrongKeyWant is what tshark must show when given a wrong key.
type tsharkWrongKeyWant struct {
	hidesPings bool // no inner packet of h1 or h2, no ping payload
	failsICV   bool // no ICV reported good; most bad, or the packet malformed
}

// checkTsharkWrongKey: decoding with a wrong key must not look like success, so
// that checkTsharkDecrypted's passes mean something.
func checkTsharkWrongKey(t *testing.T, what, pcap string, v vpn, sa tsharkSA, n int, want tsharkWrongKeyWant) {
	t.Helper()
	packets, table := tsharkRead(t, pcap, v, sa)
	var wrong []string
	if len(packets) != n {
		wrong = append(wrong, fmt.Sprintf("tshark read %d frames, with the right keys %d", len(packets), n))
	}
	var silent []string
	for _, p := range packets {
		if want.hidesPings && (strings.HasPrefix(p.innerSrc, "198.18.") || strings.Contains(p.data, tsharkPingPattern)) {
			wrong = append(wrong, fmt.Sprintf("%s: tshark still shows inner %s → %s %q", p.where, p.innerSrc, p.innerDst, p.data))
		}
		// With a wrong key tshark reports the ICV bad; when the garbage it
		// decrypted does not parse it flags the packet malformed, or now
		// and then (one frame in a CI run's 14) says nothing of it at all.
		// It must never call one good, and must call most of them bad.
		if !want.failsICV {
			continue
		}
		switch {
		case p.icvGood == "1":
			wrong = append(wrong, fmt.Sprintf("%s: tshark reports a good ICV", p.where))
		case p.icvBad != "1" && !strings.Contains(p.flags, "_ws.malformed"):
			silent = append(silent, fmt.Sprintf("%s: tshark does not report a bad ICV (good=%q bad=%q %s)", p.where, p.icvGood, p.icvBad, p.flags))
		}
	}
	if 2*len(silent) > len(packets) {
		wrong = append(wrong, silent...)
	} else if len(silent) > 0 {
		t.Logf("with a %s, %d of %d frames without tshark's verdict:\n%s", what, len(silent), len(packets), strings.Join(silent, "\n"))
	}
	if len(wrong) > 0 {
		t.Errorf("with a %s:\n%s\ntshark's view:\n%s", what, strings.Join(wrong, "\n"), table)
	}
}

// invertKey returns a hexadecimal key of the same length with every bit
// inverted.
func invertKey(key string) string {
	b, err := hex.DecodeString(key)
	if err != nil {
		panic(fmt.Sprintf("invertKey(%q): %v", key, err)) // keys come from hexKey
	}
	for i := range b {
		b[i] = ^b[i]
	}
	return hex.EncodeToString(b)
}

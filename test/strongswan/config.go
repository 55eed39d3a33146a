package strongswan

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Plugins is charon's load list. Order matters: kernel-libipsec before
// kernel-netlink (see the package comment). openssl brings every algorithm
// the tests use; kdf is needed for IKE key derivation in Debian 12's build;
// pem, pkcs1, pkcs8, x509 and pubkey are there for certificate tests.
const Plugins = "random nonce openssl kdf pem pkcs1 pkcs8 x509 pubkey " +
	"kernel-libipsec kernel-netlink socket-default vici"

// swanctlPlugins is what swanctl itself loads to parse credentials.
const swanctlPlugins = "random nonce openssl pem pkcs1 pkcs8 x509 pubkey"

// Config is one charon's configuration: its connections (swanctl.conf) and
// raw strongswan.conf lines for anything the fields do not cover.
type Config struct {
	Connections []Connection

	// Charon lines go inside strongswan.conf's charon section after the
	// generated ones, one setting per line ("retransmit_tries = 2",
	// "plugins {", "kernel-libipsec {", "allow_peer_ts = yes", "}", "}").
	// A repeated key wins, so "load = ..." here replaces Plugins.
	Charon []string

	// Files are written beside swanctl.conf before it is loaded, by path
	// relative to it: credentials for swanctl --load-all ("x509/gw.crt",
	// "x509ca/root.crt", "private/gw.key", "x509crl/inter.crl").
	Files map[string][]byte

	// Strongswan6 runs the strongSwan 6 build of ../shared/peers/strongswan6
	// (installed under Strongswan6Prefix) instead of Debian's 5.9 charon.
	Strongswan6 bool
}

// Connection is one swanctl.conf connection: an IKE SA's parameters and the
// CHILD SAs negotiated under it. Durations are left to strongSwan's default
// when zero and written as 0 (off) when negative.
type Connection struct {
	Name        string
	Version     int    // IKE version: 2 (the default when 0) or 1
	LocalAddrs  string // local_addrs, e.g. "192.0.2.1"; empty means %any
	RemoteAddrs string // remote_addrs; empty means %any (responder only)
	LocalID     string // empty: strongSwan uses the local IP address
	RemoteID    string // empty: any identity the PSK authenticates
	// PSK is the pre-shared key for both directions (auth = psk). Its
	// secrets entry names LocalID and RemoteID, or matches any identity
	// when they are empty. Empty PSK: no auth is written (add it in Extra).
	PSK        string
	Proposals  []string // IKE proposals, e.g. "aes256-sha256-modp2048"
	DPDDelay   time.Duration
	RekeyTime  time.Duration // IKE SA rekeying
	ReauthTime time.Duration
	Children   []Child
	// Extra lines go inside the connection's section after the generated
	// ones ("local_port = 4501", "mobike = no", "local {", "auth = pubkey",
	// "}"); sections merge and repeated keys win.
	Extra []string
}

// Child is one CHILD SA configuration (a children subsection).
type Child struct {
	Name         string
	LocalTS      []string // local_ts, e.g. "198.51.100.0/24"
	RemoteTS     []string
	ESPProposals []string // e.g. "aes256gcm16"
	StartAction  string   // "", "none", "start" or "trap"
	RekeyTime    time.Duration
	Extra        []string // lines inside the child's section
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// validate reports every problem in the configuration at once.
func (c Config) validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if len(c.Connections) == 0 {
		bad("no connections: Config needs at least one")
	}
	seen := map[string]bool{}
	name := func(kind, n string) {
		switch {
		case !nameRE.MatchString(n):
			bad("%s name %q: want letters, digits, '_', '.', '-'", kind, n)
		case seen[kind+n]:
			bad("%s name %q used twice", kind, n)
		}
		seen[kind+n] = true
	}
	for _, conn := range c.Connections {
		name("connection", conn.Name)
		if conn.Version != 0 && conn.Version != 1 && conn.Version != 2 {
			bad("connection %q: IKE version %d, want 1 or 2", conn.Name, conn.Version)
		}
		for _, ch := range conn.Children {
			name("child", ch.Name)
			switch ch.StartAction {
			case "", "none", "start", "trap":
			default:
				bad("child %q: start_action %q, want none, start or trap", ch.Name, ch.StartAction)
			}
		}
	}
	checkLines := func(where string, lines []string) {
		depth := 0
		for _, l := range lines {
			l = strings.TrimSpace(l)
			switch {
			case strings.ContainsAny(l, "\n\r"):
				bad("%s: line %q holds a line break: one setting per line", where, l)
			case l == "}":
				depth--
			case strings.HasSuffix(l, "{"):
				depth++
			}
			if depth < 0 {
				break
			}
		}
		if depth != 0 {
			bad("%s: sections opened with \"{\" and closed with \"}\" do not balance", where)
		}
	}
	checkLines("Charon", c.Charon)
	for _, conn := range c.Connections {
		checkLines("connection "+conn.Name+" Extra", conn.Extra)
		for _, ch := range conn.Children {
			checkLines("child "+ch.Name+" Extra", ch.Extra)
		}
	}
	return errors.Join(errs...)
}

// strongswanConf renders strongswan.conf for a charon whose vici socket and
// log file are at the given paths.
func (c Config) strongswanConf(socket, logFile string) string {
	var w confWriter
	w.comment("strongswan.conf written by ipsecgw/test/strongswan")
	w.open("charon")
	w.set("load_modular", "no")
	w.set("load", Plugins)
	w.open("plugins")
	w.open("vici")
	w.set("socket", "unix://"+socket)
	w.close()
	w.close()
	w.open("filelog")
	w.open("test")
	w.set("path", logFile)
	w.set("append", "no")
	w.set("flush_line", "yes")
	w.set("time_format", "%H:%M:%S")
	w.set("time_add_ms", "yes")
	w.set("ike_name", "yes")
	w.set("default", "1")
	w.set("ike", "2")
	w.set("cfg", "2")
	w.set("knl", "2")
	w.set("net", "1")
	w.close()
	w.close()
	w.raw(c.Charon)
	w.close()
	w.open("swanctl")
	w.set("load", swanctlPlugins)
	w.close()
	return w.String()
}

// swanctlConf renders swanctl.conf: the connections and their PSKs.
func (c Config) swanctlConf() string {
	var w confWriter
	w.comment("swanctl.conf written by ipsecgw/test/strongswan")
	w.open("connections")
	for _, conn := range c.Connections {
		conn.write(&w)
	}
	w.close()
	w.open("secrets")
	for _, conn := range c.Connections {
		if conn.PSK == "" {
			continue
		}
		w.open("ike-" + conn.Name)
		if conn.LocalID != "" {
			w.set("id-local", conn.LocalID)
		}
		if conn.RemoteID != "" {
			w.set("id-remote", conn.RemoteID)
		}
		w.setQuoted("secret", conn.PSK)
		w.close()
	}
	w.close()
	return w.String()
}

func (conn Connection) write(w *confWriter) {
	w.open(conn.Name)
	version := conn.Version
	if version == 0 {
		version = 2
	}
	w.set("version", fmt.Sprint(version))
	w.set("local_addrs", conn.LocalAddrs)
	w.set("remote_addrs", conn.RemoteAddrs)
	w.set("proposals", strings.Join(conn.Proposals, ","))
	w.set("dpd_delay", seconds(conn.DPDDelay))
	w.set("rekey_time", seconds(conn.RekeyTime))
	w.set("reauth_time", seconds(conn.ReauthTime))
	for _, end := range []struct{ section, id string }{{"local", conn.LocalID}, {"remote", conn.RemoteID}} {
		w.open(end.section)
		if conn.PSK != "" {
			w.set("auth", "psk")
		}
		w.set("id", end.id)
		w.close()
	}
	w.open("children")
	for _, ch := range conn.Children {
		w.open(ch.Name)
		w.set("local_ts", strings.Join(ch.LocalTS, ","))
		w.set("remote_ts", strings.Join(ch.RemoteTS, ","))
		w.set("esp_proposals", strings.Join(ch.ESPProposals, ","))
		w.set("start_action", ch.StartAction)
		w.set("rekey_time", seconds(ch.RekeyTime))
		w.raw(ch.Extra)
		w.close()
	}
	w.close()
	w.raw(conn.Extra)
	w.close()
}

// seconds renders a duration for strongSwan: "" (leave the default) for
// zero, "0" (disabled) for negative, else whole seconds, at least one.
func seconds(d time.Duration) string {
	switch {
	case d == 0:
		return ""
	case d < 0:
		return "0"
	}
	s := int64((d + time.Second - 1) / time.Second)
	return fmt.Sprintf("%ds", s)
}

// confWriter builds strongSwan's settings syntax: nested sections and one
// "key = value" per line (a value runs to the end of its line).
type confWriter struct {
	b     strings.Builder
	depth int
}

func (w *confWriter) line(s string) {
	w.b.WriteString(strings.Repeat("  ", w.depth))
	w.b.WriteString(s)
	w.b.WriteByte('\n')
}

func (w *confWriter) comment(s string) { w.line("# " + s) }
func (w *confWriter) open(name string) { w.line(name + " {"); w.depth++ }
func (w *confWriter) close()           { w.depth--; w.line("}") }

// set writes key = value, quoting the value when it needs it; an empty value
// writes nothing, leaving strongSwan's default.
func (w *confWriter) set(key, value string) {
	if value == "" {
		return
	}
	if !plainRE.MatchString(value) {
		value = quote(value)
	}
	w.line(key + " = " + value)
}

// setQuoted always quotes, so a secret is never read as something else.
func (w *confWriter) setQuoted(key, value string) { w.line(key + " = " + quote(value)) }

// raw writes caller-supplied lines as they are, indented to the current
// depth (strongSwan ignores indentation; it only keeps the file readable).
// validate has checked that the lines' braces balance.
func (w *confWriter) raw(lines []string) {
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "}" {
			w.close()
			continue
		}
		w.line(l)
		if strings.HasSuffix(l, "{") {
			w.depth++
		}
	}
}

func (w *confWriter) String() string { return w.b.String() }

// plainRE matches values strongSwan reads unquoted exactly as written:
// words of plain characters joined by single spaces (the lexer rejoins words
// with one space, and '#', '}' and '"' would end or change the value).
var plainRE = regexp.MustCompile(`^[A-Za-z0-9._:/@%,+=*-]+( [A-Za-z0-9._:/@%,+=*-]+)*$`)

// quote makes a settings string literal; the lexer knows \\, \", \n, \r, \t.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}

package config

import (
	"fmt"
	"regexp"
	"strings"
)

// The "system" statements of the two management doors, SSH to the CLI and
// NETCONF over SSH: the users who may log in and the services that listen.
// Junos's "plain-text-password" is an interactive prompt that stores a hash;
// ipsecgw takes the hash itself ("encrypted-password", as "show" prints it),
// made with "openssl passwd -6" or "mkpasswd -m sha-512".

var systemLogin = container("login", "Users who may log in",
	list("user", "User", typeUserName,
		leaf("full-name", "Full name", text(64)),
		leaf("uid", "User identifier", uintRange(100, 64000)).
			notApplied("ipsecgw's users are not accounts of the host"),
		leaf("class", "Login class (permissions)", enum("super-user", "operator", "read-only")),
		container("authentication", "Authentication methods",
			leaf("encrypted-password", "Password as a crypt(3) SHA-512 hash", typePasswordHash),
			list("ssh-ed25519", "SSH Ed25519 public key", typeSSHKey("ssh-ed25519")),
			list("ssh-rsa", "SSH RSA public key", typeSSHKey("ssh-rsa")),
			list("ssh-ecdsa", "SSH ECDSA public key", typeSSHKey("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521")),
		),
	),
)

var systemMgmtServices = container("services", "System services",
	container("ssh", "SSH to the CLI",
		leaf("port", "TCP port (default 22)", uintRange(1, 65535)),
	),
	container("netconf", "NETCONF",
		container("ssh", "NETCONF over SSH",
			leaf("port", "TCP port (default 830)", uintRange(1, 65535)),
		),
	),
)

var userNameRE = regexp.MustCompile(`^[a-z_][a-z0-9_.-]{0,31}$`)

var typeUserName = &Type{Name: "a user name (lower case letters, digits, _ . -; up to 32)", check: func(s string) error {
	if !userNameRE.MatchString(s) {
		return fmt.Errorf("%q is not a valid user name", s)
	}
	return nil
}}

// shaCryptRE is the form of a crypt(3) SHA-512 hash: $6$[rounds=N$]salt$hash.
var shaCryptRE = regexp.MustCompile(`^\$6\$(rounds=[0-9]{1,9}\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{86}$`)

// typePasswordHash is a password hash: stored as written, printed with
// "## SECRET-DATA". Its error never quotes the value.
var typePasswordHash = &Type{Name: `a crypt(3) SHA-512 hash ("$6$salt$hash", from "openssl passwd -6")`, SecretData: true,
	check: func(s string) error {
		if !shaCryptRE.MatchString(s) {
			return fmt.Errorf("not a SHA-512 crypt hash")
		}
		return nil
	}}

// typeSSHKey is a public key in authorized_keys form whose algorithm is one
// of algs. The key itself is checked by the typed model (config/schema).
func typeSSHKey(algs ...string) *Type {
	return &Type{Name: "a public key (" + strings.Join(algs, " or ") + " AAAA... [comment])", check: func(s string) error {
		f := strings.Fields(s)
		if len(f) < 2 {
			return fmt.Errorf("a public key is its algorithm and base64 text")
		}
		for _, a := range algs {
			if f[0] == a {
				return nil
			}
		}
		return fmt.Errorf("%q is not a key of this type", f[0])
	}}
}

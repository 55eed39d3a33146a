package schema

import (
	"fmt"

	"golang.org/x/crypto/ssh"

	"ipsecgw/config"
)

// System is "system": the users who may log in and the management services
// that listen for them (SSH to the CLI, NETCONF over SSH).
type System struct {
	Users []*User // in configuration order
	// SSH and NETCONF are nil when the service is not configured (it then
	// does not listen).
	SSH     *MgmtService
	NETCONF *MgmtService
}

// MgmtService is one listening management service.
type MgmtService struct {
	Port int
}

// Login classes: what a user may do.
const (
	ClassSuperUser = "super-user" // everything
	ClassOperator  = "operator"   // show and clear, no configuration changes
	ClassReadOnly  = "read-only"  // show only
)

// User is one "system login user".
type User struct {
	Name     string
	FullName string
	UID      int
	Class    string
	// PasswordHash is the crypt(3) SHA-512 hash ("" when the user has no
	// password and logs in with a key only).
	PasswordHash string
	Keys         []ssh.PublicKey
}

// User returns the user called name, or nil.
func (s *System) User(name string) *User {
	for _, u := range s.Users {
		if u.Name == name {
			return u
		}
	}
	return nil
}

// MayConfigure reports whether u may change the configuration.
func (u *User) MayConfigure() bool { return u.Class == ClassSuperUser }

// MayClear reports whether u may run operational commands that change
// state (clear).
func (u *User) MayClear() bool { return u.Class == ClassSuperUser || u.Class == ClassOperator }

// Default ports of the services.
const (
	DefaultSSHPort     = 22
	DefaultNETCONFPort = 830
)

func (b *builder) systemLogin(s *config.Stmt) {
	for _, e := range entries(child(s, "login"), "user") {
		u := &User{Name: e.Key, FullName: str(e, "full-name"), UID: num(e, "uid", 0), Class: str(e, "class")}
		if u.Class == "" {
			b.fail(e, "user "+e.Key+" has no login class", "class super-user, operator or read-only")
		}
		a := child(e, "authentication")
		u.PasswordHash = str(a, "encrypted-password")
		for _, kind := range []string{"ssh-ed25519", "ssh-rsa", "ssh-ecdsa"} {
			for _, k := range entries(a, kind) {
				pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(k.Key))
				if err != nil {
					b.fail(k, fmt.Sprintf("public key of user %s does not parse: %v", e.Key, err), "a public key as in authorized_keys (ALGORITHM BASE64 [COMMENT])")
					continue
				}
				u.Keys = append(u.Keys, pk)
			}
		}
		b.cfg.System.Users = append(b.cfg.System.Users, u)
	}
}

func (b *builder) systemServices(s *config.Stmt) {
	svc := child(s, "services")
	if ssh := child(svc, "ssh"); ssh != nil {
		b.cfg.System.SSH = &MgmtService{Port: num(ssh, "port", DefaultSSHPort)}
	}
	if nc := child(child(svc, "netconf"), "ssh"); nc != nil {
		b.cfg.System.NETCONF = &MgmtService{Port: num(nc, "port", DefaultNETCONFPort)}
	}
	if b.cfg.System.SSH != nil && b.cfg.System.NETCONF != nil && b.cfg.System.SSH.Port == b.cfg.System.NETCONF.Port {
		b.fail(child(child(svc, "netconf"), "ssh"), fmt.Sprintf("NETCONF and SSH both use port %d", b.cfg.System.SSH.Port), "a NETCONF port other than the SSH port")
	}
}

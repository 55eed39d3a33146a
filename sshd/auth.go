package sshd

import (
	"crypto/subtle"
	"errors"

	"github.com/go-crypt/crypt/algorithm/shacrypt"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/ssh"

	"ipsecgw/config/schema"
)

// Logging in. Users and their credentials come from the committed
// configuration (system login user). A failed password is counted, logged
// with the source address and the user name (never the password), and
// answered only after FailDelay, which bounds how fast one connection can
// guess; MaxAuthTries bounds the guesses per connection.

// The extensions of ssh.Permissions that carry the authenticated user and
// the method, from the callbacks to the connection.
const (
	userExtension   = "ipsecgw-user"
	methodExtension = "ipsecgw-method"
)

var errRefused = errors.New("refused")

// failures counts failed logins by service (ssh, netconf) and method.
type failures struct{ c *prometheus.CounterVec }

func newFailures() failures {
	return failures{prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ipsecgw_login_failures_total",
		Help: "Failed logins on the SSH and NETCONF services, by service and method.",
	}, []string{"service", "method"})}
}

func (f failures) inc(service, method string) { f.c.WithLabelValues(service, method).Inc() }

// checkPassword reports whether password matches u's hash. A user without
// a password never matches.
func checkPassword(u *schema.User, password []byte) bool {
	if u == nil || u.PasswordHash == "" {
		return false
	}
	d, err := shacrypt.Decode(u.PasswordHash)
	if err != nil {
		return false
	}
	return d.MatchBytes(password)
}

// checkKey reports whether key is one of u's public keys.
func checkKey(u *schema.User, key ssh.PublicKey) bool {
	if u == nil {
		return false
	}
	b := key.Marshal()
	for _, k := range u.Keys {
		if kb := k.Marshal(); len(kb) == len(b) && subtle.ConstantTimeCompare(kb, b) == 1 {
			return true
		}
	}
	return false
}

// attempt is what one connection tried, for the log line and the counter
// when its login fails.
type attempt struct {
	user      string
	passwords int // failed passwords (each counted when it failed)
	keys      int // public keys offered and refused
}

// serverConfig is the SSH configuration of one connection to service.
func (s *Server) serverConfig(service string, a *attempt) *ssh.ServerConfig {
	c := &ssh.ServerConfig{
		MaxAuthTries:  6,
		ServerVersion: "SSH-2.0-ipsecgw",
		PasswordCallback: func(meta ssh.ConnMetadata, password []byte) (*ssh.Permissions, error) {
			a.user = meta.User()
			u := s.system().User(meta.User())
			if checkPassword(u, password) {
				return &ssh.Permissions{Extensions: map[string]string{userExtension: u.Name, methodExtension: "password"}}, nil
			}
			a.passwords++
			s.failures.inc(service, "password")
			reason := "wrong password"
			if u == nil {
				reason = "no such user"
			}
			s.log.Warn("login failed", "service", service, "user", meta.User(), "method", "password", "from", meta.RemoteAddr().String(), "reason", reason)
			s.sleep(s.opts.FailDelay)
			return nil, errRefused
		},
		PublicKeyCallback: func(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			// Called for a key the client offers before it signs with it,
			// and again for the signature: a key not listed is an offer
			// refused, not a failed login (clients try all their keys).
			a.user = meta.User()
			u := s.system().User(meta.User())
			if !checkKey(u, key) {
				a.keys++
				s.log.Debug("public key not accepted", "service", service, "user", meta.User(), "type", key.Type(), "from", meta.RemoteAddr().String())
				return nil, errRefused
			}
			return &ssh.Permissions{Extensions: map[string]string{userExtension: u.Name, methodExtension: "publickey"}}, nil
		},
	}
	c.AddHostKey(s.hostKey)
	return c
}

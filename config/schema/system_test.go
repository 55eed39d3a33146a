package schema

import (
	"strings"
	"testing"

	"ipsecgw/config"
)

const systemConf = `
system {
    host-name gw1;
    login {
        user alice {
            uid 2001;
            class super-user;
            authentication {
                encrypted-password "$6$saltsalt$4wxWeHqpAHNNJcQMSu6jvr3dQTQoGoqMQhPAP0o5Ygzna6vr4y0u6.EZzboAAqg6dXU4q/OfcYqdrvZixR76r0"; ## SECRET-DATA
                ssh-ed25519 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL2lRfMTjR03IgQZwCopLT7GaI61hJbJOADXVvYgbUKW alice@laptop";
            }
        }
        user bob {
            class read-only;
        }
    }
    services {
        ssh;
        netconf {
            ssh {
                port 8300;
            }
        }
    }
}
`

func TestSystemModel(t *testing.T) {
	c, err := build(t, systemConf, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := c.System
	if len(s.Users) != 2 {
		t.Fatalf("users: %+v", s.Users)
	}
	a := s.User("alice")
	if a == nil || a.Class != ClassSuperUser || a.UID != 2001 || !strings.HasPrefix(a.PasswordHash, "$6$saltsalt$") || len(a.Keys) != 1 || a.Keys[0].Type() != "ssh-ed25519" {
		t.Errorf("alice: %+v", a)
	}
	if !a.MayConfigure() || s.User("bob").MayConfigure() || s.User("bob").MayClear() {
		t.Error("classes: super-user configures, read-only neither configures nor clears")
	}
	if s.SSH == nil || s.SSH.Port != DefaultSSHPort || s.NETCONF == nil || s.NETCONF.Port != 8300 {
		t.Errorf("services: ssh %+v netconf %+v", s.SSH, s.NETCONF)
	}
}

func TestSystemErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"set system login user carol authentication encrypted-password \"$6$x$y\"", "not a SHA-512 crypt hash"},
		{"set system login user carol class operator\nset system login user carol authentication ssh-ed25519 \"ssh-ed25519 AAAAnotbase64!\"", "does not parse"},
		{"set system login user carol authentication ssh-rsa \"ssh-ed25519 AAAA\"", "is not a key of this type"},
		{"set system login user carol uid 2000", "has no login class"},
		{"set system services ssh port 830\nset system services netconf ssh", "both use port 830"},
	} {
		tr, err := config.Parse("t.conf", []byte(tc.src), nil)
		if err == nil {
			_, err = Build(tr, Options{})
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.src, err, tc.want)
		}
		if err != nil && strings.Contains(tc.src, "$6$x$y") && strings.Contains(err.Error(), "$6$x$y") {
			t.Errorf("the error quotes the password hash: %v", err)
		}
	}
}

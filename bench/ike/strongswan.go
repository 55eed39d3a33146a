package ike

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"ipsecgw/bench/lab"
)

// strongSwan's charon as the reference responder, started the way
// test/strongswan does (see its package comment for why): Debian's charon,
// never the system service, in the swan namespace with a private /run (its
// pid file is compiled in) and its own strongswan.conf; userspace ESP
// (kernel-libipsec), so it fakes a NAT and IKE moves to port 4500.
const (
	charonPath = "/usr/lib/ipsec/charon"
	swanctlBin = "swanctl"
)

// charonPlugins: kernel-libipsec before kernel-netlink; openssl brings
// AES-GCM, ECP and X25519; kdf is needed by Debian 12's build; pem,
// pkcs1, pkcs8, x509 and pubkey read the ECDSA rows' certificates.
const charonPlugins = "random nonce openssl kdf pem pkcs1 pkcs8 x509 pubkey kernel-libipsec kernel-netlink socket-default vici"

// charonGroups maps the Junos dh-group keyword to strongSwan's.
var charonGroups = map[string]string{"group19": "ecp256", "group31": "curve25519", "group20": "ecp384", "group14": "modp2048"}

type strongSwanResponder struct {
	dir     string // configuration and logs, per group
	sockDir string
	p       *lab.Process
	certHolder
}

func (r *strongSwanResponder) name() string        { return responderStrongSwan }
func (r *strongSwanResponder) address() netip.Addr { return swanAddr }
func (r *strongSwanResponder) local() netip.Addr   { return genToSwan }

// charonAvailable says what is missing to run charon, if anything.
func charonAvailable() error {
	if _, err := os.Stat(charonPath); err != nil {
		return fmt.Errorf("strongSwan's charon is not installed (%s): make deps installs strongswan-charon, strongswan-swanctl, libcharon-extra-plugins and libstrongswan-standard-plugins", charonPath)
	}
	if _, err := exec.LookPath(swanctlBin); err != nil {
		return fmt.Errorf("swanctl is not installed: %w", err)
	}
	return nil
}

// strongswanConf tunes charon for many SAs from one peer, as an operator
// would for a load test: a larger IKE SA table, and no cookies or
// per-address half-open limit, which would throttle the single generator
// address and measure the limits rather than the daemon (block_threshold
// is 5 and cookie_threshold_ip 3 by default; even at 64, charon still
// asked 86% of the tunnels for a cookie with 64 in flight, as it counts an
// SA half-open until its IKE_AUTH has been processed and checked in, while
// ipsecgw's fixed threshold of 64 never triggers at 64 in flight).
// Logging is charon's level 0, a few lines per SA like ipsecgw's info.
func strongswanConf(socket, logFile string) string {
	return fmt.Sprintf(`# strongswan.conf written by ipsecgw bench ike
charon {
  load_modular = no
  load = %s
  ikesa_table_size = 4096
  ikesa_table_segments = 16
  cookie_threshold = 1000000
  cookie_threshold_ip = 1000000
  block_threshold = 1000000
  retransmit_tries = 5
  plugins {
    vici {
      socket = unix://%s
    }
  }
  filelog {
    bench {
      path = %s
      append = no
      flush_line = yes
      default = 0
    }
  }
}
swanctl {
  load = random nonce openssl pem pkcs1 pkcs8 x509 pubkey
}
`, charonPlugins, socket, logFile)
}

// swanctlConf is the responder's connection: any number of IKE SAs from
// the generator's one identity (unique = never), one Child SA each.
func swanctlConf(group string) (string, error) {
	dh, ecdsa := splitGroup(group)
	g, ok := charonGroups[dh]
	if !ok {
		return "", fmt.Errorf("dh-group %s: no strongSwan name for it", group)
	}
	local, remote := "auth = psk\n      id = "+swanAddr.String(), "auth = psk\n      id = "+genToSwan.String()
	secrets := fmt.Sprintf("secrets {\n  ike-bench {\n    secret = %q\n  }\n}\n", benchPSK)
	if ecdsa {
		local, remote, secrets = "auth = pubkey\n      certs = responder.crt", "auth = pubkey\n      certs = generator.crt", ""
	}
	return fmt.Sprintf(`# swanctl.conf written by ipsecgw bench ike
connections {
  bench {
    version = 2
    local_addrs = %s
    remote_addrs = %s
    proposals = aes256gcm16-prfsha256-%s
    unique = never
    mobike = no
    local {
      %s
    }
    remote {
      %s
    }
    children {
      net {
        local_ts = %s
        remote_ts = %s
        esp_proposals = aes256gcm16
      }
    }
  }
}
%s`, swanAddr, genToSwan, g, local, remote, respNet, genNet, secrets), nil
}

// writeCredentials makes strongSwan's key pair and self-signed certificate
// for an ECDSA row and puts them, with the generator's certificate, where
// swanctl --load-all reads them.
func (r *strongSwanResponder) writeCredentials(dir string) error {
	pkiDir := filepath.Join(dir, "keys")
	c, err := newCredentials(pkiDir, "strongSwan responder")
	if err != nil {
		return err
	}
	key, err := c.keyPEM(pkiDir)
	if err != nil {
		return err
	}
	r.cert = c.certPEM
	for name, data := range map[string][]byte{"x509/responder.crt": c.certPEM, "private/responder.key": key, "x509/generator.crt": r.genCert} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

func (r *strongSwanResponder) up(ctx context.Context, t *topology, group string) (*lab.Process, error) {
	dir := filepath.Join(r.dir, "strongswan-"+group)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	// swanctl looks for credentials in these directories beside
	// swanctl.conf and reports each missing one as a failure.
	for _, d := range []string{"x509", "x509ca", "x509ocsp", "x509aa", "x509ac", "x509crl", "pubkey", "private", "rsa", "ecdsa", "bliss", "pkcs8", "pkcs12"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	// A Unix socket path is limited to 107 bytes, and charon leaves the
	// socket file behind: a fresh short directory each time.
	sockDir, err := os.MkdirTemp("", "igw-vici-")
	if err != nil {
		return nil, err
	}
	r.sockDir = sockDir
	socket := filepath.Join(sockDir, "charon.vici")
	conf := filepath.Join(dir, "strongswan.conf")
	swanctl, err := swanctlConf(group)
	if err != nil {
		return nil, err
	}
	if _, ecdsa := splitGroup(group); ecdsa {
		if err := r.writeCredentials(dir); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(conf, []byte(strongswanConf(socket, filepath.Join(dir, "charon.log"))), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "swanctl.conf"), []byte(swanctl), 0o600); err != nil {
		return nil, err
	}
	// Every step execs, so the process started is charon itself.
	p, err := lab.Start(t.Namespaces, "swan", "charon", filepath.Join(dir, "charon.out"), lab.Options{Env: []string{"STRONGSWAN_CONF=" + conf}},
		"unshare", "--mount", "--propagation", "private",
		"sh", "-c", `mount -t tmpfs -o mode=0755,size=4m tmpfs /run && { [ -L /var/run ] || mount -t tmpfs -o mode=0755,size=4m tmpfs /var/run; } && exec "$0"`,
		charonPath)
	if err != nil {
		return nil, err
	}
	r.p = p
	err = p.WaitFor(startTimeout, "its vici socket", func() bool {
		c, err := net.DialTimeout("unix", socket, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	if err != nil {
		return p, err
	}
	out, err := r.swanctl(ctx, "--load-all", "--noprompt", "--file", filepath.Join(dir, "swanctl.conf"))
	if err == nil && (strings.Contains(out, "failed") || strings.Contains(out, "ignored")) {
		err = fmt.Errorf("swanctl --load-all: %s", strings.TrimSpace(out))
	}
	return p, err
}

func (r *strongSwanResponder) swanctl(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, lab.CmdTimeout)
	defer cancel()
	conf := filepath.Join(filepath.Dir(r.p.LogPath()), "strongswan.conf")
	cmd := exec.CommandContext(ctx, swanctlBin, append(args, "--uri", "unix://"+filepath.Join(r.sockDir, "charon.vici"))...)
	cmd.Env = append(os.Environ(), "STRONGSWAN_CONF="+conf)
	out, err := cmd.CombinedOutput()
	if err != nil {
		const keep = 500
		msg := strings.TrimSpace(string(out))
		if len(msg) > keep {
			msg = msg[:keep] + "..."
		}
		return string(out), fmt.Errorf("swanctl %s: %w: %s", strings.Join(args, " "), err, msg)
	}
	return string(out), nil
}

var statsIKE = regexp.MustCompile(`IKE_SAs: (\d+) total`)

// listLimit is the most SAs whose listing is read: swanctl --list-sas
// takes longer than lab.CmdTimeout for 20,000.
const listLimit = 5000

// established reads charon's IKE SA count (swanctl --stats) and counts the
// installed CHILD SAs (swanctl --list-sas), the latter -1 (not counted)
// above listLimit IKE SAs.
func (r *strongSwanResponder) established(ctx context.Context) (int, int, error) {
	out, err := r.swanctl(ctx, "--stats")
	if err != nil {
		return 0, 0, err
	}
	m := statsIKE.FindStringSubmatch(out)
	if m == nil {
		return 0, 0, fmt.Errorf("swanctl --stats: no \"IKE_SAs: N total\" in\n%s", out)
	}
	ike, _ := strconv.Atoi(m[1])
	if ike > listLimit {
		return ike, -1, nil
	}
	out, err = r.swanctl(ctx, "--list-sas", "--noblock")
	if err != nil {
		return ike, 0, err
	}
	return ike, strings.Count(out, "INSTALLED"), nil
}

func (r *strongSwanResponder) down() error {
	if r.p == nil {
		return nil
	}
	err := r.p.Stop()
	r.p = nil
	os.RemoveAll(r.sockDir)
	return err
}

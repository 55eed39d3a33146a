package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"ipsecgw/bench/lab"
)

// strongswan is Debian's strongSwan 5.9 charon on both gateways with its
// userspace ESP (kernel-libipsec): IKEv2 with a PSK, AES-256-GCM. Its
// userspace ESP always claims a NAT, so ESP travels in UDP 4500.
type strongswan struct {
	dir   string
	t     *topology
	procs [2]*lab.Process
	socks [2]string
}

const charonBinary = "/usr/lib/ipsec/charon"

func (s *strongswan) name() string { return "strongswan" }

func (s *strongswan) processes() []*lab.Process {
	var ps []*lab.Process
	for _, p := range s.procs {
		if p != nil {
			ps = append(ps, p)
		}
	}
	return ps
}

func (s *strongswan) conf(i int, sock, logFile string) (strongswanConf, swanctlConf string) {
	me, peer := i+1, 2-i
	strongswanConf = fmt.Sprintf(`charon {
  load_modular = no
  load = random nonce openssl kdf kernel-libipsec kernel-netlink socket-default vici
  plugins {
    vici { socket = unix://%s }
  }
  filelog { bench { path = %s
    default = 1 } }
}
`, sock, logFile)
	swanctlConf = fmt.Sprintf(`connections {
  bench {
    local_addrs = 192.0.2.%d
    remote_addrs = 192.0.2.%d
    proposals = aes256gcm16-prfsha256-ecp256
    local { auth = psk }
    remote { auth = psk }
    children {
      net {
        local_ts = 198.18.%d.0/24
        remote_ts = 198.18.%d.0/24
        esp_proposals = aes256gcm16
      }
    }
  }
}
secrets { ike-bench { secret = "bench-only-secret" } }
`, me, peer, me, peer)
	return
}

func (s *strongswan) up(ctx context.Context, t *topology) error {
	s.t = t
	if _, err := os.Stat(charonBinary); err != nil {
		return fmt.Errorf("strongSwan is not installed (make deps): %w", err)
	}
	for i := range s.procs {
		ns := fmt.Sprintf("gw%d", i+1)
		dir := filepath.Join(s.dir, "strongswan-"+ns)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		s.socks[i] = filepath.Join(dir, "charon.vici")
		ssConf, swConf := s.conf(i, s.socks[i], filepath.Join(dir, "charon.log"))
		if err := os.WriteFile(filepath.Join(dir, "strongswan.conf"), []byte(ssConf), 0o600); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "swanctl.conf"), []byte(swConf), 0o600); err != nil {
			return err
		}
		// A private /run: charon's pid file is fixed there.
		p, err := lab.Start(t.Namespaces, ns, "charon in "+ns, filepath.Join(dir, "charon.out"),
			lab.Options{Env: []string{"STRONGSWAN_CONF=" + filepath.Join(dir, "strongswan.conf")}, StopWithParent: true},
			"unshare", "--mount", "--propagation", "private", "sh", "-c",
			`mount -t tmpfs -o mode=0755,size=4m tmpfs /run && { [ -L /var/run ] || mount -t tmpfs -o mode=0755,size=4m tmpfs /var/run; } && exec "$0"`,
			charonBinary)
		if err != nil {
			return err
		}
		s.procs[i] = p
		// The socket file of an earlier round's charon is still there
		// (same directory): wait until this one accepts connections.
		if err := waitFor(ctx, 10*time.Second, "charon in "+ns+": vici socket", func() bool {
			c, err := net.Dial("unix", s.socks[i])
			if err == nil {
				c.Close()
			}
			return err == nil || p.Exited()
		}); err != nil || p.Exited() {
			return fmt.Errorf("charon in %s: %v\n%s", ns, err, p.LogTail())
		}
		if out, err := s.swanctl(ctx, i, "--load-all", "--noprompt", "--file", filepath.Join(dir, "swanctl.conf")); err != nil {
			return fmt.Errorf("swanctl --load-all in %s: %w\n%s", ns, err, out)
		}
	}
	if out, err := s.swanctl(ctx, 0, "--initiate", "--child", "net", "--timeout", "15"); err != nil {
		return fmt.Errorf("swanctl --initiate: %w\n%s", err, out)
	}
	return nil
}

func (s *strongswan) swanctl(ctx context.Context, i int, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "swanctl", append(args, "--uri", "unix://"+s.socks[i])...).CombinedOutput()
	return string(out), err
}

func (s *strongswan) down() error {
	var errs []error
	for i, p := range s.procs {
		if p != nil {
			errs = append(errs, p.Stop())
			s.procs[i] = nil
		}
	}
	return errors.Join(errs...)
}

// Child SA byte counters in swanctl --list-sas: "in  c1234abcd, 1234 bytes, ..."
var (
	bytesIn  = regexp.MustCompile(`(?m)^\s+in\s+\S+,\s+(\d+) bytes`)
	bytesOut = regexp.MustCompile(`(?m)^\s+out\s+\S+,\s+(\d+) bytes`)
)

// carried reads gw1's outbound and gw2's inbound child SA bytes.
func (s *strongswan) carried(ctx context.Context) (counts, error) {
	var c counts
	read := func(i int, re *regexp.Regexp) (uint64, error) {
		out, err := s.swanctl(ctx, i, "--list-sas")
		if err != nil {
			return 0, fmt.Errorf("swanctl --list-sas: %w\n%s", err, out)
		}
		m := re.FindStringSubmatch(out)
		if m == nil {
			return 0, fmt.Errorf("gw%d: no child SA byte counter in swanctl --list-sas:\n%s", i+1, out)
		}
		return strconv.ParseUint(m[1], 10, 64)
	}
	var err error
	if c.sent, err = read(0, bytesOut); err != nil {
		return c, err
	}
	c.received, err = read(1, bytesIn)
	return c, err
}

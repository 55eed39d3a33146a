package main

// strongSwan's side of a case: a charon in its own namespace with its own
// strongswan.conf and vici socket.

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// charon is one running charon.
type charon struct {
	dir    string
	socket string
	cmd    *exec.Cmd
	exited chan struct{}
}

func (c *charon) conf() string { return filepath.Join(c.dir, "strongswan.conf") }

func startCharon(ns string, rc recCase, psk string) (*charon, error) {
	dir, err := os.MkdirTemp("", "igwrec-")
	if err != nil {
		return nil, err
	}
	c := &charon{dir: dir, socket: filepath.Join(dir, "vici"), exited: make(chan struct{})}
	// swanctl reads credentials from these directories beside swanctl.conf
	// and reports "failed" for each one missing.
	for _, d := range []string{"x509", "x509ca", "x509ocsp", "x509aa", "x509ac", "x509crl", "pubkey", "private", "rsa", "ecdsa", "bliss", "pkcs8", "pkcs12"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	conf := fmt.Sprintf(`# strongswan.conf written by ipsecgw/test/record
charon {
  load_modular = no
  load = %s
  retransmit_tries = 2
  plugins {
    vici {
      socket = unix://%s
    }
  }
  filelog {
    rec {
      path = %s
      append = no
      flush_line = yes
      time_format = %%H:%%M:%%S
      time_add_ms = yes
      ike_name = yes
      default = 1
      ike = 4
      chd = 4
      cfg = 2
      knl = 1
      net = 1
    }
  }
}
swanctl {
  load = random nonce openssl
}
`, plugins, c.socket, filepath.Join(dir, "charon.log"))
	swanctl := fmt.Sprintf(`# swanctl.conf written by ipsecgw/test/record
connections {
  rec {
    version = 2
    local_addrs = %[1]s
    remote_addrs = %[2]s
    proposals = %[3]s
    local {
      auth = psk
      id = %[1]s
    }
    remote {
      auth = psk
      id = %[2]s
    }
    children {
      net {
        local_ts = 198.18.2.0/24
        remote_ts = 198.18.1.0/24
        esp_proposals = %[4]s
        start_action = none
      }
    }
  }
}
secrets {
  ike-rec {
    id-1 = %[1]s
    id-2 = %[2]s
    secret = "%[5]s"
  }
}
`, ssAddr, gwAddr, rc.SSIKE, rc.SSESP, psk)
	for _, f := range []struct{ name, text string }{{"strongswan.conf", conf}, {"swanctl.conf", swanctl}} {
		if err := os.WriteFile(filepath.Join(dir, f.name), []byte(f.text), 0o600); err != nil {
			return nil, err
		}
	}
	out, err := os.Create(filepath.Join(dir, "charon.out"))
	if err != nil {
		return nil, err
	}
	defer out.Close()
	c.cmd = exec.Command("ip", "netns", "exec", ns, "unshare", "--mount", "--propagation", "private",
		"sh", "-c", `mount -t tmpfs -o mode=0755,size=4m tmpfs /run && { [ -L /var/run ] || mount -t tmpfs -o mode=0755,size=4m tmpfs /var/run; } && exec "$0"`,
		charonPath)
	c.cmd.Env = append(os.Environ(), "STRONGSWAN_CONF="+c.conf())
	c.cmd.Stdout, c.cmd.Stderr, c.cmd.Dir = out, out, dir
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { c.cmd.Wait(); close(c.exited) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if conn, err := net.DialTimeout("unix", c.socket, time.Second); err == nil {
			conn.Close()
			break
		}
		select {
		case <-c.exited:
			return c, fmt.Errorf("charon exited before its vici socket appeared")
		default:
		}
		if time.Now().After(deadline) {
			return c, fmt.Errorf("no vici socket after 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if o, err := c.swanctl("--load-all", "--noprompt", "--file", filepath.Join(dir, "swanctl.conf")); err != nil ||
		strings.Contains(o, "failed") || strings.Contains(o, "ignored") {
		return c, fmt.Errorf("swanctl --load-all: %v\n%s", err, o)
	}
	return c, nil
}

func (c *charon) swanctl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "swanctl", append(args, "--uri", "unix://"+c.socket)...)
	cmd.Env = append(os.Environ(), "STRONGSWAN_CONF="+c.conf())
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// stop ends charon by its PID: SIGTERM, then SIGKILL after 5 s.
func (c *charon) stop() {
	if c != nil {
		stopProcess(c.cmd, c.exited, syscall.SIGTERM)
	}
}

var versionRE = regexp.MustCompile(`strongswan-charon\s+(\S+)`)

func strongswanVersion() string {
	out, err := run("dpkg-query", "-W", "strongswan-charon")
	if m := versionRE.FindStringSubmatch(out); err == nil && m != nil {
		return "strongSwan " + m[1] + " (Debian strongswan-charon)"
	}
	return "strongSwan (version unknown)"
}

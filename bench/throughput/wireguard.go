package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/curve25519"

	"ipsecgw/bench/lab"
)

// wgPort is the UDP port both wireguard-go instances listen on.
const wgPort = 51820

// wireguard is two wireguard-go processes, one peer each, configured
// through the UAPI socket (no wg tool needed).
type wireguard struct {
	binary string
	dir    string

	t      *topology
	procs  [2]*lab.Process
	ifname [2]string
}

func (w *wireguard) name() string { return "wireguard-go" }

func (w *wireguard) processes() []*lab.Process {
	var ps []*lab.Process
	for _, p := range w.procs {
		if p != nil {
			ps = append(ps, p)
		}
	}
	return ps
}

// wgKey is a curve25519 key pair, hexadecimal as the UAPI wants it.
type wgKey struct {
	private, public string
}

func newWGKey() (wgKey, error) {
	var priv [32]byte
	if _, err := rand.Read(priv[:]); err != nil {
		return wgKey{}, err
	}
	// Clamped as RFC 7748 §5 says (WireGuard keys are stored clamped).
	priv[0] &= 248
	priv[31] = priv[31]&127 | 64
	pub, err := curve25519.X25519(priv[:], curve25519.Basepoint)
	if err != nil {
		return wgKey{}, err
	}
	return wgKey{private: hex.EncodeToString(priv[:]), public: hex.EncodeToString(pub)}, nil
}

// socketPath is where wireguard-go listens for UAPI. /var/run is shared by
// all namespaces, so the interface names carry our PID to stay unique.
func socketPath(ifname string) string {
	return filepath.Join("/var/run/wireguard", ifname+".sock")
}

func (w *wireguard) up(ctx context.Context, t *topology) error {
	w.t = t
	var keys [2]wgKey
	for i := range w.procs {
		var err error
		if keys[i], err = newWGKey(); err != nil {
			return err
		}
		w.ifname[i] = fmt.Sprintf("wgb%d-%d", os.Getpid(), i+1)
		if _, err := os.Stat(socketPath(w.ifname[i])); err == nil {
			return fmt.Errorf("%s already exists: another wireguard-go uses our interface name", socketPath(w.ifname[i]))
		}
	}
	for i := range w.procs {
		ns := fmt.Sprintf("gw%d", i+1)
		p, err := lab.Start(t.Namespaces, ns, "wireguard-go in "+ns, filepath.Join(w.dir, "wireguard-"+ns+".log"), lab.Options{StopWithParent: true},
			w.binary, "-f", w.ifname[i])
		if err != nil {
			return err
		}
		w.procs[i] = p
	}
	for i, p := range w.procs {
		me, peer := i+1, 2-i
		ns := fmt.Sprintf("gw%d", me)
		err := waitFor(ctx, 10*time.Second, p.Name+": UAPI socket", func() bool {
			_, err := os.Stat(socketPath(w.ifname[i]))
			return err == nil || p.Exited()
		})
		if p.Exited() {
			return fmt.Errorf("%s exited at start: %v\n%s", p.Name, p.Err(), p.LogTail())
		}
		if err != nil {
			return err
		}
		set := fmt.Sprintf("set=1\nprivate_key=%s\nlisten_port=%d\nreplace_peers=true\npublic_key=%s\nendpoint=192.0.2.%d:%d\nreplace_allowed_ips=true\nallowed_ip=198.18.%d.0/24\n\n",
			keys[i].private, wgPort, keys[1-i].public, peer, wgPort, peer)
		if _, err := uapi(w.ifname[i], set); err != nil {
			return err
		}
		for _, cmd := range [][]string{
			{"ip", "link", "set", w.ifname[i], "up"},
			{"ip", "route", "add", fmt.Sprintf("198.18.%d.0/24", peer), "dev", w.ifname[i]},
		} {
			if _, err := t.Exec(ctx, ns, cmd...); err != nil {
				return err
			}
		}
	}
	return nil
}

// down stops wireguard-go; its interface, routes and socket go with it.
func (w *wireguard) down() error {
	var errs []error
	for i, p := range w.procs {
		if p == nil {
			continue
		}
		errs = append(errs, p.Stop())
		w.procs[i] = nil
		if err := os.Remove(socketPath(w.ifname[i])); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// carried reads the peers' transfer counters (encrypted UDP payload):
// what gw1 sent, what gw2 received.
func (w *wireguard) carried(ctx context.Context) (counts, error) {
	var c counts
	var err error
	if c.sent, err = w.transfer(0, "tx_bytes"); err != nil {
		return c, err
	}
	c.received, err = w.transfer(1, "rx_bytes")
	return c, err
}

// transfer sums key over the peers of instance i.
func (w *wireguard) transfer(i int, key string) (uint64, error) {
	out, err := uapi(w.ifname[i], "get=1\n\n")
	if err != nil {
		return 0, err
	}
	var sum uint64
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok || k != key {
			continue
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s UAPI %s=%q: %w", w.ifname[i], k, v, err)
		}
		sum += n
	}
	return sum, nil
}

// uapi sends one request to wireguard-go's UAPI socket and returns the
// reply up to its empty line, failing on a nonzero errno.
func uapi(ifname, request string) (string, error) {
	conn, err := net.DialTimeout("unix", socketPath(ifname), 5*time.Second)
	if err != nil {
		return "", fmt.Errorf("UAPI of %s: %w", ifname, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte(request)); err != nil {
		return "", fmt.Errorf("UAPI of %s: %w", ifname, err)
	}
	var reply strings.Builder
	sc := bufio.NewScanner(conn)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			break
		}
		if errno, ok := strings.CutPrefix(line, "errno="); ok && errno != "0" {
			return "", fmt.Errorf("UAPI of %s refused the request: errno=%s", ifname, errno)
		}
		reply.WriteString(line + "\n")
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("UAPI of %s: %w", ifname, err)
	}
	return reply.String(), nil
}

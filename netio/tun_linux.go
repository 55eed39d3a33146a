package netio

import (
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"time"

	"golang.zx2c4.com/wireguard/tun"
)

// tunCloseWait bounds how long Close waits for wireguard-go's listener
// goroutines to finish; they end at once unless the kernel misbehaves.
const tunCloseWait = 5 * time.Second

// CreateTUN creates the Linux TUN interface name with the given MTU, in
// the network namespace of the calling thread: IFF_VNET_HDR with
// checksum, TSO and (Linux 6.2 and later) USO offloads on, so Read splits
// super-packets and Write coalesces (see TUN). The interface is left down
// and without addresses: configuring it is the caller's. Needs
// CAP_NET_ADMIN.
//
// The device is ipsecgw's own (tunvnet_linux.go) unless the environment
// sets IPSECGW_TUN=wireguard, which selects wireguard-go's tun package,
// the implementation before it, for comparison and as a fallback.
// TUNIO names the one in use.
func CreateTUN(name string, mtu int) (TUN, error) {
	switch v := os.Getenv(tunEnv); v {
	case "", "vnet":
		return createVnetTUN(name, mtu)
	case "wireguard":
		return createWireGuardTUN(name, mtu)
	default:
		return nil, fmt.Errorf("netio: %s=%q; expected vnet or wireguard", tunEnv, v)
	}
}

// tunEnv selects the Linux TUN implementation (see CreateTUN).
const tunEnv = "IPSECGW_TUN"

// createWireGuardTUN creates the TUN through wireguard-go's tun package.
func createWireGuardTUN(name string, mtu int) (TUN, error) {
	dev, err := tun.CreateTUN(name, mtu)
	if err != nil {
		return nil, fmt.Errorf("netio: create TUN %q with MTU %d: %w", name, mtu, err)
	}
	real, err := dev.Name()
	if err != nil {
		dev.Close()
		return nil, fmt.Errorf("netio: TUN %q: read back its name: %w", name, err)
	}
	t := &linuxTUN{dev: dev, name: real, batch: dev.BatchSize(), watched: make(chan struct{})}
	t.mtu.Store(int64(mtu))
	go t.watch()
	return t, nil
}

// linuxTUN adapts a wireguard-go tun.Device to TUN: errors carry the
// interface's name, a closed device says net.ErrClosed, and its event
// channel is drained (wireguard-go's listeners block on it otherwise),
// keeping MTU current.
type linuxTUN struct {
	dev     tun.Device
	name    string
	batch   int
	mtu     atomic.Int64
	closed  atomic.Bool
	watched chan struct{} // closed when watch returns
}

func (t *linuxTUN) Name() string   { return t.name }
func (t *linuxTUN) MTU() int       { return int(t.mtu.Load()) }
func (t *linuxTUN) BatchSize() int { return t.batch }

// IO names the implementation, for the log.
func (t *linuxTUN) IO() string { return "wireguard-go tun" }

// watch follows the device's events until Close ends them.
func (t *linuxTUN) watch() {
	defer close(t.watched)
	for e := range t.dev.Events() {
		if e&tun.EventMTUUpdate == 0 {
			continue
		}
		if mtu, err := t.dev.MTU(); err == nil {
			t.mtu.Store(int64(mtu))
		}
	}
}

func (t *linuxTUN) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	n, err := t.dev.Read(bufs, sizes, offset)
	if err != nil {
		return n, t.wrap("read", err)
	}
	return n, nil
}

func (t *linuxTUN) Write(bufs [][]byte, offset int) (int, error) {
	if offset < TUNHeadroom {
		return 0, ErrHeadroom
	}
	// wireguard-go returns a byte count, and with an error does not say
	// which packets failed; it tries them all.
	if _, err := t.dev.Write(bufs, offset); err != nil {
		return 0, t.wrap("write", err)
	}
	return len(bufs), nil
}

func (t *linuxTUN) wrap(op string, err error) error {
	if t.closed.Load() {
		return net.ErrClosed
	}
	return fmt.Errorf("netio: %s TUN %s: %w", op, t.name, err)
}

// Close removes the interface and waits (boundedly) for wireguard-go's
// goroutines to end.
func (t *linuxTUN) Close() error {
	if t.closed.Swap(true) {
		return nil
	}
	err := t.dev.Close()
	timer := time.NewTimer(tunCloseWait)
	defer timer.Stop()
	select {
	case <-t.watched:
	case <-timer.C:
	}
	if err != nil {
		return fmt.Errorf("netio: close TUN %s: %w", t.name, err)
	}
	return nil
}

//go:build !linux

package netio

import (
	"errors"
	"fmt"
)

// The kernel edges exist on Linux only; elsewhere the fakes still work.

var errNotLinux = fmt.Errorf("netio: kernel TUN and sockets need Linux: %w", errors.ErrUnsupported)

// CreateTUN fails: see the Linux version.
func CreateTUN(name string, mtu int) (TUN, error) { return nil, errNotLinux }

// ListenESP fails: see the Linux version.
func ListenESP(family int) (Receiver, error) { return nil, errNotLinux }

// ListenUDP fails: see the Linux version.
func ListenUDP(family int, port uint16) (Receiver, error) { return nil, errNotLinux }

// NewRawSender fails: see the Linux version.
func NewRawSender(family int) (Sender, error) { return nil, errNotLinux }

package lab

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"ipsecgw/daemon"
)

// Status asks an ipsecgw daemon for its status (SIGUSR1, which writes
// status.json into its state directory) and reads it, waiting up to limit
// (a daemon holding thousands of SAs takes a moment).
func (p *Process) Status(stateDir string, limit time.Duration) (daemon.Status, error) {
	var s daemon.Status
	path := filepath.Join(stateDir, "status.json")
	os.Remove(path)
	if err := p.Signal(syscall.SIGUSR1); err != nil {
		return s, err
	}
	var b []byte
	err := p.WaitFor(limit, "status.json after SIGUSR1", func() bool {
		var err error
		b, err = os.ReadFile(path) // written atomically: whole or absent
		return err == nil
	})
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Established counts a daemon status's IKE SAs that are up and its
// inbound Child SAs installed.
func Established(s daemon.Status) (ike, child int) {
	for _, sa := range s.IKE {
		if sa.State == "UP" {
			ike++
		}
	}
	for _, sa := range s.SAs {
		if sa.Direction == "inbound" {
			child++
		}
	}
	return ike, child
}

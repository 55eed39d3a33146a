package main

import (
	"time"

	"ipsecgw/bench/lab"
)

// cpuTime is the user plus system CPU time the processes have used so far,
// all threads included.
func cpuTime(ps []*lab.Process) (time.Duration, error) {
	var total time.Duration
	for _, p := range ps {
		d, err := p.CPU()
		if err != nil {
			return 0, err
		}
		total += d
	}
	return total, nil
}

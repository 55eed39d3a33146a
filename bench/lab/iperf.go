package lab

import (
	"encoding/json"
	"fmt"
)

// IperfReport is the part of `iperf3 -J` output the benchmarks read.
type IperfReport struct {
	Error     string `json:"error"`
	Intervals []struct {
		Sum struct {
			Bytes   uint64 `json:"bytes"`
			Omitted bool   `json:"omitted"`
		} `json:"sum"`
	} `json:"intervals"`
	End struct {
		SumSent struct {
			Retransmits int `json:"retransmits"`
		} `json:"sum_sent"`
		SumReceived struct {
			Bytes         uint64  `json:"bytes"`
			BitsPerSecond float64 `json:"bits_per_second"`
		} `json:"sum_received"`
	} `json:"end"`
}

// ParseIperf reads an iperf3 client's -J output. A run that failed, or
// carried nothing, is an error: no traffic is not a figure.
func ParseIperf(out []byte) (IperfReport, error) {
	var r IperfReport
	if err := json.Unmarshal(out, &r); err != nil {
		return r, fmt.Errorf("iperf3 output: %w", err)
	}
	if r.Error != "" {
		return r, fmt.Errorf("iperf3: %s", r.Error)
	}
	if r.End.SumReceived.Bytes == 0 || r.End.SumReceived.BitsPerSecond <= 0 {
		return r, fmt.Errorf("iperf3: nothing received")
	}
	return r, nil
}

// Sent is what the sender wrote over every interval, the omitted start
// included.
func (r IperfReport) Sent() uint64 {
	var n uint64
	for _, iv := range r.Intervals {
		n += iv.Sum.Bytes
	}
	return n
}

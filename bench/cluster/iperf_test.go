package cluster

import "testing"

func TestParseIperf(t *testing.T) {
	good := `{"start":{},"intervals":[],"end":{"sum_sent":{"bytes":1000,"retransmits":7},"sum_received":{"bytes":900,"bits_per_second":1.5e9}}}`
	bps, retr, err := parseIperf([]byte(good))
	if err != nil || bps != 1.5e9 || retr != 7 {
		t.Fatalf("good report: %v %v %v", bps, retr, err)
	}
	for name, bad := range map[string]string{
		"error":   `{"error":"unable to connect to server: Connection refused","end":{}}`,
		"nothing": `{"end":{"sum_sent":{"bytes":0},"sum_received":{"bytes":0,"bits_per_second":0}}}`,
		"garbage": `iperf3: error - unable to connect`,
		"empty":   ``,
	} {
		if _, _, err := parseIperf([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzParseIperf: whatever iperf3 prints, a figure comes only with
// something received.
func FuzzParseIperf(f *testing.F) {
	f.Add([]byte(`{"end":{"sum_sent":{"retransmits":1},"sum_received":{"bytes":10,"bits_per_second":80}}}`))
	f.Add([]byte(`{"error":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		bps, _, err := parseIperf(b)
		if err == nil && bps <= 0 {
			t.Fatalf("no error, %v bit/s", bps)
		}
	})
}

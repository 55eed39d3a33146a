package lab

import "testing"

func TestParseIperf(t *testing.T) {
	good := `{"start":{},"intervals":[{"sum":{"bytes":400,"omitted":true}},{"sum":{"bytes":600}}],"end":{"sum_sent":{"bytes":1000,"retransmits":7},"sum_received":{"bytes":900,"bits_per_second":1.5e9}}}`
	r, err := ParseIperf([]byte(good))
	if err != nil || r.End.SumReceived.BitsPerSecond != 1.5e9 || r.End.SumSent.Retransmits != 7 || r.Sent() != 1000 {
		t.Fatalf("good report: %+v %v", r, err)
	}
	for name, bad := range map[string]string{
		"error":   `{"error":"unable to connect to server: Connection refused","end":{}}`,
		"nothing": `{"end":{"sum_sent":{"bytes":0},"sum_received":{"bytes":0,"bits_per_second":0}}}`,
		"garbage": `iperf3: error - unable to connect`,
		"empty":   ``,
	} {
		if _, err := ParseIperf([]byte(bad)); err == nil {
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
		r, err := ParseIperf(b)
		if err == nil && (r.End.SumReceived.BitsPerSecond <= 0 || r.End.SumReceived.Bytes == 0) {
			t.Fatalf("no error, %+v", r.End)
		}
	})
}

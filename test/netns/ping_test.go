package netns

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPingArgs(t *testing.T) {
	p := Ping{Count: 50, Interval: 200 * time.Millisecond, Extra: []string{"-s", "1000"}}
	got := strings.Join(p.Args("198.18.2.2"), " ")
	if want := "ping -n -c 50 -i 0.2 -w 25 -s 1000 198.18.2.2"; got != want {
		t.Errorf("Args: %q, want %q", got, want)
	}
	if p.Deadline() != 25*time.Second {
		t.Errorf("Deadline: %v, want 25s", p.Deadline())
	}
}

func TestPingUnanswered(t *testing.T) {
	p := Ping{Count: 3, Interval: 200 * time.Millisecond}
	for _, tc := range []struct {
		name, out string
		want      []int
	}{
		// The reply to 3 came after ping sent a fourth request: ping's
		// totals say 25% loss, yet every request was answered.
		{"late", `64 bytes from 198.18.2.2: icmp_seq=1 ttl=62 time=1.1 ms
64 bytes from 198.18.2.2: icmp_seq=2 ttl=62 time=148 ms
64 bytes from 198.18.2.2: icmp_seq=3 ttl=62 time=260 ms

--- 198.18.2.2 ping statistics ---
4 packets transmitted, 3 received, 25% packet loss, time 633ms`, nil},
		// 2 was lost and ping replaced it with a fourth request: its
		// totals look complete, the sequence numbers do not.
		{"lost-and-replaced", `64 bytes from 2001:db8:2::2: icmp_seq=1 ttl=62 time=1.1 ms
64 bytes from 2001:db8:2::2: icmp_seq=3 ttl=62 time=1.0 ms
64 bytes from 2001:db8:2::2: icmp_seq=4 ttl=62 time=1.0 ms
4 packets transmitted, 3 received, 25% packet loss`, []int{2}},
		{"nothing", "PING 198.18.2.2 (198.18.2.2) 56(84) bytes of data.\n", []int{1, 2, 3}},
		// icmp_seq=13 is not icmp_seq=1 or 3.
		{"prefix", "64 bytes from 198.18.2.2: icmp_seq=13 ttl=62\n64 bytes from 198.18.2.2: icmp_seq=2 ttl=62\n", []int{1, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.Unanswered(tc.out); !slices.Equal(got, tc.want) {
				t.Errorf("Unanswered: %v, want %v", got, tc.want)
			}
			if err := p.Check("x", tc.out); (err != nil) != (len(tc.want) > 0) {
				t.Errorf("Check: %v, want an error: %v", err, len(tc.want) > 0)
			}
		})
	}
}

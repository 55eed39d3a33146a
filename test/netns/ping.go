package netns

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Ping is one ping run that checks every echo request was answered.
//
// ping's own "0% packet loss" is the wrong test on a loaded machine. After
// the last request, ping waits only two round-trip times for its reply, so
// a reply a few milliseconds late counts as lost (CI failed so). With a
// deadline (-w) it waits, but it also sends more requests until it has
// count replies, so a lost packet is replaced and a late one looks lost in
// its totals. Ping therefore runs with a deadline and reads the replies by
// sequence number: request k is answered when a reply to icmp_seq=k came,
// however late, before the deadline.
type Ping struct {
	Count    int
	Interval time.Duration
	// Extra holds further ping options (-s SIZE, -M dont, -I ADDR ...).
	Extra []string
}

// Args returns the command line for dst.
func (p Ping) Args(dst string) []string {
	args := []string{"ping", "-n", "-c", strconv.Itoa(p.Count), "-i", strconv.FormatFloat(p.Interval.Seconds(), 'f', -1, 64),
		"-w", strconv.Itoa(p.deadlineSeconds())}
	args = append(args, p.Extra...)
	return append(args, dst)
}

// Deadline is how long the run can take at most.
func (p Ping) Deadline() time.Duration {
	return time.Duration(p.deadlineSeconds()) * time.Second
}

// deadlineSeconds is twice the run's time on an idle machine, and 5 s
// more. Under load ping sends late: it keeps to its interval after each
// late request rather than catching up, and a run of 150 requests every
// 100 ms took 20 s on a machine at load 20 (its deadline was then 20 s, and
// the last requests were never sent). ping stops at its count of replies,
// so the margin costs a run that passes nothing.
func (p Ping) deadlineSeconds() int {
	return int(math.Ceil(2*float64(p.Count)*p.Interval.Seconds())) + 5
}

var replySeq = regexp.MustCompile(`bytes from .*icmp_seq=(\d+)`)

// Unanswered returns the requests among the first Count that got no reply
// in ping's output.
func (p Ping) Unanswered(out string) []int {
	answered := map[int]bool{}
	for _, m := range replySeq.FindAllStringSubmatch(out, -1) {
		if n, err := strconv.Atoi(m[1]); err == nil {
			answered[n] = true
		}
	}
	var missing []int
	for k := 1; k <= p.Count; k++ {
		if !answered[k] {
			missing = append(missing, k)
		}
	}
	return missing
}

// Check returns an error naming the unanswered requests, if any.
func (p Ping) Check(dst, out string) error {
	if missing := p.Unanswered(out); len(missing) > 0 {
		return fmt.Errorf("ping %s: %d of %d requests unanswered (icmp_seq %s)\n%s", dst, len(missing), p.Count, seqList(missing), strings.TrimSpace(out))
	}
	return nil
}

func seqList(seqs []int) string {
	s := make([]string, len(seqs))
	for i, n := range seqs {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

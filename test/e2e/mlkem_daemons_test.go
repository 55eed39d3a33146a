package e2e

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"ipsecgw/daemon"
	"ipsecgw/ike"
	"ipsecgw/test/netns"
)

// TestMLKEMBetweenDaemons: two ipsecgw gateways with x25519 then ML-KEM in
// the IKE proposal (IKE_INTERMEDIATE) and in perfect-forward-secrecy,
// either one initiating, every ML-KEM method, with and without a PPK.
// Under pings, each gateway in turn rekeys the IKE SA and then the Child
// SA on the operator's request ("request security ike|ipsec
// security-associations rekey"), each rekey running its additional key
// exchanges again in IKE_FOLLOWUP_KE (RFC 9370 §2.2.4): the IKE SPIs
// change, the new IKE SA lists the exchanges and keeps the PPK (Quantum
// Secured), the Child SA's SPIs change, and no ping is lost.
func TestMLKEMBetweenDaemons(t *testing.T) {
	netns.RequireRoot(t)
	for _, tc := range []struct {
		name         string
		ike, pfs     string // additional-key-exchange statements
		wantIKE      []string
		gw1Initiates bool
		ppk          bool
	}{
		{"mlkem768+mlkem512-gw2-initiates", "ke1 mlkem768\nke2 mlkem512", "ke1 mlkem512",
			[]string{"ke1 ML-KEM-768", "ke2 ML-KEM-512"}, false, false},
		{"mlkem1024+mlkem512-ppk-gw1-initiates", "ke1 mlkem1024\nke2 mlkem512", "ke1 mlkem768",
			[]string{"ke1 ML-KEM-1024", "ke2 ML-KEM-512"}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := newTopology(t)
			tp.negotiated = true
			var cfgs [2]string
			for i := range cfgs {
				c := ikeConfig(i, "aes-256-gcm", "group31", "aes-256-gcm", "test123") +
					"set security ipsec policy ipsec_policy perfect-forward-secrecy keys group31\n"
				for _, ke := range strings.Split(tc.ike, "\n") {
					c += "set security ike proposal ike_prop additional-key-exchange " + ke + "\n"
				}
				c += "set security ipsec policy ipsec_policy perfect-forward-secrecy additional-key-exchange " + tc.pfs + "\n"
				if tc.ppk {
					c += gw1PPK(ppkID, ppkKey, true)
				}
				if !tc.gw1Initiates {
					c = strings.NewReplacer("establish-tunnels immediately", "establish-tunnels responder-only",
						"establish-tunnels responder-only", "establish-tunnels immediately").Replace(c)
				}
				cfgs[i] = c
			}
			tp.startConfigs(cfgs)
			tp.waitTunnelWithin("h1", "198.18.2.2", 20*time.Second)
			check := func(when string, sas [2]ike.SAInfo) {
				t.Helper()
				for i, sa := range sas {
					if !slices.Equal(sa.AdditionalKE, tc.wantIKE) || sa.PPKUsed != tc.ppk {
						t.Errorf("%s: gw%d's IKE SA: %+v, want additional key exchanges %v, PPK %v", when, i+1, sa, tc.wantIKE, tc.ppk)
					}
				}
			}
			sas := tp.oneIKESA(ike.SAInfo{}, 0)
			check("first", sas)
			// Pings until the rekeys are done (then SIGINT).
			ping := tp.startIn("h1", netns.Ping{Count: 1200, Interval: 50 * time.Millisecond}.Args("198.18.2.2")...)
			for i, g := range tp.gws {
				peer := fmt.Sprintf("192.0.2.%d", 2-i)
				out := tp.mustCLI(g, "request security ike security-associations rekey peer-address "+peer)
				if !strings.Contains(out, "Rekey started for 1 IKE security association") {
					t.Fatalf("gw%d: request security ike security-associations rekey: %s", i+1, out)
				}
				sas = tp.oneIKESA(sas[0], i+1)
				check(fmt.Sprintf("after gw%d's IKE SA rekey", i+1), sas)
				in := inboundSPI(tp.status(g))
				out = tp.mustCLI(g, "request security ipsec security-associations rekey")
				if !strings.Contains(out, "Rekey started for 1 IPsec security association") {
					t.Fatalf("gw%d: request security ipsec security-associations rekey: %s", i+1, out)
				}
				tp.childRekeyed(i, in)
			}
			// The echo requests sent until now crossed the rekeys; a second
			// of traffic over the last SAs gives their replies time to come
			// (a late one is not a lost one), then the pings stop.
			seen := replies(ping.output())
			during := 1 // the one that may have been in flight
			for seq := range seen {
				during = max(during, seq+1)
			}
			deadline := time.Now().Add(10 * time.Second)
			for len(replies(ping.output())) < len(seen)+20 && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			ping.cmd.Process.Signal(os.Interrupt)
			out, _ := ping.wait(10 * time.Second)
			if err := (netns.Ping{Count: during}).Check("198.18.2.2", out); err != nil {
				t.Errorf("during the rekeys: %v\ngw1:\n%s\ngw2:\n%s", err, rekeyLines(tp.logOf(tp.gws[0])), rekeyLines(tp.logOf(tp.gws[1])))
			}
			for i, g := range tp.gws {
				log := tp.logOf(g)
				if n := strings.Count(log, `msg="IKE SA rekeyed" `); n != 1 || !strings.Contains(log, "IKE SA rekeyed by the peer") {
					t.Errorf("gw%d logged %d IKE SA rekeys of its own, want 1, and one by the peer", i+1, n)
				}
				for _, l := range strings.Split(log, "\n") {
					if strings.Contains(l, "level=WARN") {
						t.Logf("gw%d: %s", i+1, l)
					}
				}
			}
			detail := tp.mustCLI(tp.gws[0], "show security ike security-associations detail")
			for _, ke := range tc.wantIKE {
				if !strings.Contains(detail, "Additional key exchange: "+ke) {
					t.Errorf("show security ike security-associations detail lacks %q:\n%s", ke, detail)
				}
			}
			if tc.ppk && !strings.Contains(detail, "Quantum Secured: Yes") {
				t.Errorf("show security ike security-associations detail:\n%s", detail)
			}
			tp.ping("h2", "198.18.1.2", 0)
		})
	}
}

// oneIKESA waits until both gateways have one IKE SA, up, the same on
// both sides and not old; when rekeyer is 1 or 2 it must be that
// gateway's (the rekey's initiator initiates the new SA).
func (tp *topology) oneIKESA(old ike.SAInfo, rekeyer int) [2]ike.SAInfo {
	t := tp.t
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var sas [2]ike.SAInfo
		ok := true
		for i, g := range tp.gws {
			st := tp.status(g)
			if len(st.IKE) != 1 || st.IKE[0].State != "UP" || st.IKE[0].InitiatorSPI == old.InitiatorSPI {
				ok = false
				break
			}
			sas[i] = st.IKE[0]
		}
		if ok && sas[0].InitiatorSPI == sas[1].InitiatorSPI && sas[0].ResponderSPI == sas[1].ResponderSPI {
			if rekeyer != 0 && !sas[rekeyer-1].Initiator {
				t.Fatalf("the IKE SA rekeyed by gw%d is not its initiator's: %+v", rekeyer, sas)
			}
			return sas
		}
		if time.Now().After(deadline) {
			t.Fatalf("no single new IKE SA on both gateways within 15 s (old %016x)\ngw1:\n%s\ngw2:\n%s", old.InitiatorSPI,
				tp.logOf(tp.gws[0]), tp.logOf(tp.gws[1]))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// childRekeyed waits until gateway i has one inbound SA, not old, and the
// other gateway sends to it.
func (tp *topology) childRekeyed(i int, old string) {
	t := tp.t
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st := tp.status(tp.gws[i])
		in := inboundSPI(st)
		if in != "" && in != old {
			var out []string
			for _, sa := range tp.status(tp.gws[1-i]).SAs {
				if sa.Direction == "outbound" {
					out = append(out, sa.SPI)
				}
			}
			if len(out) == 1 && out[0] == in {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("gw%d's Child SA not rekeyed within 15 s (inbound %q, old %q)\n%s", i+1, in, old, tp.logOf(tp.gws[i]))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// inboundSPI is the SPI of the only inbound SA ("" when there are more or
// none).
func inboundSPI(st daemon.Status) string {
	var in []string
	for _, sa := range st.SAs {
		if sa.Direction == "inbound" {
			in = append(in, sa.SPI)
		}
	}
	if len(in) != 1 {
		return ""
	}
	return in[0]
}

// icmpSeq finds the echo replies in ping's output.
var icmpSeq = regexp.MustCompile(`bytes from .* icmp_seq=(\d+) `)

// replies lists the icmp_seq of the echo replies in ping's output.
func replies(out string) map[int]bool {
	seen := map[int]bool{}
	for _, m := range icmpSeq.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[1])
		seen[n] = true
	}
	return seen
}

// rekeyLines picks a daemon log's lines about rekeys and SAs.
func rekeyLines(log string) string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "ekey") || strings.Contains(l, "SA ") && !strings.Contains(l, "level=DEBUG") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

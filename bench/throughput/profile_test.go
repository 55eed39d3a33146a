package main

import (
	"bytes"
	"strings"
	"testing"
)

// A few samples as perf script -F comm,pid,tid,ip,sym prints them: gw1
// (PID 100) sealing, gw2 (PID 200) writing to its TUN (the forwarding it
// runs counts as softirq), gw2 in recvmmsg, gw1 in its own code and in
// the scheduler, iperf3, an idle CPU and one taking an interrupt, and
// another process.
const perfScript = `ipsecgw   100/101
	4a5b20 crypto/internal/fips140/aes/gcm.gcmAesEnc.abi0
	4a6000 crypto/internal/fips140/aes/gcm.seal
	7c0000 ipsecgw/esp.(*Outbound).encrypt
	7c1000 ipsecgw/dataplane.(*Tunnel).outboundLoop

ipsecgw   200/205
	ffffffff82068d9f tcp_v4_rcv
	ffffffff81e7554b __netif_receive_skb_one_core
	ffffffff81e75623 tun_get_user
	ffffffff816dc887 vfs_writev
	7c2000 ipsecgw/netio.(*vnetTUN).Write

ipsecgw   200/205
	ffffffff81e75623 tun_get_user
	ffffffff816dc887 vfs_writev
	7c2000 ipsecgw/netio.(*vnetTUN).Write

ipsecgw   200/206
	ffffffff81e94000 udp_recvmsg
	ffffffff81e94100 __sys_recvmmsg
	7c3000 ipsecgw/netio.(*socketReceiver).recvmmsg

ipsecgw   100/102
	7c4000 ipsecgw/netio.splitPacket
	7c1000 ipsecgw/dataplane.(*Tunnel).outboundLoop

ipsecgw   100/103
	ffffffff8223df91 do_syscall_64
	44a000 runtime.futex.abi0
	44b000 runtime.findRunnable
	44c000 runtime.schedule

ipsecgw   100/103
	ffffffff8223df91 do_syscall_64
	7c5000 ipsecgw/daemon.(*Daemon).writeStatus

iperf3   300/300
	ffffffff81ba4f70 _copy_to_iter
	ffffffff82067b50 tcp_recvmsg_locked

swapper     0/0
	ffffffff8223e000 pv_native_safe_halt
	ffffffff8223f000 do_idle

swapper     0/0
	ffffffff81e80000 net_rx_action
	ffffffff81e81000 handle_softirqs
	ffffffff8223f000 do_idle

kworker/u4:1-events   400/400
	ffffffff81300000 process_one_work
`

func TestReadProfile(t *testing.T) {
	prof, err := readProfile(strings.NewReader(perfScript), []int{100, 200})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		catCrypto: 1, catSoftirq: 2, catTUNWrite: 1, catOuterRecv: 1, catGwUser: 1,
		catRuntime: 1, catGwKernel: 1, catEnds: 1, catIdle: 1, catOther: 1,
	}
	for _, c := range categories {
		if prof.Samples[c] != want[c] {
			t.Errorf("%s: %d samples, want %d", c, prof.Samples[c], want[c])
		}
	}
	if prof.Total != 11 {
		t.Errorf("total %d samples, want 11", prof.Total)
	}
	if len(prof.Gateways) != 2 || prof.Gateways[0] != 4 || prof.Gateways[1] != 3 {
		t.Errorf("gateway samples %v, want [4 3]", prof.Gateways)
	}
	for c := range prof.Samples {
		if !knownCategory(c) {
			t.Errorf("category %q is not in the printed list", c)
		}
	}
}

func knownCategory(c string) bool {
	for _, k := range categories {
		if k == c {
			return true
		}
	}
	return false
}

// Another process's crypto is not the gateways': it counts as that
// process's.
func TestCryptoOnlyInGateways(t *testing.T) {
	stack := []frame{{sym: "crypto/internal/fips140/aes/gcm.gcmAesEnc.abi0"}}
	if got := classify(7, "go", false, stack); got != catOther {
		t.Errorf("crypto in another process: %q, want %q", got, catOther)
	}
	if got := classify(7, "ipsecgw", true, stack); got != catCrypto {
		t.Errorf("crypto in a gateway: %q, want %q", got, catCrypto)
	}
}

func TestReadProfileRejects(t *testing.T) {
	for _, bad := range []string{
		"ipsecgw 100\n\t4a5b20 main.main\n", // no TID
		"ipsecgw 100/101\n\tzz main.main\n", // address not hex
		"lonely\n",                          // one field
		"",                                  // no samples
	} {
		if _, err := readProfile(strings.NewReader(bad), nil); err == nil {
			t.Errorf("%q: read without an error", bad)
		}
	}
}

func TestPrintProfiles(t *testing.T) {
	prof, err := readProfile(strings.NewReader(perfScript), []int{100, 200})
	if err != nil {
		t.Fatal(err)
	}
	// Over 1001001 octets, a sample (1/999 s) costs 1.00 CPU second per GB.
	rows := []row{{Setup: "ipsecgw-udp", Flows: 1, Samples: []sample{{Bytes: 1001001, Profile: prof}}}}
	var b bytes.Buffer
	printProfiles(&b, rows, 2)
	out := b.String()
	for _, want := range []string{"ipsecgw-udp/1", "idle, % of the machine", "gw2, % of a CPU"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for cat, want := range map[string]string{catCrypto: "1.00", catSoftirq: "2.00", catTUNRead: "0.00", "all but idle": "10.00"} {
		if l := lineOf(out, cat); !strings.HasSuffix(strings.TrimSpace(l), want) {
			t.Errorf("%s line: %q, want %s (s/GB)", cat, l, want)
		}
	}
	// idle 1 of 11 samples: 9 %.
	if !strings.Contains(lineOf(out, "idle, % of the machine"), " 9") {
		t.Errorf("idle line: %q, want 9 (%%)", lineOf(out, "idle, % of the machine"))
	}
	// gw1 had 4 of 11 samples on 2 CPUs: 73 % of one.
	if !strings.Contains(lineOf(out, "gw1, % of a CPU"), "73") {
		t.Errorf("gw1 line: %q, want 73 (%%)", lineOf(out, "gw1, % of a CPU"))
	}
	// 1 of 11 samples is another process's: 9 %.
	if !strings.Contains(out, "WARNING: ipsecgw-udp/1 round 0: other processes took 9 %") {
		t.Errorf("no warning of the other process's share:\n%s", out)
	}
	quiet := *prof
	quiet.Samples = map[string]int{catGwUser: 100, catOther: 4}
	quiet.Total = 104
	var b2 bytes.Buffer
	printProfiles(&b2, []row{{Setup: "ipsecgw-udp", Flows: 1, Samples: []sample{{Bytes: 1, Profile: &quiet}}}}, 2)
	if strings.Contains(b2.String(), "WARNING") {
		t.Errorf("warned of 4 %% other processes:\n%s", b2.String())
	}
	var none bytes.Buffer
	printProfiles(&none, []row{{Setup: "plain", Flows: 1, Samples: []sample{{Bytes: 1}}}}, 2)
	if none.Len() != 0 {
		t.Errorf("rows without profiles printed %q", none.String())
	}
}

func lineOf(out, prefix string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), prefix) {
			return l
		}
	}
	return ""
}

package uml

import (
	"strings"
	"testing"

	"ipsecgw/test/uml/kmod"
)

func TestOptionsRefuseNetworkDevicesAndHarnessArguments(t *testing.T) {
	for _, arg := range []string{"eth0=tuntap,tap0", "vec0:transport=raw,ifname=eth0", "virtio_uml.device=/tmp/s:1", "init=/bin/bash", "root=/dev/ubda", "con1=xterm", "ssl=pty", "mem=4G", "ubd0=x" + " y"} {
		if _, err := (Options{KernelArgs: []string{arg}}).withDefaults(); err == nil {
			t.Errorf("kernel argument %q accepted, want it refused", arg)
		}
	}
	for _, arg := range []string{"loglevel=7", "debug", "ubd0=/dev/null"} {
		if _, err := (Options{KernelArgs: []string{arg}}).withDefaults(); err != nil {
			t.Errorf("kernel argument %q refused: %v", arg, err)
		}
	}
	for _, mem := range []string{"1G; reboot", "0", "-1M", "512MB"} {
		if _, err := (Options{Memory: mem}).withDefaults(); err == nil {
			t.Errorf("memory %q accepted", mem)
		}
	}
	if _, err := (Options{Modules: []string{"veth; reboot"}}).withDefaults(); err == nil {
		t.Error("module name with a shell metacharacter accepted")
	}
	o, err := Options{}.withDefaults()
	if err != nil || o.Memory != "512M" || len(o.Modules) != len(DefaultModules) || o.Timeout <= 0 {
		t.Errorf("zero Options → %+v, %v; want 512M, DefaultModules, a timeout", o, err)
	}
}

func TestKernelModprobeAnswersTemplateInstancesInTheShell(t *testing.T) {
	ix, err := kmod.Parse(strings.NewReader("kernel/crypto/gcm.ko:\nkernel/crypto/arc4.ko:\n"),
		strings.NewReader("alias crypto-gcm gcm\nalias crypto-ecb(arc4) arc4\n"), strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	g := &guest{run: "/tmp/ipsecgw-uml-1"}
	got := g.kernelModprobe(ix)
	for _, want := range []string{"'crypto-ecb(arc4)') ;;", "*'('*|*-all) exit 1 ;;", "exec '/tmp/ipsecgw-uml-1/bin/modprobe' \"$@\""} {
		if !strings.Contains(got, want) {
			t.Errorf("kernel-modprobe lacks %q:\n%s", want, got)
		}
	}
	ix, err = kmod.Parse(strings.NewReader("kernel/crypto/x.ko:\n"), strings.NewReader("alias crypto-x(*) x\n"), strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	if got := g.kernelModprobe(ix); strings.Contains(got, "case") {
		t.Errorf("a wildcard alias with '(' must disable the shell filter:\n%s", got)
	}
}

func TestInitScriptQuotesPaths(t *testing.T) {
	g := &guest{run: "/tmp/it's here", share: "/tmp/s", modules: []string{"veth", "tun"}}
	got := g.initScript()
	for _, want := range []string{`RUN='/tmp/it'\''s here'`, "SHARE='/tmp/s'", "MODULES='veth tun'"} {
		if !strings.Contains(got, want) {
			t.Errorf("init lacks %q", want)
		}
	}
}

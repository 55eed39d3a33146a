package strongswan

import (
	"strings"
	"testing"
	"time"
)

func TestSwanctlConf(t *testing.T) {
	cfg := Config{Connections: []Connection{{
		Name:        "gw",
		LocalAddrs:  "192.0.2.1",
		RemoteAddrs: "192.0.2.2",
		LocalID:     "gw-a.example",
		RemoteID:    "C=CH, O=Test, CN=gw-b",
		PSK:         `p"s\k #1`,
		Proposals:   []string{"aes256-sha256-modp2048", "aes128-sha256-ecp256"},
		DPDDelay:    1500 * time.Millisecond,
		ReauthTime:  -1,
		Children: []Child{{
			Name:         "net",
			LocalTS:      []string{"198.51.100.0/24", "2001:db8:a::/64"},
			RemoteTS:     []string{"203.0.113.0/24"},
			ESPProposals: []string{"aes256gcm16"},
			StartAction:  "trap",
			RekeyTime:    time.Hour,
			Extra:        []string{"dpd_action = restart"},
		}},
		Extra: []string{"mobike = no", "local {", "round = 2", "}"},
	}}}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	got := cfg.swanctlConf()
	for _, want := range []string{
		"\n  gw {\n    version = 2\n",
		"\n    local_addrs = 192.0.2.1\n",
		"\n    proposals = aes256-sha256-modp2048,aes128-sha256-ecp256\n",
		"\n    dpd_delay = 2s\n",
		"\n    reauth_time = 0\n",
		"\n    local {\n      auth = psk\n      id = gw-a.example\n    }\n",
		"\n      id = C=CH, O=Test, CN=gw-b\n",
		"\n        local_ts = 198.51.100.0/24,2001:db8:a::/64\n",
		"\n        start_action = trap\n        rekey_time = 3600s\n        dpd_action = restart\n      }\n",
		"\n    mobike = no\n    local {\n      round = 2\n    }\n  }\n}\n",
		"\n  ike-gw {\n    id-local = gw-a.example\n    id-remote = C=CH, O=Test, CN=gw-b\n    secret = \"p\\\"s\\\\k #1\"\n  }\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("swanctl.conf lacks %q; got:\n%s", want, got)
		}
	}
	if strings.Contains(got, "rekey_time = \n") || strings.Contains(got, "remote_addrs = \n") {
		t.Errorf("an unset field was written:\n%s", got)
	}
}

func TestStrongswanConf(t *testing.T) {
	cfg := Config{Charon: []string{"plugins {", "kernel-libipsec {", "allow_peer_ts = yes", "}", "}"}}
	got := cfg.strongswanConf("/tmp/igw-vici-1/charon.vici", "/tmp/t/charon.log")
	for _, want := range []string{
		"\n  load_modular = no\n  load = " + Plugins + "\n",
		"\n      socket = unix:///tmp/igw-vici-1/charon.vici\n",
		"\n      path = /tmp/t/charon.log\n",
		"\n      time_format = %H:%M:%S\n",
		"\n      knl = 2\n      net = 1\n",
		"\n  plugins {\n    kernel-libipsec {\n      allow_peer_ts = yes\n    }\n  }\n}\nswanctl {\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("strongswan.conf lacks %q; got:\n%s", want, got)
		}
	}
	if libipsec, netlink := strings.Index(Plugins, "kernel-libipsec"), strings.Index(Plugins, "kernel-netlink"); libipsec < 0 || netlink < libipsec {
		t.Errorf("Plugins must load kernel-libipsec before kernel-netlink: %q", Plugins)
	}
}

func TestValidateReportsEveryError(t *testing.T) {
	cfg := Config{
		Connections: []Connection{
			{Name: "gw", Version: 3, Children: []Child{{Name: "net", StartAction: "route"}}},
			{Name: "gw", Children: []Child{{Name: "net"}, {Name: "bad name"}}, Extra: []string{"local {"}},
		},
		Charon: []string{"}"},
	}
	err := cfg.validate()
	if err == nil {
		t.Fatal("invalid Config passed validation")
	}
	for _, want := range []string{
		"IKE version 3", `start_action "route"`, `connection name "gw" used twice`,
		`child name "net" used twice`, `child name "bad name"`,
		"connection gw Extra: sections", "Charon: sections",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if err := (Config{}).validate(); err == nil || !strings.Contains(err.Error(), "no connections") {
		t.Errorf("empty Config: got %v, want a 'no connections' error", err)
	}
}

func TestSeconds(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "", -time.Second: "0", time.Millisecond: "1s", 90 * time.Second: "90s", 4 * time.Hour: "14400s",
	} {
		if got := seconds(d); got != want {
			t.Errorf("seconds(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestSetQuotesOnlyWhatNeedsIt(t *testing.T) {
	for value, want := range map[string]string{
		"aes256-sha256-modp2048": "k = aes256-sha256-modp2048\n",
		"C=CH, O=Test, CN=gw":    "k = C=CH, O=Test, CN=gw\n",
		"%any":                   "k = %any\n",
		"two  spaces":            "k = \"two  spaces\"\n",
		"hash#comment":           "k = \"hash#comment\"\n",
		"brace}":                 "k = \"brace}\"\n",
		" lead":                  "k = \" lead\"\n",
		"line\nbreak":            "k = \"line\\nbreak\"\n",
		"":                       "",
	} {
		var w confWriter
		w.set("k", value)
		if got := w.String(); got != want {
			t.Errorf("set(k, %q) wrote %q, want %q", value, got, want)
		}
	}
}

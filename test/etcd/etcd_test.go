package etcd

import (
	"slices"
	"testing"
)

func TestArgs(t *testing.T) {
	ms := []Member{{"e1", "198.51.100.2"}, {"e2", "198.51.100.3"}}
	got := Args("/usr/bin/etcd", ms[1], ms, "/tmp/x/e2-data")
	want := []string{"/usr/bin/etcd", "--name", "e2", "--data-dir", "/tmp/x/e2-data",
		"--listen-client-urls", "http://198.51.100.3:2379", "--advertise-client-urls", "http://198.51.100.3:2379",
		"--listen-peer-urls", "http://198.51.100.3:2380", "--initial-advertise-peer-urls", "http://198.51.100.3:2380",
		"--initial-cluster", "e1=http://198.51.100.2:2380,e2=http://198.51.100.3:2380", "--initial-cluster-state", "new", "--log-level", "warn"}
	if !slices.Equal(got, want) {
		t.Fatalf("Args:\n got %q\nwant %q", got, want)
	}
	if e := Endpoints(ms); e != "http://198.51.100.2:2379,http://198.51.100.3:2379" {
		t.Fatalf("Endpoints: %q", e)
	}
	if u := ms[0].HealthURL(); u != "http://198.51.100.2:2379/health" {
		t.Fatalf("HealthURL: %q", u)
	}
}

func TestHealthy(t *testing.T) {
	for body, want := range map[string]bool{
		`{"health":"true","reason":""}`:                true,
		`{"health":"false","reason":"RAFT NO LEADER"}`: false,
		``: false,
	} {
		if got := Healthy(body); got != want {
			t.Errorf("Healthy(%q) = %v, want %v", body, got, want)
		}
	}
}

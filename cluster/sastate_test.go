package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"ipsecgw/config/schema"
)

// Only the owner writes SA state; after the group moves, the old owner's
// token is refused and the new owner reads what was written, opened with
// the shared key; a record under another name, or another key, does not
// open.
func TestSAStoreFencedAndSealed(t *testing.T) {
	fresh(t)
	rec := &recorder{}
	groups := []*schema.SRG{srg(1, false, map[int]int{1: 200, 2: 100})}
	n1 := joinTTL(t, 1, etcdURL, rec, groups, 6*time.Second)
	waitFor(t, 5*time.Second, "node 1 owns the group", func() bool { return rec.owner(1) == 1 })
	n2 := joinTTL(t, 2, etcdURL, rec, groups, 6*time.Second)
	time.Sleep(200 * time.Millisecond)
	key := bytes.Repeat([]byte{7}, 32)
	s1, err := NewSAStore(n1.Client(), key)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tok1 := n1.Owned()[1]
	if err := s1.Put(ctx, 1, tok1, "ike/0123", []byte("message id 41")); err != nil {
		t.Fatal(err)
	}
	raw, _ := n1.Client().Get(ctx, saKey(1, "ike/0123"))
	if bytes.Contains(raw.Kvs[0].Value, []byte("message id")) {
		t.Fatal("the record is stored in the clear")
	}

	many := map[string][]byte{}
	for i := range 150 { // more than one transaction
		many[fmt.Sprintf("mid/%03d", i)] = []byte(fmt.Sprint(i))
	}
	if err := s1.PutAll(ctx, 1, tok1, many); err != nil {
		t.Fatal(err)
	}

	to, err := n2.Failover(ctx, 1)
	if err != nil || to != 2 {
		t.Fatalf("failover: %d %v", to, err)
	}
	handover := false
	rec.mu.Lock()
	for _, e := range rec.events {
		handover = handover || e.node == 1 && !e.Owned && e.Handover
	}
	rec.mu.Unlock()
	if !handover {
		t.Fatal("node 1's stop on a manual failover is not marked a hand-over")
	}
	if err := s1.PutAll(ctx, 1, tok1, many); !errors.Is(err, ErrFenced) {
		t.Fatalf("PutAll with the old owner's token: %v", err)
	}
	if err := s1.Put(ctx, 1, tok1, "ike/0123", []byte("message id 42")); !errors.Is(err, ErrFenced) {
		t.Fatalf("a write with the old owner's token: %v", err)
	}
	s2, _ := NewSAStore(n2.Client(), key)
	got, err := s2.Load(ctx, 1)
	if err != nil || string(got["ike/0123"]) != "message id 41" || string(got["mid/149"]) != "149" {
		t.Fatalf("load: %q %v", got, err)
	}
	if err := s2.Put(ctx, 1, n2.Owned()[1], "ike/0123", []byte("message id 42")); err != nil {
		t.Fatal(err)
	}
	if err := s2.Delete(ctx, 1, tok1, "ike/0123"); !errors.Is(err, ErrFenced) {
		t.Fatalf("a delete with a stale token: %v", err)
	}

	// Another key does not open it; nor does the record under another name.
	other, _ := NewSAStore(n2.Client(), bytes.Repeat([]byte{8}, 32))
	if _, err := other.Load(ctx, 1); err == nil {
		t.Fatal("opened with another key")
	}
	raw, _ = n2.Client().Get(ctx, saKey(1, "ike/0123"))
	n2.Client().Put(ctx, saKey(1, "ike/9999"), string(raw.Kvs[0].Value))
	if _, err := s2.Load(ctx, 1); err == nil || !strings.Contains(err.Error(), "ike/9999") {
		t.Fatalf("a record moved to another name: %v", err)
	}
	n2.Client().Delete(ctx, saPrefix, clientv3.WithPrefix())
}

func TestLoadClusterKey(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, ClusterKeyFile)
	os.WriteFile(good, []byte(strings.Repeat("ab", 32)+"\n"), 0o600)
	if k, err := LoadClusterKey(good); err != nil || len(k) != 32 || k[0] != 0xab {
		t.Fatalf("%x %v", k, err)
	}
	bad := filepath.Join(dir, "short")
	os.WriteFile(bad, []byte("abcd"), 0o600)
	if _, err := LoadClusterKey(bad); err == nil {
		t.Fatal("a short key was accepted")
	}
	if _, err := LoadClusterKey(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("a missing key file was accepted")
	}
}

package cluster

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// The ground for SA state (what a survivor needs to resume a group's IKE
// and Child SAs): records under /ipsecgw/sa/SRG/NAME that only the
// group's current owner can write, sealed with a key every node shares.
// What goes in a record, and when, is the IKE core's business.

const saPrefix = prefix + "sa/"

// ErrFenced is the answer to a write for a group whose ownership has moved
// since the token was issued: the writer is no longer the owner and must
// stop acting for the group.
var ErrFenced = errors.New("cluster: not the group's owner any more (fencing token is stale)")

// ErrUnreadable is wrapped by Load's error when a record does not open: it
// was sealed with another cluster key, or damaged. Its SAs cannot resume.
var ErrUnreadable = errors.New("SA record unreadable")

// ClusterKeyFile is the file in the state directory holding the cluster
// key: 64 hexadecimal digits, the same on every node, provisioned with
// the nodes (it never travels through etcd).
const ClusterKeyFile = "cluster.key"

// LoadClusterKey reads a cluster key file.
func LoadClusterKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cluster key: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("cluster key %s: expected 64 hexadecimal digits", path)
	}
	return key, nil
}

// SAStore reads and writes sealed, fenced records of SA state.
type SAStore struct {
	cli  *clientv3.Client
	aead cipher.AEAD
}

// NewSAStore returns the store on cli sealing with key (32 bytes:
// AES-256-GCM).
func NewSAStore(cli *clientv3.Client, key []byte) (*SAStore, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("cluster key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &SAStore{cli: cli, aead: aead}, nil
}

func saKey(srg int, name string) string { return saPrefix + strconv.Itoa(srg) + "/" + name }

// seal binds the record to its key (the additional data), so a record
// copied under another name does not open.
func (s *SAStore) seal(key string, value []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(value)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic("cluster: no randomness: " + err.Error())
	}
	return s.aead.Seal(nonce, nonce, value, []byte(key))
}

func (s *SAStore) open(key string, sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, fmt.Errorf("cluster: %w: %s is too short", ErrUnreadable, key)
	}
	v, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(key))
	if err != nil {
		return nil, fmt.Errorf("cluster: %w: %s does not open with this node's cluster key", ErrUnreadable, key)
	}
	return v, nil
}

// Put writes record name of group srg, sealed, if token is still the
// group's fencing token; otherwise nothing is written and the error is
// ErrFenced.
func (s *SAStore) Put(ctx context.Context, srg int, token int64, name string, value []byte) error {
	key := saKey(srg, name)
	return s.fenced(ctx, srg, token, clientv3.OpPut(key, string(s.seal(key, value))))
}

// Delete removes record name of group srg under the same fence as Put.
func (s *SAStore) Delete(ctx context.Context, srg int, token int64, name string) error {
	return s.fenced(ctx, srg, token, clientv3.OpDelete(saKey(srg, name)))
}

func (s *SAStore) fenced(ctx context.Context, srg int, token int64, ops ...clientv3.Op) error {
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(srgKey(srg, "owner")), "=", token)).
		Then(ops...).Commit()
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	if !resp.Succeeded {
		return ErrFenced
	}
	return nil
}

// Load returns every record of group srg, opened: what a new owner
// resumes from. A record that does not open is an error, not skipped.
func (s *SAStore) Load(ctx context.Context, srg int) (map[string][]byte, error) {
	p := saKey(srg, "")
	resp, err := s.cli.Get(ctx, p, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	out := make(map[string][]byte, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		v, err := s.open(string(kv.Key), kv.Value)
		if err != nil {
			return nil, err
		}
		out[strings.TrimPrefix(string(kv.Key), p)] = v
	}
	return out, nil
}

package pki

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// The store keeps keys and certificates in the state directory:
//
//	STATE/pki/local/ID.key   private key, PKCS #8 PEM, mode 0600
//	STATE/pki/local/ID.crt   the local certificate, PEM (absent after generate-key-pair only)
//	STATE/pki/ca/PROFILE.crt the CA profile's certificates, PEM, root and intermediates
//	STATE/pki/crl/PROFILE.crl the CA profile's CRLs, PEM, one per issuer
//
// Every file is written to a temporary name, synced and renamed, so a
// crash leaves the old file or the new one. Everything is read back at
// Open: a restart keeps it all.

// Local is a local key pair and, once generated or loaded, its
// certificate.
type Local struct {
	ID   string
	Key  crypto.Signer // never printed: see String
	Cert *x509.Certificate
	// Chain are the intermediates loaded with the certificate (the rest
	// of local-certificate load's file), sent after it in CERT payloads.
	Chain []*x509.Certificate
	// Source says where the key pair came from: "generated" (generate-key-pair)
	// or "loaded" (local-certificate load).
	Source string
}

// String names the key pair by its fingerprint, never its contents.
func (l *Local) String() string {
	return fmt.Sprintf("local certificate %s (key %s)", l.ID, KeyFingerprint(l.Key.Public()))
}

// Store holds the local certificates, CA certificates and CRLs. It is safe
// for concurrent use: the IKE engines read while the management API writes.
type Store struct {
	dir  string
	rand io.Reader
	now  func() time.Time

	mu    sync.RWMutex // guards the maps; files are written under it
	local map[string]*Local
	ca    map[string][]*x509.Certificate    // ca-profile → certificates, in file order
	crl   map[string][]*x509.RevocationList // ca-profile → CRLs, one per issuer
}

// Options adjust a Store for tests.
type Options struct {
	Rand io.Reader        // crypto/rand.Reader when nil
	Now  func() time.Time // time.Now when nil
}

// Open reads the store under stateDir/pki, creating it if needed.
func Open(stateDir string, opts Options) (*Store, error) {
	s := &Store{dir: filepath.Join(stateDir, "pki"), rand: opts.Rand, now: opts.Now,
		local: map[string]*Local{}, ca: map[string][]*x509.Certificate{}, crl: map[string][]*x509.RevocationList{}}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.now == nil {
		s.now = time.Now
	}
	for _, d := range []string{"local", "ca", "crl"} {
		if err := os.MkdirAll(filepath.Join(s.dir, d), 0o700); err != nil {
			return nil, fmt.Errorf("pki: %w", err)
		}
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) load() error {
	keys, _ := filepath.Glob(filepath.Join(s.dir, "local", "*.key"))
	for _, f := range keys {
		id := strings.TrimSuffix(filepath.Base(f), ".key")
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("pki: %w", err)
		}
		key, err := ParsePrivateKey(data)
		if err != nil {
			return fmt.Errorf("pki: local certificate %s: key file: %w", id, err)
		}
		l := &Local{ID: id, Key: key, Source: "generated"}
		if meta, err := os.ReadFile(filepath.Join(s.dir, "local", id+".source")); err == nil {
			l.Source = strings.TrimSpace(string(meta))
		}
		if data, err := os.ReadFile(filepath.Join(s.dir, "local", id+".crt")); err == nil {
			certs, err := ParseCertificates(data)
			if err != nil {
				return fmt.Errorf("pki: local certificate %s: %w", id, err)
			}
			l.Cert, l.Chain = certs[0], certs[1:]
		}
		s.local[id] = l
	}
	cas, _ := filepath.Glob(filepath.Join(s.dir, "ca", "*.crt"))
	for _, f := range cas {
		profile := strings.TrimSuffix(filepath.Base(f), ".crt")
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("pki: %w", err)
		}
		certs, err := ParseCertificates(data)
		if err != nil {
			return fmt.Errorf("pki: ca-profile %s: %w", profile, err)
		}
		s.ca[profile] = certs
	}
	crls, _ := filepath.Glob(filepath.Join(s.dir, "crl", "*.crl"))
	for _, f := range crls {
		profile := strings.TrimSuffix(filepath.Base(f), ".crl")
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("pki: %w", err)
		}
		for {
			var b *pem.Block
			b, data = pem.Decode(data)
			if b == nil {
				break
			}
			crl, err := x509.ParseRevocationList(b.Bytes)
			if err != nil {
				return fmt.Errorf("pki: ca-profile %s CRL: %w", profile, err)
			}
			s.crl[profile] = append(s.crl[profile], crl)
		}
	}
	return nil
}

// idRE is what a certificate-id or ca-profile name may be: it becomes a
// file name. The configuration's names (config: name(32)) fit it.
var idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

func checkName(what, id string) error {
	if !idRE.MatchString(id) {
		return fmt.Errorf("%s %q: expected letters, digits, '.', '_' and '-', at most 63, starting with a letter or digit", what, id)
	}
	return nil
}

// ErrNotFound is returned for a certificate-id or ca-profile with nothing
// stored.
var ErrNotFound = errors.New("not found")

// GenerateKeyPair makes and stores a new key pair for id (request
// security pki generate-key-pair). An id that already has a key is
// refused: clear it first.
func (s *Store) GenerateKeyPair(id string, t KeyType, size int) (*Local, error) {
	if err := checkName("certificate-id", id); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.local[id]; ok {
		return nil, fmt.Errorf("certificate-id %s already has a key pair; clear security pki local-certificate certificate-id %s first", id, id)
	}
	key, err := GenerateKey(s.rand, t, size)
	if err != nil {
		return nil, err
	}
	l := &Local{ID: id, Key: key, Source: "generated"}
	if err := s.writeLocal(l); err != nil {
		return nil, err
	}
	s.local[id] = l
	return l, nil
}

// LoadLocal stores a certificate and its private key under id (request
// security pki local-certificate load). The key must be the
// certificate's; the first certificate of certData is the local one, the
// others its intermediates (each a CA), kept to be sent with it.
func (s *Store) LoadLocal(id string, certData, keyData []byte) (*Local, error) {
	if err := checkName("certificate-id", id); err != nil {
		return nil, err
	}
	certs, err := ParseCertificates(certData)
	if err != nil {
		return nil, fmt.Errorf("certificate file: %w", err)
	}
	key, err := ParsePrivateKey(keyData)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	if !samePublicKey(certs[0], key) {
		return nil, fmt.Errorf("the key (%s) is not the key of the certificate %s (%s)",
			KeyFingerprint(key.Public()), DNString(certs[0].RawSubject), KeyFingerprint(certs[0].PublicKey))
	}
	for i, c := range certs[1:] {
		if !c.IsCA {
			return nil, fmt.Errorf("certificate %d of the file (%s) follows the local certificate but is not a CA certificate", i+2, DNString(c.RawSubject))
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l := &Local{ID: id, Key: key, Cert: certs[0], Chain: certs[1:], Source: "loaded"}
	if err := s.writeLocal(l); err != nil {
		return nil, err
	}
	s.local[id] = l
	return l, nil
}

// setCert stores a certificate for an existing key pair.
func (s *Store) setCert(id string, cert *x509.Certificate) (*Local, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.local[id]
	if !ok {
		return nil, fmt.Errorf("certificate-id %s: %w", id, ErrNotFound)
	}
	n := *l
	n.Cert, n.Chain = cert, nil
	if err := s.writeLocal(&n); err != nil {
		return nil, err
	}
	s.local[id] = &n
	return &n, nil
}

func (s *Store) writeLocal(l *Local) error {
	keyPEM, err := encodeKey(l.Key)
	if err != nil {
		return fmt.Errorf("pki: certificate-id %s: %w", l.ID, err)
	}
	dir := filepath.Join(s.dir, "local")
	if err := writeAtomic(filepath.Join(dir, l.ID+".key"), keyPEM, 0o600); err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(dir, l.ID+".source"), []byte(l.Source+"\n"), 0o600); err != nil {
		return err
	}
	if l.Cert == nil {
		return removeIfExists(filepath.Join(dir, l.ID+".crt"))
	}
	var buf bytes.Buffer
	for _, c := range append([]*x509.Certificate{l.Cert}, l.Chain...) {
		buf.Write(certPEM(c.Raw))
	}
	return writeAtomic(filepath.Join(dir, l.ID+".crt"), buf.Bytes(), 0o644)
}

// ClearLocal removes a local certificate and its key pair (clear security
// pki local-certificate certificate-id ID).
func (s *Store) ClearLocal(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.local[id]; !ok {
		return fmt.Errorf("certificate-id %s: %w", id, ErrNotFound)
	}
	dir := filepath.Join(s.dir, "local")
	for _, ext := range []string{".crt", ".source", ".key"} {
		if err := removeIfExists(filepath.Join(dir, id+ext)); err != nil {
			return err
		}
	}
	delete(s.local, id)
	return nil
}

// Local returns the local certificate (or key pair) called id.
func (s *Store) Local(id string) (*Local, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	l, ok := s.local[id]
	return l, ok
}

// Locals lists the local certificates by id.
func (s *Store) Locals() []*Local {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Local, 0, len(s.local))
	for _, l := range s.local {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// LoadCA stores the CA certificates of a ca-profile (request security pki
// ca-certificate load), replacing what it had: data holds one or more
// certificates, a root and its intermediates. Each must be a CA.
func (s *Store) LoadCA(profile string, data []byte) ([]*x509.Certificate, error) {
	if err := checkName("ca-profile", profile); err != nil {
		return nil, err
	}
	certs, err := ParseCertificates(data)
	if err != nil {
		return nil, err
	}
	for i, c := range certs {
		// A self-signed end-entity certificate (a peer's generate-self-signed)
		// may be trusted as itself.
		if !c.IsCA && !isSelfSigned(c) {
			return nil, fmt.Errorf("certificate %d (%s) is neither a CA certificate (basicConstraints CA:TRUE) nor self-signed", i+1, DNString(c.RawSubject))
		}
	}
	var buf bytes.Buffer
	for _, c := range certs {
		buf.Write(certPEM(c.Raw))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := writeAtomic(filepath.Join(s.dir, "ca", profile+".crt"), buf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	s.ca[profile] = certs
	return certs, nil
}

// CACertificates returns a ca-profile's certificates.
func (s *Store) CACertificates(profile string) []*x509.Certificate {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ca[profile]
}

// CAProfiles lists the ca-profiles that have certificates or CRLs.
func (s *Store) CAProfiles() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	seen := map[string]bool{}
	for p := range s.ca {
		seen[p] = true
	}
	for p := range s.crl {
		seen[p] = true
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// LoadCRL stores a CRL for a ca-profile (request security pki crl load).
// Its signature must verify with one of the profile's CA certificates; it
// replaces an earlier CRL of the same issuer.
func (s *Store) LoadCRL(profile string, data []byte) (*x509.RevocationList, error) {
	if err := checkName("ca-profile", profile); err != nil {
		return nil, err
	}
	crl, err := ParseCRL(data)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ca[profile]) == 0 {
		return nil, fmt.Errorf("ca-profile %s has no CA certificate to check the CRL with; load one with request security pki ca-certificate load", profile)
	}
	signed := false
	for _, ca := range s.ca[profile] {
		if bytes.Equal(ca.RawSubject, crl.RawIssuer) && crl.CheckSignatureFrom(ca) == nil {
			signed = true
			break
		}
	}
	if !signed {
		return nil, fmt.Errorf("the CRL of %s is not signed by a CA certificate of ca-profile %s", DNString(crl.RawIssuer), profile)
	}
	list := []*x509.RevocationList{crl}
	for _, old := range s.crl[profile] {
		if !bytes.Equal(old.RawIssuer, crl.RawIssuer) {
			list = append(list, old)
		}
	}
	var buf bytes.Buffer
	for _, c := range list {
		buf.Write(pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: c.Raw}))
	}
	if err := writeAtomic(filepath.Join(s.dir, "crl", profile+".crl"), buf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	s.crl[profile] = list
	return crl, nil
}

// CRLs returns a ca-profile's CRLs.
func (s *Store) CRLs(profile string) []*x509.RevocationList {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.crl[profile]
}

// writeAtomic replaces path with data: a temporary file in the same
// directory, synced, renamed over path, and the directory synced.
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("pki: writing %s: %w", path, err)
	}
	if err := f.Chmod(mode); err != nil {
		return fail(err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("pki: writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("pki: writing %s: %w", path, err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("pki: syncing %s: %w", dir, err)
	}
	return nil
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("pki: %w", err)
	}
	return nil
}

// isSelfSigned reports whether c is signed by its own key.
func isSelfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawSubject, c.RawIssuer) && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

package mgmt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"ipsecgw/mgmt/mgmtpb"
	"ipsecgw/pki"
	"ipsecgw/show"
	"ipsecgw/view"
)

// The pki commands: request security pki ... (the Request RPC, given as
// words), clear security pki local-certificate and show security pki.
// Files named in a request are read and written by the daemon, on its
// machine, as Junos reads them on the router; the CLI sends absolute paths.

// maxPKIFile bounds what a load reads: a chain of certificates or a CRL is
// kilobytes; anything near this is not one.
const maxPKIFile = 4 << 20

// pkiRequest is one request's words after "security pki": the command
// keywords, then "keyword value" pairs.
type pkiRequest struct {
	command string
	args    map[string]string
}

// pkiCommands lists each request with the options it takes; the first
// options are required.
var pkiCommands = map[string]struct{ required, optional []string }{
	"generate-key-pair":                      {[]string{"certificate-id"}, []string{"type", "size"}},
	"local-certificate generate-self-signed": {[]string{"certificate-id", "subject"}, []string{"domain-name", "ip-address", "email"}},
	"generate-certificate-request":           {[]string{"certificate-id", "subject"}, []string{"domain-name", "ip-address", "email", "filename"}},
	"local-certificate load":                 {[]string{"certificate-id", "filename", "key"}, nil},
	"ca-certificate load":                    {[]string{"ca-profile", "filename"}, nil},
	"crl load":                               {[]string{"ca-profile", "filename"}, nil},
}

func invalid(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, "error: "+format, args...)
}

func parsePKIRequest(words []string) (pkiRequest, error) {
	if len(words) < 3 || words[0] != "security" || words[1] != "pki" {
		return pkiRequest{}, invalid("unknown request %q; expected request security pki ...", strings.Join(words, " "))
	}
	rest := words[2:]
	var r pkiRequest
	for cmd := range pkiCommands {
		n := len(strings.Fields(cmd))
		if len(rest) >= n && strings.Join(rest[:n], " ") == cmd && len(cmd) > len(r.command) {
			r.command = cmd
		}
	}
	if r.command == "" {
		return r, invalid("unknown request security pki %s", strings.Join(rest, " "))
	}
	spec := pkiCommands[r.command]
	allowed := append(append([]string{}, spec.required...), spec.optional...)
	r.args = map[string]string{}
	rest = rest[len(strings.Fields(r.command)):]
	for len(rest) > 0 {
		k := rest[0]
		known := false
		for _, a := range allowed {
			known = known || a == k
		}
		if !known {
			return r, invalid("request security pki %s: unknown option %q; expected %s", r.command, k, strings.Join(allowed, ", "))
		}
		if len(rest) < 2 {
			return r, invalid("request security pki %s: %s needs a value", r.command, k)
		}
		r.args[k] = rest[1]
		rest = rest[2:]
	}
	for _, k := range spec.required {
		if r.args[k] == "" {
			return r, invalid("request security pki %s: %s is required", r.command, k)
		}
	}
	return r, nil
}

func (s opService) Request(ctx context.Context, req *mgmtpb.CommandRequest) (*mgmtpb.CommandReply, error) {
	if out, ok, err := s.clusterRequest(ctx, req.Words); ok {
		return &mgmtpb.CommandReply{Output: out}, err
	}
	if out, ok, err := s.rekeyRequest(req.Words); ok { // rekey.go
		return &mgmtpb.CommandReply{Output: out}, err
	}
	r, err := parsePKIRequest(req.Words)
	if err != nil {
		return nil, err
	}
	out, err := s.pkiRequest(r)
	if err != nil {
		if _, ok := status.FromError(err); ok {
			return nil, err
		}
		return nil, status.Errorf(codes.FailedPrecondition, "error: %v", err)
	}
	return &mgmtpb.CommandReply{Output: out}, nil
}

func (s opService) pkiRequest(r pkiRequest) (string, error) {
	st := s.d.PKI()
	a := r.args
	switch r.command {
	case "generate-key-pair":
		t := pki.KeyType(a["type"])
		if t == "" {
			t = pki.RSA
		}
		size := 0
		if a["size"] != "" {
			n, err := strconv.Atoi(a["size"])
			if err != nil {
				return "", invalid("size %q is not a number", a["size"])
			}
			size = n
		}
		l, err := st.GenerateKeyPair(a["certificate-id"], t, size)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("Generated key pair %s, key algorithm %s\nPublic key fingerprint: %s (sha256)\n",
			l.ID, pki.KeyAlgorithm(l.Key.Public()), pki.KeyFingerprint(l.Key.Public())), nil
	case "local-certificate generate-self-signed":
		n, err := pkiNames(a)
		if err != nil {
			return "", err
		}
		if _, err := st.GenerateSelfSigned(a["certificate-id"], n); err != nil {
			return "", err
		}
		return "Self-signed certificate generated and loaded successfully\n", nil
	case "generate-certificate-request":
		n, err := pkiNames(a)
		if err != nil {
			return "", err
		}
		csr, err := st.CertificateRequest(a["certificate-id"], n)
		if err != nil {
			return "", err
		}
		out := "Generated certificate request\n" + string(csr)
		if f := a["filename"]; f != "" {
			if err := os.WriteFile(f, csr, 0o644); err != nil {
				return "", err
			}
			out += "Certificate request written to " + f + "\n"
		}
		return out, nil
	case "local-certificate load":
		cert, err := readPKIFile(a["filename"])
		if err != nil {
			return "", err
		}
		key, err := readPKIFile(a["key"])
		if err != nil {
			return "", err
		}
		if _, err := st.LoadLocal(a["certificate-id"], cert, key); err != nil {
			return "", err
		}
		return "Local certificate loaded successfully\n", nil
	case "ca-certificate load":
		if err := s.configuredProfile(a["ca-profile"]); err != nil {
			return "", err
		}
		data, err := readPKIFile(a["filename"])
		if err != nil {
			return "", err
		}
		certs, err := st.LoadCA(a["ca-profile"], data)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("CA certificate for profile %s loaded successfully (%d certificates)\n", a["ca-profile"], len(certs)), nil
	case "crl load":
		if err := s.configuredProfile(a["ca-profile"]); err != nil {
			return "", err
		}
		data, err := readPKIFile(a["filename"])
		if err != nil {
			return "", err
		}
		crl, err := st.LoadCRL(a["ca-profile"], data)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("CRL for CA profile %s loaded successfully (%d revoked certificates)\n", a["ca-profile"], len(crl.RevokedCertificateEntries)), nil
	}
	return "", invalid("unknown request security pki %s", r.command)
}

// configuredProfile refuses a ca-profile the configuration does not have,
// as Junos does: the profile says how its certificates are checked.
func (s opService) configuredProfile(name string) error {
	if s.d.Config().CAProfile(name) == nil {
		return status.Errorf(codes.NotFound, "error: ca-profile %s is not configured; set security pki ca-profile %s ca-identity %s first", name, name, name)
	}
	return nil
}

func pkiNames(a map[string]string) (pki.Names, error) {
	n := pki.Names{Subject: a["subject"], DomainName: a["domain-name"], Email: a["email"]}
	if ip := a["ip-address"]; ip != "" {
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			return n, invalid("ip-address %q is not an IP address", ip)
		}
		n.IPAddress = addr
	}
	return n, nil
}

func readPKIFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPKIFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxPKIFile {
		return nil, fmt.Errorf("%s is larger than %d bytes: not a certificate, key or CRL", name, maxPKIFile)
	}
	return data, nil
}

// showPKI is show security pki local-certificate | ca-certificate | crl.
func (s opService) showPKI(q *mgmtpb.PKI) (show.Reply, error) {
	st := s.d.PKI()
	switch q.Kind {
	case "local-certificate":
		return show.LocalCertificates(view.LocalCertificates(st), q.CertificateId, style(q.Style)), nil
	case "ca-certificate":
		return show.CACertificates(view.CACertificates(st), q.CaProfile, style(q.Style)), nil
	case "crl":
		return show.CRLs(view.CRLs(st), q.CaProfile, style(q.Style)), nil
	}
	return show.Reply{}, invalid("show security pki %q: expected local-certificate, ca-certificate or crl", q.Kind)
}

// clearLocalCertificate is clear security pki local-certificate
// certificate-id ID.
func (s opService) clearLocalCertificate(q *mgmtpb.ClearLocalCertificate) (*mgmtpb.ClearReply, error) {
	if err := s.d.PKI().ClearLocal(q.CertificateId); err != nil {
		if errors.Is(err, pki.ErrNotFound) {
			return nil, status.Errorf(codes.NotFound, "error: certificate-id %s does not exist", q.CertificateId)
		}
		return nil, status.Errorf(codes.Internal, "error: %v", err)
	}
	return &mgmtpb.ClearReply{Cleared: 1}, nil
}

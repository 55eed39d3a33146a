package cli

import (
	"context"
	"io"
	"net/netip"
	"path/filepath"
	"strconv"

	"ipsecgw/mgmt/mgmtpb"
)

// The `security pki` operational commands: request (generate, load), show
// and clear. A request goes to the daemon as its words (the Request RPC);
// file names are made absolute here, since the daemon reads and writes
// them from its own working directory.

var (
	certificateIDValue = &opValue{placeholder: "<certificate-id>", help: "Certificate identifier", check: func(v string) bool { return v != "" }}
	caProfileValue     = &opValue{placeholder: "<ca-profile>", help: "CA profile name", check: func(v string) bool { return v != "" }}
	fileValue          = &opValue{placeholder: "<filename>", help: "File name", check: func(v string) bool { return v != "" }}
	subjectValue       = &opValue{placeholder: "<subject>", help: `Distinguished name, such as "DC=example,DC=net,CN=gw1"`}
	domainValue        = &opValue{placeholder: "<domain-name>", help: "Domain name (subjectAltName)"}
	emailValue         = &opValue{placeholder: "<email>", help: "E-mail address (subjectAltName)"}
	ipValue            = &opValue{placeholder: "<ip-address>", help: "IP address (subjectAltName)", check: func(v string) bool {
		_, err := netip.ParseAddr(v)
		return err == nil
	}}
	keyTypeValue = &opValue{placeholder: "<type>", help: "Key type", enum: []choice{
		{word: "ecdsa", help: "ECDSA key (size 256, 384 or 521)"},
		{word: "rsa", help: "RSA key (size 2048, 3072 or 4096; the default)"},
	}}
	keySizeValue = &opValue{placeholder: "<size>", help: "Key size in bits", check: func(v string) bool {
		_, err := strconv.Atoi(v)
		return err == nil
	}}
)

func optCertificateID() *opOption {
	return &opOption{name: "certificate-id", help: "Certificate identifier", value: certificateIDValue}
}
func optCAProfile() *opOption {
	return &opOption{name: "ca-profile", help: "CA profile name", value: caProfileValue}
}
func optFilename(help string) *opOption {
	return &opOption{name: "filename", help: help, value: fileValue}
}
func optNames() []*opOption {
	return []*opOption{
		{name: "subject", help: "Subject distinguished name", value: subjectValue},
		{name: "domain-name", help: "Domain name", value: domainValue},
		{name: "ip-address", help: "IP address", value: ipValue},
		{name: "email", help: "E-mail address", value: emailValue},
	}
}

// pkiRequestWords builds the build function of a request: the command
// words, then each option given, in the order listed (file options made
// absolute).
func pkiRequestWords(command []string, opts ...string) func(opArgs) opCommand {
	return func(a opArgs) opCommand {
		words := append([]string{"security", "pki"}, command...)
		for _, k := range opts {
			v, ok := a[k]
			if !ok {
				continue
			}
			if k == "filename" || k == "key" {
				if abs, err := filepath.Abs(v); err == nil {
					v = abs
				}
			}
			words = append(words, k, v)
		}
		return opCommand{request: &mgmtpb.CommandRequest{Words: words}}
	}
}

// pkiRequest is "request security pki".
var pkiRequest = &opNode{name: "pki", help: "Public key infrastructure", sub: []*opNode{
	{name: "ca-certificate", help: "CA certificates", sub: []*opNode{
		{name: "load", help: "Load CA certificates (a root and its intermediates) from a file",
			opts:  []*opOption{optCAProfile(), optFilename("File holding the certificates (PEM)")},
			build: pkiRequestWords([]string{"ca-certificate", "load"}, "ca-profile", "filename")},
	}},
	{name: "crl", help: "Certificate revocation lists", sub: []*opNode{
		{name: "load", help: "Load a CRL from a file",
			opts:  []*opOption{optCAProfile(), optFilename("File holding the CRL (PEM or DER)")},
			build: pkiRequestWords([]string{"crl", "load"}, "ca-profile", "filename")},
	}},
	{name: "generate-certificate-request", help: "Generate a PKCS #10 certificate request",
		opts:  append([]*opOption{optCertificateID(), optFilename("File to write the request to")}, optNames()...),
		build: pkiRequestWords([]string{"generate-certificate-request"}, "certificate-id", "subject", "domain-name", "ip-address", "email", "filename")},
	{name: "generate-key-pair", help: "Generate a public/private key pair",
		opts: []*opOption{optCertificateID(), {name: "type", help: "Key type", value: keyTypeValue},
			{name: "size", help: "Key size", value: keySizeValue}},
		build: pkiRequestWords([]string{"generate-key-pair"}, "certificate-id", "type", "size")},
	{name: "local-certificate", help: "Local certificates", sub: []*opNode{
		{name: "generate-self-signed", help: "Generate a self-signed certificate for a key pair",
			opts:  append([]*opOption{optCertificateID()}, optNames()...),
			build: pkiRequestWords([]string{"local-certificate", "generate-self-signed"}, "certificate-id", "subject", "domain-name", "ip-address", "email")},
		{name: "load", help: "Load a local certificate and its private key from files",
			opts: []*opOption{optCertificateID(), optFilename("File holding the certificate"),
				{name: "key", help: "File holding the private key", value: fileValue}},
			build: pkiRequestWords([]string{"local-certificate", "load"}, "certificate-id", "filename", "key")},
	}},
}}

func showPKI(kind string) func(opArgs) opCommand {
	return func(a opArgs) opCommand {
		return showReq(&mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_Pki{Pki: &mgmtpb.PKI{
			Kind: kind, CertificateId: a["certificate-id"], CaProfile: a["ca-profile"], Style: a.style()}}})
	}
}

// pkiShow is "show security pki".
var pkiShow = &opNode{name: "pki", help: "Show public key infrastructure information", sub: []*opNode{
	{name: "ca-certificate", help: "Show CA certificates",
		opts: []*opOption{optBrief(), optDetail(), optCAProfile()}, build: showPKI("ca-certificate")},
	{name: "crl", help: "Show certificate revocation lists",
		opts: []*opOption{optBrief(), optDetail(), optCAProfile()}, build: showPKI("crl")},
	{name: "local-certificate", help: "Show local certificates",
		opts: []*opOption{optBrief(), optDetail(), optCertificateID()}, build: showPKI("local-certificate")},
}}

// pkiClear is "clear security pki".
var pkiClear = &opNode{name: "pki", help: "Clear public key infrastructure information", sub: []*opNode{
	{name: "local-certificate", help: "Delete a local certificate and its key pair",
		opts: []*opOption{optCertificateID()}, build: func(a opArgs) opCommand {
			return opCommand{clear: &mgmtpb.ClearRequest{Command: &mgmtpb.ClearRequest_LocalCertificate{
				LocalCertificate: &mgmtpb.ClearLocalCertificate{CertificateId: a["certificate-id"]}}}}
		}},
}}

// request runs a request command and prints what the daemon answers.
func (s *Session) request(ctx context.Context, req *mgmtpb.CommandRequest, pl pipeline, out io.Writer) error {
	reply, err := s.op.Request(ctx, req)
	if err != nil {
		return serverError(err)
	}
	_, err = io.WriteString(out, applyPipes(reply.Output, pl))
	return err
}

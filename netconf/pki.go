package netconf

import "ipsecgw/mgmt/mgmtpb"

// The show security pki commands as RPCs: Junos names them
// get-pki-local-certificate, get-pki-ca-certificate and get-pki-crl, with
// the CLI's options as arguments; the reply is what "| display xml" prints
// (pki-local-certificate-information, ...).
func init() {
	pkiRPC := func(kind string, values ...string) showRPC {
		return showRPC{flags: []string{"brief", "detail"}, values: values,
			build: func(a map[string]string) (*mgmtpb.ShowRequest, *rpcError) {
				return &mgmtpb.ShowRequest{Command: &mgmtpb.ShowRequest_Pki{Pki: &mgmtpb.PKI{
					Kind: kind, CertificateId: a["certificate-id"], CaProfile: a["ca-profile"], Style: style(a)}}}, nil
			}}
	}
	showRPCs["get-pki-local-certificate"] = pkiRPC("local-certificate", "certificate-id")
	showRPCs["get-pki-ca-certificate"] = pkiRPC("ca-certificate", "ca-profile")
	showRPCs["get-pki-crl"] = pkiRPC("crl", "ca-profile")
}

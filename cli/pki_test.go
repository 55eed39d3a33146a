package cli

import (
	"testing"

	"ipsecgw/mgmt/mgmtpb"
)

// TestPKIShowClearParse: the pki show and clear commands fill their
// requests' fields (the request words are in TestRequestWordsParse).
func TestPKIShowClearParse(t *testing.T) {
	ws, _ := splitWords("show security pki local-certificate certificate-id gw1 detail")
	cmd, err := parseOp(ws, 60)
	if err != nil || cmd.show.GetPki().GetKind() != "local-certificate" || cmd.show.GetPki().GetCertificateId() != "gw1" || cmd.show.GetPki().GetStyle() != mgmtpb.Style_DETAIL {
		t.Fatalf("show: %+v %v", cmd.show, err)
	}
	ws, _ = splitWords("clear security pki local-certificate certificate-id gw1")
	cmd, err = parseOp(ws, 60)
	if err != nil || cmd.clear.GetLocalCertificate().GetCertificateId() != "gw1" {
		t.Fatalf("clear: %+v %v", cmd.clear, err)
	}
}

package mgmt

import (
	"errors"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"ipsecgw/config"
)

// configStatus is a failed configuration call's status: text is what the
// CLI prints, and each configuration error in err travels beside it as a
// BadRequest field violation (field: the statement's [edit ...] level;
// description: what is wrong), so a client such as NETCONF's error-path
// reads the path without parsing the text.
//
// A load or edit error names the statement itself ([edit security ike
// proposal p]); a commit error names the level above it, as the CLI's
// "[edit ...]" banner does, with the statement's own word as the banner's
// quoted line.
func configStatus(code codes.Code, text string, err error, commit bool) error {
	st := status.New(code, text)
	list := configErrors(err)
	if len(list) == 0 {
		return st.Err()
	}
	br := &errdetails.BadRequest{}
	for _, e := range list {
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{
			Field:       editLevel(e.Path, commit),
			Description: e.Msg,
		})
	}
	withDetails, derr := st.WithDetails(br)
	if derr != nil {
		return st.Err()
	}
	return withDetails.Err()
}

func configErrors(err error) config.ErrorList {
	var list config.ErrorList
	var one *config.Error
	switch {
	case errors.As(err, &list):
		return list
	case errors.As(err, &one):
		return config.ErrorList{one}
	}
	return nil
}

// editLevel is path as an [edit ...] level: the statement's own level, or
// for a commit the level that holds it.
func editLevel(path string, commit bool) string {
	ws := strings.Fields(path)
	if commit && len(ws) > 0 {
		ws = ws[:len(ws)-1]
	}
	if len(ws) == 0 {
		return "[edit]"
	}
	return "[edit " + strings.Join(ws, " ") + "]"
}

package cli

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"ipsecgw/mgmt/mgmtpb"
)

// fakeConfig records what the CLI asks of the configuration database and
// answers with canned replies.
type fakeConfig struct {
	mgmtpb.UnimplementedConfigServer
	mu        sync.Mutex
	edits     []string
	shows     []*mgmtpb.ShowConfigRequest
	compares  []*mgmtpb.CompareRequest
	commits   []*mgmtpb.CommitRequest
	rollbacks []uint32
	// canned
	changed     bool
	confirmLeft int64
	showText    string
	commitErr   error
	editErr     error
}

func (f *fakeConfig) Edit(_ context.Context, r *mgmtpb.EditRequest) (*mgmtpb.EditReply, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.editErr != nil {
		return nil, f.editErr
	}
	f.edits = append(f.edits, r.Commands...)
	f.changed = true
	return &mgmtpb.EditReply{}, nil
}

func (f *fakeConfig) Show(_ context.Context, r *mgmtpb.ShowConfigRequest) (*mgmtpb.TextReply, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shows = append(f.shows, r)
	return &mgmtpb.TextReply{Text: f.showText}, nil
}

func (f *fakeConfig) Compare(_ context.Context, r *mgmtpb.CompareRequest) (*mgmtpb.TextReply, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.compares = append(f.compares, r)
	return &mgmtpb.TextReply{Text: "[edit security ike]\n+   proposal p1;\n"}, nil
}

func (f *fakeConfig) Commit(_ context.Context, r *mgmtpb.CommitRequest) (*mgmtpb.CommitReply, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.commits = append(f.commits, r)
	if f.commitErr != nil {
		return nil, f.commitErr
	}
	var msgs []string
	if r.ConfirmMinutes > 0 {
		msgs = append(msgs, "commit confirmed will be automatically rolled back in "+
			itoa(r.ConfirmMinutes)+" minutes unless confirmed")
	}
	if r.Check {
		return &mgmtpb.CommitReply{Messages: []string{"configuration check succeeds"}}, nil
	}
	f.changed = false
	return &mgmtpb.CommitReply{Messages: append(msgs, "commit complete")}, nil
}

func (f *fakeConfig) Rollback(_ context.Context, r *mgmtpb.RollbackRequest) (*mgmtpb.EditReply, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rollbacks = append(f.rollbacks, r.Number)
	return &mgmtpb.EditReply{Messages: []string{"load complete"}}, nil
}

func (f *fakeConfig) Rollbacks(context.Context, *mgmtpb.RollbacksRequest) (*mgmtpb.RollbacksReply, error) {
	return &mgmtpb.RollbacksReply{Rollbacks: []*mgmtpb.Rollback{
		{Number: 0, TimeUnix: 1767225600, User: "root"},
		{Number: 1, TimeUnix: 1767222000, User: "ops", Comment: "new peer"},
	}}, nil
}

func (f *fakeConfig) Status(context.Context, *mgmtpb.StatusRequest) (*mgmtpb.StatusReply, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &mgmtpb.StatusReply{CandidateChanged: f.changed, ConfirmSecondsLeft: f.confirmLeft}, nil
}

// fakeOp records show and clear requests.
type fakeOp struct {
	mgmtpb.UnimplementedOperationalServer
	mu     sync.Mutex
	shows  []*mgmtpb.ShowRequest
	clears []*mgmtpb.ClearRequest
	output string
}

func (f *fakeOp) Show(_ context.Context, r *mgmtpb.ShowRequest) (*mgmtpb.ShowReply, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shows = append(f.shows, r)
	return &mgmtpb.ShowReply{Output: f.output}, nil
}

func (f *fakeOp) Clear(_ context.Context, r *mgmtpb.ClearRequest) (*mgmtpb.ClearReply, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clears = append(f.clears, r)
	if a := r.GetIkeSecurityAssociations().GetAddress(); a == "203.0.113.99" {
		return nil, status.Error(codes.NotFound, "error: no IKE security association with peer 203.0.113.99")
	}
	return &mgmtpb.ClearReply{Cleared: 1}, nil
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

type harness struct {
	s   *Session
	cfg *fakeConfig
	op  *fakeOp
}

// newHarness serves the fakes with a real gRPC server over an in-memory
// connection, so requests go through the generated code and the wire.
func newHarness(t *testing.T) *harness {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	h := &harness{cfg: &fakeConfig{showText: "proposal p1;\n"}, op: &fakeOp{output: "Index State\n3 UP\n4 DOWN\n"}}
	mgmtpb.RegisterConfigServer(srv, h.cfg)
	mgmtpb.RegisterOperationalServer(srv, h.op)
	go srv.Serve(lis)
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		srv.Stop()
	})
	h.s = NewSession(mgmtpb.NewConfigClient(conn), mgmtpb.NewOperationalClient(conn), "root", "gw1")
	return h
}

// run executes one line and returns the output and the error text.
func (h *harness) run(t *testing.T, line string) (string, string) {
	t.Helper()
	var out bytes.Buffer
	err := h.s.Execute(context.Background(), line, &out)
	if err != nil {
		return out.String(), err.Error()
	}
	return out.String(), ""
}

// mustRun executes a line that must succeed.
func (h *harness) mustRun(t *testing.T, line string) string {
	t.Helper()
	out, errText := h.run(t, line)
	if errText != "" {
		t.Fatalf("%q: unexpected error:\n%s", line, errText)
	}
	return out
}

func assertProto(t *testing.T, what string, got, want proto.Message) {
	t.Helper()
	if !proto.Equal(got, want) {
		t.Errorf("%s:\ngot  %s\nwant %s", what, prototext.Format(got), prototext.Format(want))
	}
}

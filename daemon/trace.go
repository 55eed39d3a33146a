package daemon

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"ipsecgw/config/schema"
)

// traceoptions: "security ike traceoptions flag ike" (or all) turns on the
// IKE engine's debug log, "security ipsec traceoptions flag ..." the data
// plane's; "file NAME" sends that subsystem's debug records to a file of
// the state directory's log/ folder (an absolute NAME is used as it is),
// else they go where the daemon logs. The rest of the log is unchanged:
// the level the daemon started with still applies to everything else.
type tracer struct {
	dir string

	mu    sync.Mutex
	on    map[string]*slog.Logger // subsystem → where its debug records go
	files []*os.File
}

func newTracer(stateDir string) *tracer {
	return &tracer{dir: filepath.Join(stateDir, "log"), on: map[string]*slog.Logger{}}
}

// configure follows a committed configuration's traceoptions.
func (t *tracer) configure(cfg *schema.Config, base slog.Handler) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range t.files {
		f.Close()
	}
	t.files, t.on = nil, map[string]*slog.Logger{}
	for subsystem, tr := range map[string]schema.Trace{"ike": cfg.IKE.Trace, "dataplane": cfg.IPsec.Trace} {
		if len(tr.Flags) == 0 {
			continue
		}
		h := base
		if tr.File != "" {
			path := tr.File
			if !filepath.IsAbs(path) {
				path = filepath.Join(t.dir, path)
			}
			os.MkdirAll(filepath.Dir(path), 0o700)
			f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
			if err == nil {
				t.files = append(t.files, f)
				h = slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug})
			}
		}
		t.on[subsystem] = slog.New(h)
	}
}

func (t *tracer) target(subsystem string) *slog.Logger {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.on[subsystem]
}

func (t *tracer) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range t.files {
		f.Close()
	}
	t.files, t.on = nil, map[string]*slog.Logger{}
}

// traceHandler passes records to the daemon's handler, and the debug
// records of a traced subsystem to its trace target.
type traceHandler struct {
	base      slog.Handler
	t         *tracer
	subsystem string
	attrs     []slog.Attr
}

func (h *traceHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.base.Enabled(ctx, l) || h.subsystem != "" && h.t.target(h.subsystem) != nil
}

func (h *traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.base.Enabled(ctx, r.Level) {
		return h.base.Handle(ctx, r)
	}
	if lg := h.t.target(h.subsystem); lg != nil {
		// The trace target's handler has none of this logger's attributes.
		r = r.Clone()
		r.AddAttrs(h.attrs...)
		return lg.Handler().Handle(ctx, r)
	}
	return nil
}

func (h *traceHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := *h
	n.base = h.base.WithAttrs(as)
	n.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	for _, a := range as {
		if a.Key == "subsystem" {
			n.subsystem = a.Value.String()
		}
	}
	return &n
}

func (h *traceHandler) WithGroup(name string) slog.Handler {
	n := *h
	n.base = h.base.WithGroup(name)
	return &n
}

// Package metrics exports ipsecgw's counters to Prometheus.
//
// Two kinds of numbers reach a scrape, by two doors:
//
//	Snapshot  what the data plane and the IKE daemon already count (ESP
//	          packets, bytes and drops, per-SA counters, IKE SAs by state).
//	          The daemon hands New a function that fills one; it is called
//	          at scrape time and its values are exported as they are, so
//	          the package keeps no copy that could drift from show output.
//	Events    what happens once and is counted nowhere else (negotiations,
//	          their failures by reason, rekeys, DPD). The daemon calls the
//	          Events methods as they happen; each is one atomic add.
//
// Every metric is named ipsecgw_*; a Metrics has its own registry (with the
// Go runtime and process collectors), never the global one, so that two
// gateways can run in one test process.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Path is where Serve answers scrapes.
const Path = "/metrics"

// shutdownGrace is how long Serve lets scrapes in flight finish once its
// context is done.
const shutdownGrace = 5 * time.Second

// Metrics is the registry of one gateway and the handler that exports it.
type Metrics struct {
	registry *prometheus.Registry
	events   *Events
	handler  http.Handler
}

// New builds the registry: the collector that calls snapshot at each scrape
// (nil exports no snapshot metrics), the event counters, and the Go runtime
// and process collectors.
func New(snapshot func() Snapshot) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&snapshotCollector{snapshot: snapshot},
	)
	m := &Metrics{registry: reg, events: newEvents(reg)}
	// ContinueOnError: one metric that fails to gather must not take the
	// others out of the scrape; the failure is counted in
	// promhttp_metric_handler_errors_total.
	m.handler = promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		Registry:      reg,
		ErrorHandling: promhttp.ContinueOnError,
	}))
	return m
}

// Events is the event counters for the daemon to increment.
func (m *Metrics) Events() *Events { return m.events }

// Registry is the registry behind Handler, for callers that add collectors
// of their own or gather without HTTP.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Handler serves one scrape in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler { return m.handler }

// Serve listens on addr (TCP host:port) and answers scrapes at /metrics
// until ctx is done; then it lets scrapes in flight finish (up to a few
// seconds) and returns nil. It returns an error when it cannot listen or
// the server fails.
func (m *Metrics) Serve(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	return m.serve(ctx, ln)
}

// serve answers scrapes on ln until ctx is done; it closes ln.
func (m *Metrics) serve(ctx context.Context, ln net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("GET "+Path, m.handler)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("metrics: serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		srv.Close() // scrapes still running after the grace period are cut
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics: serve on %s: %w", ln.Addr(), err)
	}
	return nil
}

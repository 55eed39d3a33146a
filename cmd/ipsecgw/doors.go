package main

import (
	"context"
	"fmt"
	"log/slog"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"ipsecgw/metrics"
	"ipsecgw/sshd"
)

// doors are the SSH and NETCONF services: clients of the daemon's own API
// socket, listening on the ports "system services" configures.
type doors struct {
	srv  *sshd.Server
	conn *grpc.ClientConn
	done chan struct{}
}

func startDoors(ctx context.Context, log *slog.Logger, socket, stateDir string) (*doors, error) {
	conn, err := grpc.NewClient("unix://"+socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("ssh: %w", err)
	}
	srv, err := sshd.New(sshd.Options{StateDir: stateDir, API: conn, Log: log, Version: version})
	if err != nil {
		conn.Close()
		return nil, err
	}
	d := &doors{srv: srv, conn: conn, done: make(chan struct{})}
	go func() {
		defer close(d.done)
		srv.Run(ctx)
	}()
	return d, nil
}

// register adds the failed-login counter to the metrics.
func (d *doors) register(m *metrics.Metrics) { m.Registry().MustRegister(d.srv.Collector()) }

// wait returns once the services stopped (after ctx is done).
func (d *doors) wait() {
	<-d.done
	d.conn.Close()
}

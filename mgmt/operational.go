package mgmt

import (
	"context"
	"net/netip"
	"os"
	"runtime"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"ipsecgw/config/schema"
	"ipsecgw/daemon"
	"ipsecgw/ike"
	"ipsecgw/mgmt/mgmtpb"
	"ipsecgw/show"
	"ipsecgw/view"
)

// The Operational service: show commands rendered from the live state in
// the Junos layouts (or their XML and JSON), clear commands, events.

func (s opService) Show(ctx context.Context, req *mgmtpb.ShowRequest) (*mgmtpb.ShowReply, error) {
	display := map[mgmtpb.Display]show.Display{mgmtpb.Display_TEXT: show.DisplayText,
		mgmtpb.Display_XML: show.DisplayXML, mgmtpb.Display_JSON: show.DisplayJSON}[req.Display]
	if c, ok := req.Command.(*mgmtpb.ShowRequest_Configuration); ok {
		// Configuration has one form here whatever the display: the
		// brace or set text.
		t, err := withInheritance(s.d, s.d.Store().Committed(), c.Configuration.Format)
		if err != nil {
			return nil, err
		}
		text, err := formatAt(t, c.Configuration.Path, c.Configuration.Format)
		if err != nil {
			return nil, err
		}
		return &mgmtpb.ShowReply{Output: text}, nil
	}
	if r, ok, err := s.clusterShow(ctx, req); ok {
		if err != nil {
			return nil, err
		}
		return &mgmtpb.ShowReply{Output: r.Render(display)}, nil
	}
	reply, err := s.reply(req)
	if err != nil {
		return nil, err
	}
	return &mgmtpb.ShowReply{Output: reply.Render(display)}, nil
}

func (s opService) reply(req *mgmtpb.ShowRequest) (show.Reply, error) {
	cfg := s.d.Config()
	st := s.d.Status()
	v := view.Build(st, cfg, s.now())
	switch c := req.Command.(type) {
	case *mgmtpb.ShowRequest_IkeSecurityAssociations:
		q := c.IkeSecurityAssociations
		peer, err := optionalAddr(q.Address)
		if err != nil {
			return show.Reply{}, err
		}
		if q.Services {
			sas := v.Services.IKE
			if style(q.Style) == show.StyleDetail {
				sas = append(sas, v.Services.Down...)
			}
			return show.ServicesIKESecurityAssociations(sas, show.ServicesIKEQuery{Style: style(q.Style), Peer: peer}), nil
		}
		sas := v.IKE
		if style(q.Style) == show.StyleDetail {
			sas = append(sas, v.Failed...)
		}
		return show.IKESecurityAssociations(sas, show.IKEQuery{Style: style(q.Style), Index: q.Index, Peer: peer}), nil
	case *mgmtpb.ShowRequest_IpsecSecurityAssociations:
		q := c.IpsecSecurityAssociations
		if q.Services {
			return show.ServicesIPsecSecurityAssociations(v.Services.Tunnels), nil
		}
		return show.IPsecSecurityAssociations(v.IPsec, show.IPsecQuery{Style: style(q.Style), Index: q.Index}), nil
	case *mgmtpb.ShowRequest_IpsecStatistics:
		q := c.IpsecStatistics
		if q.Services {
			return show.ServicesIPsecStatistics(v.Services.Statistics), nil
		}
		stats := v.Statistics
		if q.Index != 0 {
			ts, ok := v.TunnelStatistics[q.Index]
			if !ok {
				return show.Reply{}, status.Errorf(codes.NotFound, "error: no tunnel with index %d", q.Index)
			}
			stats = ts
		}
		if q.Detail {
			return show.IPsecStatisticsDetail(stats, dataPlaneView(st)), nil
		}
		return show.IPsecStatistics(stats), nil
	case *mgmtpb.ShowRequest_InactiveTunnels:
		return show.IPsecInactiveTunnels(v.Inactive), nil
	case *mgmtpb.ShowRequest_Interfaces:
		return show.Interfaces(interfaces(cfg, st), show.InterfacesQuery{Name: c.Interfaces.Name, Terse: c.Interfaces.Terse}), nil
	case *mgmtpb.ShowRequest_Pki:
		return s.showPKI(c.Pki)
	case *mgmtpb.ShowRequest_Version:
		host, _ := os.Hostname()
		if cfg.HostName != "" {
			host = cfg.HostName
		}
		return show.Version(show.Software{Hostname: host, Version: s.version, Go: runtime.Version()}), nil
	case *mgmtpb.ShowRequest_Routing:
		return s.routing(c.Routing)
	}
	return show.Reply{}, status.Error(codes.InvalidArgument, "error: no command")
}

func style(s mgmtpb.Style) show.Style {
	switch s {
	case mgmtpb.Style_BRIEF:
		return show.StyleBrief
	case mgmtpb.Style_DETAIL:
		return show.StyleDetail
	}
	return show.StyleDefault
}

func optionalAddr(s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return a, status.Errorf(codes.InvalidArgument, "error: %q is not an IP address", s)
	}
	return a, nil
}

// interfaces describes the configured st0 units: addresses from the
// configuration, packet counts from the SAs bound to each (input: what
// came out of the tunnel, output: what went into it), and the link as the
// daemon keeps it: up, unless it holds the unit down (a VPN that follows
// its unit has no Child SA, or vpn-monitor says it is down).
func interfaces(cfg *schema.Config, st daemon.Status) []show.Interface {
	var out []show.Interface
	down := map[string]bool{}
	for _, name := range st.TunnelsDown {
		down[name] = true
	}
	index := 70 // Junos-like local indexes; stable in configuration order
	for _, ifc := range cfg.Interfaces {
		if ifc.Kind != schema.Tunnel {
			continue
		}
		for _, u := range ifc.Units {
			mtu := daemon.TunnelMTU(ifc, u, cfg.IPsec.VPNs)
			i := show.Interface{Name: u.Name(), Index: index, Up: !down[u.Name()]}
			index++
			for _, sa := range st.SAs {
				if sa.Tunnel != u.Name() {
					continue
				}
				if sa.Direction == "inbound" {
					i.InputPackets += sa.Counters.DecryptedPackets
				} else {
					i.OutputPackets += sa.Counters.EncryptedPackets
				}
			}
			var v4, v6 []netip.Prefix
			for _, a := range u.Addresses {
				if a.Addr().Is4() {
					v4 = append(v4, a)
				} else {
					v6 = append(v6, a)
				}
			}
			if u.Inet || len(v4) > 0 {
				i.Families = append(i.Families, show.Family{Name: "inet", MTU: mtu, Addresses: v4})
			}
			if u.Inet6 || len(v6) > 0 {
				i.Families = append(i.Families, show.Family{Name: "inet6", MTU: mtu, Addresses: v6})
			}
			out = append(out, i)
		}
	}
	return out
}

func (s opService) Clear(ctx context.Context, req *mgmtpb.ClearRequest) (*mgmtpb.ClearReply, error) {
	v := view.Build(s.d.Status(), s.d.Config(), s.now())
	switch c := req.Command.(type) {
	case *mgmtpb.ClearRequest_IkeSecurityAssociations:
		q := c.IkeSecurityAssociations
		peer, err := optionalAddr(q.Address)
		if err != nil {
			return nil, err
		}
		var spi uint64
		if q.Index != 0 {
			for _, sa := range v.IKE {
				if sa.Index == q.Index {
					spi = sa.InitiatorSPI
				}
			}
			if spi == 0 {
				return nil, status.Errorf(codes.NotFound, "error: no IKE SA with index %d", q.Index)
			}
		}
		n := s.d.ClearIKE(func(i ike.SAInfo) bool {
			return (!peer.IsValid() || i.Remote == peer) && (spi == 0 || i.InitiatorSPI == spi)
		})
		return &mgmtpb.ClearReply{Cleared: uint32(n)}, nil
	case *mgmtpb.ClearRequest_IpsecSecurityAssociations:
		var vpns []string
		if idx := c.IpsecSecurityAssociations.Index; idx != 0 {
			name, ok := v.TunnelVPN[idx]
			if !ok {
				return nil, status.Errorf(codes.NotFound, "error: no tunnel with index %d", idx)
			}
			vpns = []string{name}
		}
		return &mgmtpb.ClearReply{Cleared: uint32(s.d.ClearIPsec(vpns))}, nil
	case *mgmtpb.ClearRequest_LocalCertificate:
		return s.clearLocalCertificate(c.LocalCertificate)
	case *mgmtpb.ClearRequest_IpsecStatistics:
		vpn := ""
		if idx := c.IpsecStatistics.Index; idx != 0 {
			name, ok := v.TunnelVPN[idx]
			if !ok {
				return nil, status.Errorf(codes.NotFound, "error: no tunnel with index %d", idx)
			}
			vpn = name
		}
		return &mgmtpb.ClearReply{Cleared: uint32(s.d.ClearStatistics(vpn))}, nil
	case *mgmtpb.ClearRequest_BgpNeighbor:
		return s.clearBGP(c.BgpNeighbor)
	}
	return nil, status.Error(codes.InvalidArgument, "error: no command")
}

var eventTypes = map[string]mgmtpb.EventType{
	"ike-sa-up": mgmtpb.EventType_IKE_SA_UP, "ike-sa-down": mgmtpb.EventType_IKE_SA_DOWN,
	"ike-sa-rekeyed": mgmtpb.EventType_IKE_SA_REKEYED, "ipsec-sa-up": mgmtpb.EventType_IPSEC_SA_UP,
	"ipsec-sa-down": mgmtpb.EventType_IPSEC_SA_DOWN, "ipsec-sa-rekeyed": mgmtpb.EventType_IPSEC_SA_REKEYED,
	"negotiation-failed": mgmtpb.EventType_NEGOTIATION_FAILED, "peer-dead": mgmtpb.EventType_DEAD_PEER,
	"config-committed": mgmtpb.EventType_CONFIG_COMMITTED,
}

func (s opService) Events(req *mgmtpb.EventsRequest, stream mgmtpb.Operational_EventsServer) error {
	ch, stop := s.d.Events().Subscribe()
	defer stop()
	// Headers now: a client that waits for them knows it is subscribed.
	if err := stream.SendHeader(metadata.MD{}); err != nil {
		return err
	}
	for {
		select {
		case <-stream.Context().Done():
			return nil
		case ev, ok := <-ch:
			if !ok {
				return status.Error(codes.Unavailable, "the daemon is stopping")
			}
			if err := stream.Send(&mgmtpb.Event{TimeUnixNano: ev.Time.UnixNano(), Type: eventTypes[ev.Kind],
				Gateway: ev.Gateway, Vpn: ev.VPN, Remote: ev.Remote, Spi: ev.SPI, Reason: ev.Reason}); err != nil {
				return err
			}
		}
	}
}

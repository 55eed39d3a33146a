package daemon

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"ipsecgw/dataplane"
	"ipsecgw/ike"
	"ipsecgw/ike/ikev2"
	"ipsecgw/vpnmon"
)

// SAStatus is one SA in the status file.
type SAStatus struct {
	VPN       string          `json:"vpn"`
	Direction string          `json:"direction"`
	SPI       string          `json:"spi"`
	Tunnel    string          `json:"tunnel"`
	Local     string          `json:"local"`
	Remote    string          `json:"remote"`
	Sequence  uint64          `json:"sequence"`
	Counters  dataplane.Stats `json:"counters"`
	// LastReplay is the last packet an inbound SA refused as a replay
	// (counted in replay-errors): its sequence number against the
	// window's top then tells a duplicate from a late packet, and
	// authenticated says whether it was refused after its ICV verified.
	LastReplay *ReplayRefusal `json:"last-replay-refusal,omitempty"`
	// Selectors are the inner addresses the SA carries (negotiated or
	// configured); none means any.
	Selectors []dataplane.Selector `json:"selectors,omitempty"`
	// PFSGroup is the key exchange method (Diffie-Hellman group number) of
	// the PFS its keys came from, AdditionalKE the additional key
	// exchanges after it (RFC 9370, "ke1 ML-KEM-768"); none for SAs
	// without (manual ones, IKEv2's first Child SA) (childke.go).
	PFSGroup     int      `json:"pfs-group,omitempty"`
	AdditionalKE []string `json:"additional-key-exchange,omitempty"`
	// Lifesize is the SA's lifetime in bytes as it stands (the rekey
	// point lowered at a high rate: dataplane/softbytes.go); nil when it
	// has none.
	Lifesize *dataplane.Lifesize `json:"lifesize,omitempty"`
	// RekeyAt and ExpiresAt are when the IKE engine rekeys the SA (its
	// soft lifetime) and removes it (its hard lifetime), the moments its
	// timers are armed for (salifetime.go). Zero when no engine schedules
	// them here: a manual SA, one resumed from a cluster peer without
	// them, or an inbound SA kept a moment after its Child SA went.
	RekeyAt   time.Time `json:"rekey-at,omitzero"`
	ExpiresAt time.Time `json:"expires-at,omitzero"`
}

// byteLifetime is l, or nil when the SA has no lifetime in bytes.
func byteLifetime(l dataplane.Lifesize) *dataplane.Lifesize {
	if l.Soft == 0 && l.Hard == 0 {
		return nil
	}
	return &l
}

// Status is what the daemon reports on SIGUSR1 (the API and CLI come with
// the management plane).
type Status struct {
	Global dataplane.Stats `json:"global"`
	SAs    []SAStatus      `json:"sas"`
	// IKE lists the IKE SAs, and Failures the last negotiations that
	// failed with their reasons.
	IKE      []ike.SAInfo `json:"ike-sas,omitempty"`
	Failures []ike.SAInfo `json:"ike-failures,omitempty"`
	// Down is the VPNs the daemon runs no negotiation for, by name, with
	// the reason (an IKE version it has no engine for).
	Down map[string]string `json:"down,omitempty"`
	// IKEDrops is the IKE messages the engines dropped, by reason.
	IKEDrops map[string]uint64 `json:"ike-drops,omitempty"`
	// Monitors is the state of the VPNs with vpn-monitor, by name.
	Monitors map[string]vpnmon.Status `json:"vpn-monitors,omitempty"`
	// DataPlane is the raw ESP path (dataplane.go).
	DataPlane DataPlaneStatus `json:"data-plane"`
	// IKEFragments is what the IKEv2 engine counted of fragmentation
	// (RFC 7383; fragments.go).
	IKEFragments *ikev2.FragmentStats `json:"ike-fragments,omitempty"`
	// IKEAbandoned is the initiations of ours the engines gave up because
	// the peer's IKE SA came up first (abandoned.go).
	IKEAbandoned uint64 `json:"ike-abandoned-initiations"`
	// Services is the running configuration's services tunnels
	// (ServiceTunnels, as its commit computed them), in configuration
	// order: what the services show commands list.
	Services []ServiceTunnel `json:"-"`
	// TunnelsDown is the tunnel units (st0.N) whose link the daemon has
	// set down: their VPN has no Child SA, or vpn-monitor says it is down
	// (st0follow.go). Every other configured unit is up.
	TunnelsDown []string `json:"tunnels-down,omitempty"`
}

// ReplayRefusal is SAStatus.LastReplay.
type ReplayRefusal struct {
	Sequence      uint64 `json:"sequence"`
	WindowTop     uint64 `json:"window-top"`
	Authenticated bool   `json:"authenticated"`
}

// Status collects the current counters.
func (d *Daemon) Status() Status {
	var s Status
	if d.engine == nil {
		return s
	}
	s.Global = d.engine.Stats.Snapshot()
	s.DataPlane = d.dataPlaneNow()
	for _, ike := range d.ikeAll() {
		s.IKE = append(s.IKE, ike.SAs()...)
		s.Failures = append(s.Failures, ike.Failures()...)
		for reason, n := range ike.Drops() {
			if s.IKEDrops == nil {
				s.IKEDrops = map[string]uint64{}
			}
			s.IKEDrops[reason] += n
		}
	}
	s.IKEFragments = d.ikeFragments()
	s.IKEAbandoned = d.ikeAbandoned()
	s.Monitors = d.monitor.status()
	s.TunnelsDown = d.st0.linksDown(d.cfg.Load()) // st0follow.go
	if down := *d.down.Load(); len(down) > 0 {
		s.Down = down
	}
	s.Services = *d.services.Load()
	for _, sa := range d.engine.InboundSAs() {
		st := SAStatus{VPN: sa.VPN, Direction: "inbound", SPI: fmt.Sprintf("%#08x", sa.SPI()), Tunnel: sa.Tunnel(),
			Local: sa.Local.String(), Remote: sa.Remote.String(), Sequence: sa.Sequence(), Counters: sa.Counters.Snapshot(),
			Selectors: sa.Selectors, Lifesize: byteLifetime(sa.Lifesize())}
		if r, ok := sa.LastReplay(); ok {
			st.LastReplay = &ReplayRefusal{Sequence: r.Seq, WindowTop: r.Top, Authenticated: r.Authenticated}
		}
		s.SAs = append(s.SAs, st)
	}
	for _, sa := range d.engine.OutboundSAs() {
		s.SAs = append(s.SAs, SAStatus{VPN: sa.VPN, Direction: "outbound", SPI: fmt.Sprintf("%#08x", sa.SPI()), Tunnel: sa.Tunnel(),
			Local: sa.Local.String(), Remote: sa.Remote.String(), Sequence: sa.Sequence(), Counters: sa.Counters.Snapshot(),
			Selectors: sa.Selectors, Lifesize: byteLifetime(sa.Lifesize())})
	}
	d.childKE.annotate(s.SAs)        // childke.go
	timeLifetimes(s.SAs, d.ikeAll()) // salifetime.go
	sort.Slice(s.SAs, func(i, j int) bool {
		if s.SAs[i].VPN != s.SAs[j].VPN {
			return s.SAs[i].VPN < s.SAs[j].VPN
		}
		return s.SAs[i].Direction < s.SAs[j].Direction
	})
	return s
}

// WriteStatus writes the status as JSON to StatusPath, atomically (a reader
// never sees half a file).
func (d *Daemon) WriteStatus() error {
	b, err := json.MarshalIndent(d.Status(), "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(d.opts.StateDir, ".status.json.tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, d.StatusPath())
}

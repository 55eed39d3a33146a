package strongswan

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// IKESA is one IKE SA as charon reports it (swanctl --list-sas). Algorithm
// names are strongSwan's ("AES_CBC", "HMAC_SHA2_256_128", "MODP_2048").
type IKESA struct {
	Name         string // connection name
	UniqueID     int
	Version      int
	State        string // CONNECTING, ESTABLISHED, REKEYING, DELETING, ...
	Initiator    bool
	LocalHost    string
	LocalPort    int
	LocalID      string
	RemoteHost   string
	RemotePort   int
	RemoteID     string
	InitiatorSPI uint64
	ResponderSPI uint64
	NATAny       bool // a NAT (or libipsec's faked one) was detected
	EncrAlg      string
	EncrKeySize  int
	IntegAlg     string // empty for AEAD
	PRFAlg       string
	DHGroup      string
	Children     []ChildSA
}

// ChildSA is one CHILD SA of an IKE SA. SPIIn is the SPI this charon
// receives on, SPIOut the one it sends with; counters are charon's own.
type ChildSA struct {
	Name        string
	UniqueID    int
	ReqID       int
	State       string // INSTALLED, REKEYED, DELETING, ...
	Mode        string // TUNNEL
	Protocol    string // ESP
	Encap       bool   // ESP in UDP
	SPIIn       uint32
	SPIOut      uint32
	EncrAlg     string
	EncrKeySize int
	IntegAlg    string // empty for AEAD
	DHGroup     string // PFS group, empty without
	ESN         bool
	BytesIn     uint64
	PacketsIn   uint64
	BytesOut    uint64
	PacketsOut  uint64
	LocalTS     []string
	RemoteTS    []string
}

// FindChild returns the first CHILD SA with the given configuration name
// and the IKE SA it belongs to.
func FindChild(sas []IKESA, name string) (IKESA, ChildSA, bool) {
	for _, ike := range sas {
		for _, ch := range ike.Children {
			if ch.Name == name {
				return ike, ch, true
			}
		}
	}
	return IKESA{}, ChildSA{}, false
}

// section is one node of vici's message tree as swanctl --pretty prints it:
//
//	name {
//	  key = value
//	  list = [
//	    item
//	  ]
//	  subsection {
//	  }
//	}
type section struct {
	name  string
	keys  map[string]string
	lists map[string][]string
	subs  []*section
}

func newSection(name string) *section {
	return &section{name: name, keys: map[string]string{}, lists: map[string][]string{}}
}

// parsePretty reads swanctl's --pretty output into a tree whose root holds
// one section per message ("list-sa event", "list-sas reply").
func parsePretty(out string) (*section, error) {
	root := newSection("")
	stack := []*section{root}
	var list *string // key of the list being read, if any
	for i, raw := range strings.Split(out, "\n") {
		line := strings.TrimSpace(raw)
		top := stack[len(stack)-1]
		switch {
		case line == "":
		case list != nil:
			if line == "]" {
				list = nil
			} else {
				top.lists[*list] = append(top.lists[*list], line)
			}
		case line == "}":
			if len(stack) == 1 {
				return nil, fmt.Errorf("line %d: \"}\" closes no section", i+1)
			}
			stack = stack[:len(stack)-1]
		case strings.HasSuffix(line, " {"):
			sub := newSection(strings.TrimSuffix(line, " {"))
			top.subs = append(top.subs, sub)
			stack = append(stack, sub)
		case strings.HasSuffix(line, " = ["):
			key := strings.TrimSuffix(line, " = [")
			top.lists[key] = []string{}
			list = &key
		default:
			key, value, ok := strings.Cut(line, " = ")
			if !ok {
				// An empty value prints as "key = " and is trimmed to "key =".
				key, ok = strings.CutSuffix(line, " =")
			}
			if !ok || len(stack) == 1 {
				return nil, fmt.Errorf("line %d: %q is neither a section, a list nor key = value inside a section", i+1, line)
			}
			top.keys[key] = value
		}
	}
	if len(stack) != 1 || list != nil {
		return nil, errors.New("output ends inside a section or list")
	}
	return root, nil
}

// parseSAs turns swanctl --list-sas --pretty output into IKE SAs.
func parseSAs(out string) ([]IKESA, error) {
	root, err := parsePretty(out)
	if err != nil {
		return nil, err
	}
	var sas []IKESA
	for _, msg := range root.subs {
		if msg.name != "list-sa event" {
			continue
		}
		for _, s := range msg.subs {
			ike, err := s.ikeSA()
			if err != nil {
				return nil, fmt.Errorf("IKE SA %s: %w", s.name, err)
			}
			sas = append(sas, ike)
		}
	}
	return sas, nil
}

func (s *section) ikeSA() (IKESA, error) {
	r := fieldReader{s: s}
	ike := IKESA{
		Name:         s.name,
		UniqueID:     r.number("uniqueid"),
		Version:      r.number("version"),
		State:        s.keys["state"],
		Initiator:    s.keys["initiator"] == "yes",
		LocalHost:    s.keys["local-host"],
		LocalPort:    r.number("local-port"),
		LocalID:      s.keys["local-id"],
		RemoteHost:   s.keys["remote-host"],
		RemotePort:   r.number("remote-port"),
		RemoteID:     s.keys["remote-id"],
		InitiatorSPI: r.hex("initiator-spi", 64),
		ResponderSPI: r.hex("responder-spi", 64),
		NATAny:       s.keys["nat-any"] == "yes",
		EncrAlg:      s.keys["encr-alg"],
		EncrKeySize:  r.number("encr-keysize"),
		IntegAlg:     s.keys["integ-alg"],
		PRFAlg:       s.keys["prf-alg"],
		DHGroup:      s.keys["dh-group"],
	}
	for _, sub := range s.subs {
		if sub.name != "child-sas" {
			continue
		}
		for _, c := range sub.subs {
			cr := fieldReader{s: c}
			ch := ChildSA{
				Name:        c.keys["name"],
				UniqueID:    cr.number("uniqueid"),
				ReqID:       cr.number("reqid"),
				State:       c.keys["state"],
				Mode:        c.keys["mode"],
				Protocol:    c.keys["protocol"],
				Encap:       c.keys["encap"] == "yes",
				SPIIn:       uint32(cr.hex("spi-in", 32)),
				SPIOut:      uint32(cr.hex("spi-out", 32)),
				EncrAlg:     c.keys["encr-alg"],
				EncrKeySize: cr.number("encr-keysize"),
				IntegAlg:    c.keys["integ-alg"],
				DHGroup:     c.keys["dh-group"],
				ESN:         c.keys["esn"] == "1",
				BytesIn:     cr.counter("bytes-in"),
				PacketsIn:   cr.counter("packets-in"),
				BytesOut:    cr.counter("bytes-out"),
				PacketsOut:  cr.counter("packets-out"),
				LocalTS:     c.lists["local-ts"],
				RemoteTS:    c.lists["remote-ts"],
			}
			if cr.err != nil {
				return IKESA{}, fmt.Errorf("CHILD SA %s: %w", c.name, cr.err)
			}
			ike.Children = append(ike.Children, ch)
		}
	}
	return ike, r.err
}

// fieldReader converts a section's numeric fields, keeping the first error.
// A missing field reads as zero: charon leaves out what a state lacks.
type fieldReader struct {
	s   *section
	err error
}

func (r *fieldReader) counter(key string) uint64       { return r.parse(key, 10, 64) }
func (r *fieldReader) number(key string) int           { return int(r.parse(key, 10, 31)) }
func (r *fieldReader) hex(key string, bits int) uint64 { return r.parse(key, 16, bits) }

func (r *fieldReader) parse(key string, base, bits int) uint64 {
	v, ok := r.s.keys[key]
	if !ok || v == "" {
		return 0
	}
	n, err := strconv.ParseUint(v, base, bits)
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("%s = %q: want a %d-bit number in base %d", key, v, bits, base)
	}
	return n
}

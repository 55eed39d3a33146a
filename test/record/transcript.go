package main

// The transcript a case writes, and the deterministic random stream the
// engine draws from (whose read offsets the transcript records).

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"sync"

	"ipsecgw/ike/wire"
	"ipsecgw/transform"
)

// Transcript is what one case writes as JSON; ike/keymat's test reads the
// same fields.
type Transcript struct {
	Description  string `json:"description"`
	StrongSwan   string `json:"strongswan"`
	Go           string `json:"go"`
	Recorded     string `json:"recorded"`
	SSProposal   string `json:"strongswan_ike_proposal"`
	SSESP        string `json:"strongswan_esp_proposal"`
	IPsecgwIKE   string `json:"ipsecgw_ike_proposal"`
	IPsecgwESP   string `json:"ipsecgw_ipsec_proposal"`
	PSK          string `json:"psk"`
	Initiator    string `json:"initiator"`
	Responder    string `json:"responder"`
	Rand         Rand   `json:"rand"`
	Messages     []Msg  `json:"messages"`
	CharonLog    string `json:"charon_log"`
	Pcap         string `json:"pcap"`
	ListSAs      string `json:"strongswan_list_sas"`
	IPsecgwChild Child  `json:"ipsecgw_child_sa"`
}

// Rand describes ipsecgw's deterministic random source and where the
// engine drew its values from it.
type Rand struct {
	Algorithm string `json:"algorithm"`
	Seed      string `json:"seed"`
	// Reads are the engine's Read calls, in order: offset and length.
	Reads [][2]int64 `json:"reads"`
	// Offsets of the initiator's SPI, the key exchange's private value
	// (where NewKeyExchange started reading) and Ni in the stream.
	SPIOffset   int64 `json:"spi_offset"`
	KEOffset    int64 `json:"key_exchange_offset"`
	NonceOffset int64 `json:"nonce_offset"`
}

// Msg is one IKE message as it crossed the wire, without the non-ESP
// marker on port 4500.
type Msg struct {
	From string `json:"from"`
	To   string `json:"to"`
	Hex  string `json:"hex"`
}

// Child is the Child SA ipsecgw's engine handed its installer.
type Child struct {
	InboundSPI         string `json:"inbound_spi"`
	OutboundSPI        string `json:"outbound_spi"`
	Encryption         string `json:"encryption"`
	Integrity          string `json:"integrity,omitempty"`
	InboundEncryption  string `json:"inbound_encryption_key"`
	InboundIntegrity   string `json:"inbound_integrity_key,omitempty"`
	OutboundEncryption string `json:"outbound_encryption_key"`
	OutboundIntegrity  string `json:"outbound_integrity_key,omitempty"`
	UDPEncapsulation   bool   `json:"udp_encapsulation"`
}

// stream is the deterministic random source: SHA-256(seed || counter)
// blocks concatenated. It logs every read.
type stream struct {
	mu    sync.Mutex
	seed  []byte
	block uint64
	buf   []byte
	off   int64
	reads [][2]int64
}

func (s *stream) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads = append(s.reads, [2]int64{s.off, int64(len(p))})
	for i := range p {
		if len(s.buf) == 0 {
			h := sha256.New()
			h.Write(s.seed)
			h.Write(binary.BigEndian.AppendUint64(nil, s.block))
			s.buf = h.Sum(nil)
			s.block++
		}
		p[i] = s.buf[0]
		s.buf = s.buf[1:]
	}
	s.off += int64(len(p))
	return len(p), nil
}

// at returns a fresh stream of the same seed positioned at off.
func (s *stream) at(off int64) *stream {
	r := &stream{seed: s.seed}
	if _, err := io.CopyN(io.Discard, r, off); err != nil {
		panic(err)
	}
	return r
}

// locate finds where in the stream the IKE_SA_INIT request's SPI, key
// exchange private value and nonce came from, by trying the engine's read
// offsets.
func locate(r *Rand, s *stream, first Msg) error {
	b, err := hex.DecodeString(first.Hex)
	if err != nil {
		return err
	}
	msg, err := wire.Parse(b)
	if err != nil {
		return err
	}
	ke, okKE := wire.Find[*wire.KE](msg.Payloads)
	nonce, okN := wire.Find[*wire.Nonce](msg.Payloads)
	if msg.Header.Exchange != wire.IKE_SA_INIT || !okKE || !okN {
		return fmt.Errorf("the first message is not an IKE_SA_INIT request with KE and nonce")
	}
	group, ok := wire.Transform{Type: transform.TypeKE, ID: ke.Group}.Lookup()
	if !ok {
		return fmt.Errorf("unknown group %d", ke.Group)
	}
	found := 0
	for _, rd := range r.Reads {
		off := rd[0]
		buf := make([]byte, 32)
		if _, err := io.ReadFull(s.at(off), buf); err != nil {
			return err
		}
		if bytes.Equal(buf[:8], binary.BigEndian.AppendUint64(nil, msg.Header.InitiatorSPI)) && rd[1] == 8 && found&1 == 0 {
			r.SPIOffset, found = off, found|1
		}
		if bytes.Equal(buf, nonce.Data) && found&4 == 0 {
			r.NonceOffset, found = off, found|4
		}
		if found&2 == 0 {
			kex, err := group.NewKeyExchange(s.at(off))
			if err == nil && bytes.Equal(kex.PublicKey(), ke.Data) {
				r.KEOffset, found = off, found|2
			}
		}
	}
	if found != 7 {
		return fmt.Errorf("could not find SPI, private value and nonce in the random stream (found mask %d)", found)
	}
	return nil
}

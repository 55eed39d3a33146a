package schema

import (
	"encoding/hex"
	"fmt"
	"strings"

	"ipsecgw/config"
	"ipsecgw/transform"
)

// Quantum-safe IKEv2: the key manager's postquantum preshared keys (RFC
// 8784), the gateways that use them, and the additional key exchanges (RFC
// 9370) of IKE proposals and IPsec policies. Built after [security ike] and
// [security ipsec], whose model it completes.

// KeyProfile is one [security key-manager profiles NAME static].
type KeyProfile struct {
	Name string
	// KeyID is the PPK_ID both peers know the key by (RFC 8784 §3): the
	// ascii-text as bytes, or the hexadecimal digits decoded.
	KeyID []byte
	// Key is the PPK itself, kept in $9$ form like every secret.
	Key Key
}

// MinPPKBytes is the shortest PPK accepted: RFC 8784 §6 asks for at least
// 256 bits of entropy.
const MinPPKBytes = 32

// PPK is a gateway's ppk-profile: the profile and whether the peer must use
// it.
type PPK struct {
	Profile   *KeyProfile
	Mandatory bool // ppk-mandatory (ipsecgw): no fallback without the PPK
}

// AdditionalKE are the key exchange methods of ADDKE1..ADDKE7 (RFC 9370),
// the transform rows of additional-key-exchange ke1..ke7; nil where not
// configured.
type AdditionalKE [7]*transform.Transform

// Any reports whether at least one additional key exchange is configured.
func (a AdditionalKE) Any() bool {
	for _, t := range a {
		if t != nil {
			return true
		}
	}
	return false
}

// quantum reads the key manager, the gateways' ppk-profile and the
// additional key exchanges.
func (b *builder) quantum(sec *config.Stmt) {
	b.keyManager(child(sec, "key-manager"))
	ike := child(sec, "ike")
	for _, gs := range entries(ike, "gateway") {
		g := find(b.cfg.IKE.Gateways, func(g *IKEGateway) string { return g.Name }, gs.Key)
		if g != nil {
			b.gatewayPPK(gs, g)
		}
	}
	for _, ps := range entries(ike, "proposal") {
		if p := find(b.cfg.IKE.Proposals, func(p *IKEProposal) string { return p.Name }, ps.Key); p != nil {
			p.AdditionalKE = b.additionalKE(child(ps, "additional-key-exchange"))
		}
	}
	b.addKEIKEv1(ike)
	for _, ps := range entries(child(sec, "ipsec"), "policy") {
		if p := find(b.cfg.IPsec.Policies, func(p *IPsecPolicy) string { return p.Name }, ps.Key); p != nil {
			p.AdditionalKE = b.additionalKE(child(child(ps, "perfect-forward-secrecy"), "additional-key-exchange"))
		}
	}
}

func (b *builder) keyManager(km *config.Stmt) {
	for _, ps := range entries(km, "profiles") {
		st := child(ps, "static")
		if st == nil {
			b.fail(ps, fmt.Sprintf("key profile %s has no key", ps.Key), "static { key-id ...; key ...; }")
			continue
		}
		p := &KeyProfile{Name: ps.Key, Key: b.key(child(st, "key"))}
		if id := child(child(st, "key-id"), "ascii-text"); id != nil {
			p.KeyID = []byte(id.Value())
		} else if id := child(child(st, "key-id"), "hexadecimal"); id != nil {
			p.KeyID, _ = hex.DecodeString(strings.TrimPrefix(strings.TrimPrefix(id.Value(), "0x"), "0X"))
		}
		if len(p.KeyID) == 0 {
			b.fail(st, fmt.Sprintf("key profile %s has no key-id", ps.Key), "key-id ascii-text ID or key-id hexadecimal ID (the PPK_ID both peers know)")
		}
		if !p.Key.IsSet() {
			b.fail(st, fmt.Sprintf("key profile %s has no key", ps.Key), "key ascii-text KEY or key hexadecimal KEY")
		} else if kb, err := p.Key.Bytes(); err != nil || len(kb) < MinPPKBytes {
			// Lengths only: the key never reaches a message.
			b.fail(child(st, "key"), fmt.Sprintf("the postquantum preshared key has %d bytes, fewer than %d (RFC 8784 §6 asks for 256 bits of entropy)", len(kb), MinPPKBytes),
				fmt.Sprintf("a key of at least %d characters or %d hexadecimal digits", MinPPKBytes, 2*MinPPKBytes))
		}
		b.cfg.KeyProfiles = append(b.cfg.KeyProfiles, p)
	}
}

func (b *builder) gatewayPPK(gs *config.Stmt, g *IKEGateway) {
	ref := child(gs, "ppk-profile")
	if ref == nil {
		if m := child(gs, "ppk-mandatory"); m != nil {
			b.fail(m, "ppk-mandatory without a ppk-profile", "ppk-profile NAME (a profile under [edit security key-manager profiles])")
		}
		return
	}
	p := find(b.cfg.KeyProfiles, func(p *KeyProfile) string { return p.Name }, ref.Value())
	if p == nil {
		b.fail(ref, fmt.Sprintf("key profile %s is not defined", ref.Value()),
			fmt.Sprintf("the name of a profile under [edit security key-manager profiles] (%s)", names(b.cfg.KeyProfiles, func(p *KeyProfile) string { return p.Name })))
		return
	}
	if g.Version == 1 {
		b.fail(ref, "a postquantum preshared key needs IKEv2 (RFC 8784)", "version v2-only, or no ppk-profile")
		return
	}
	g.PPK = &PPK{Profile: p, Mandatory: has(gs, "ppk-mandatory")}
}

// additionalKE reads "additional-key-exchange { keN METHOD; }".
func (b *builder) additionalKE(s *config.Stmt) AdditionalKE {
	var out AdditionalKE
	for i := range out {
		st := child(s, fmt.Sprintf("ke%d", i+1))
		if st == nil {
			continue
		}
		t, err := KeyExchangeMethod(st.Value())
		if err != nil {
			b.fail(st, err.Error(), "mlkem512, mlkem768, mlkem1024 or a dh-group keyword such as group31")
			continue
		}
		out[i] = t
	}
	return out
}

// KeyExchangeMethod is the transform row of an additional-key-exchange
// keyword: mlkemN or a classical groupN.
func KeyExchangeMethod(keyword string) (*transform.Transform, error) {
	switch keyword {
	case "mlkem512":
		t, _ := transform.Lookup(transform.TypeKE, transform.ML_KEM_512, 0)
		return t, nil
	case "mlkem768":
		t, _ := transform.Lookup(transform.TypeKE, transform.ML_KEM_768, 0)
		return t, nil
	case "mlkem1024":
		t, _ := transform.Lookup(transform.TypeKE, transform.ML_KEM_1024, 0)
		return t, nil
	}
	t, ok := transform.LookupKeyword(transform.IKE, transform.TypeKE, keyword)
	if !ok {
		return nil, fmt.Errorf("%s is not a key exchange method", keyword)
	}
	if t.Insecure {
		return nil, fmt.Errorf("%s is insecure and not implemented by ipsecgw", keyword)
	}
	return t, nil
}

// addKEIKEv1 refuses additional key exchanges in the proposals of an IKEv1
// gateway: RFC 9370 is IKEv2's.
func (b *builder) addKEIKEv1(ike *config.Stmt) {
	for _, gs := range entries(ike, "gateway") {
		g := find(b.cfg.IKE.Gateways, func(g *IKEGateway) string { return g.Name }, gs.Key)
		if g == nil || g.Version != 1 || g.Policy == nil {
			continue
		}
		for _, p := range g.Policy.Proposals {
			if p.AdditionalKE.Any() {
				b.fail(gs, fmt.Sprintf("IKE proposal %s has additional key exchanges, which IKEv1 does not have (RFC 9370 is IKEv2's)", p.Name),
					"version v2-only, or a proposal without additional-key-exchange")
			}
		}
	}
}

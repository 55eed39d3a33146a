package ikev2

import (
	"bytes"

	"ipsecgw/ike"
	"ipsecgw/ike/keymat"
	"ipsecgw/ike/wire"
)

// Postquantum preshared keys (RFC 8784). Both sides say in IKE_SA_INIT that
// they can use a PPK (USE_PPK); the initiator then names its PPK in
// IKE_AUTH (PPK_IDENTITY) and authenticates with keys that mix it in:
//
//	SK_d'  = prf+ (PPK, SK_d)
//	SK_pi' = prf+ (PPK, SK_pi)
//	SK_pr' = prf+ (PPK, SK_pr)
//
// each as long as the key it replaces. When the PPK is optional it also
// sends NO_PPK_AUTH, its AUTH data computed with the plain SK_pi (a MAC
// or a signature, ppkcert.go), for a responder without the PPK; a
// responder that used the PPK answers with an empty PPK_IDENTITY. SK_d' derives every Child SA key and a rekeyed IKE
// SA's SKEYSEED (§2.18), so rekeys keep the PPK without running it again.
//
// The PPK and the keys never reach a log or an error: messages name the
// key manager profile and the PPK_ID only.

// ppkHandshake is the PPK's part of the handshake.
type ppkHandshake struct {
	// offered: both sides sent USE_PPK.
	offered bool
	// plain are SK_d, SK_pi and SK_pr without the PPK: the responder's
	// NO_PPK_AUTH fallback and the initiator's, when the responder did not
	// use the PPK, work with them.
	plainD, plainPI, plainPR keymat.Key
}

// ppkUseNotify adds USE_PPK to an IKE_SA_INIT message when the gateway has
// a PPK.
func (sa *ikeSA) ppkUseNotify(ps []wire.Payload) []wire.Payload {
	if sa.peer.PPK == nil {
		return ps
	}
	return append(ps, &wire.Notify{Type: wire.USE_PPK})
}

// ppkInitResponse is the initiator's reading of the IKE_SA_INIT response:
// with USE_PPK in it the keys mix the PPK in before IKE_AUTH
// (ppkBeforeAuth). It reports false, having failed the SA, when the PPK is
// mandatory and the responder cannot use one.
func (sa *ikeSA) ppkInitResponse(ps []wire.Payload) bool {
	p := sa.peer.PPK
	if p == nil {
		return true
	}
	if _, ok := wire.FindNotify(ps, wire.USE_PPK); !ok {
		if p.Mandatory {
			sa.fail(ike.Failf(ike.CauseAuthentication, "PPK %s is mandatory but the peer does not support PPKs (no USE_PPK in IKE_SA_INIT)", p.Profile))
			return false
		}
		sa.e.log.Info("peer does not support PPKs: continuing without (ppk-mandatory is not set)", "gateway", sa.peer.Gateway, "profile", p.Profile)
		return true
	}
	sa.hs.ppk.offered = true
	return true
}

// ppkBeforeAuth is the initiator's last step before IKE_AUTH: with the
// PPK offered by both sides, the keys (those after any additional key
// exchanges) mix it in.
func (sa *ikeSA) ppkBeforeAuth() error {
	if sa.peer.PPK == nil || !sa.hs.ppk.offered {
		return nil
	}
	return sa.mixPPK()
}

// ppkInitAnswer adds USE_PPK to the responder's IKE_SA_INIT answer when the
// initiator sent it and the gateway has a PPK.
func (sa *ikeSA) ppkInitAnswer(req, resp []wire.Payload) []wire.Payload {
	if sa.peer.PPK == nil {
		return resp
	}
	if _, ok := wire.FindNotify(req, wire.USE_PPK); !ok {
		return resp
	}
	sa.hs.ppk.offered = true
	return sa.ppkUseNotify(resp)
}

// mixPPK replaces SK_d, SK_pi and SK_pr with their PPK forms, keeping the
// plain ones for NO_PPK_AUTH.
func (sa *ikeSA) mixPPK() error {
	k, prf, ppk := sa.keys, sa.suite.PRF, sa.peer.PPK.Key
	d, pi, pr := keymat.Key(nil), keymat.Key(nil), keymat.Key(nil)
	var err error
	if d, err = keymat.PRFPlus(prf, ppk, k.D, len(k.D)); err != nil {
		return err
	}
	if pi, err = keymat.PRFPlus(prf, ppk, k.PI, len(k.PI)); err != nil {
		return err
	}
	if pr, err = keymat.PRFPlus(prf, ppk, k.PR, len(k.PR)); err != nil {
		return err
	}
	h := &sa.hs.ppk
	h.plainD, h.plainPI, h.plainPR = k.D, k.PI, k.PR
	k.D, k.PI, k.PR = d, pi, pr
	sa.ppkUsed = true
	return nil
}

// unmixPPK goes back to the plain keys: the peer authenticated without the
// PPK.
func (sa *ikeSA) unmixPPK() {
	h, k := &sa.hs.ppk, sa.keys
	k.D.Zero()
	k.PI.Zero()
	k.PR.Zero()
	k.D, k.PI, k.PR = h.plainD, h.plainPI, h.plainPR
	h.plainD, h.plainPI, h.plainPR = nil, nil, nil
	sa.ppkUsed = false
}

// dropPlain forgets the plain keys once the PPK is in use for good.
func (h *ppkHandshake) dropPlain() {
	h.plainD.Zero()
	h.plainPI.Zero()
	h.plainPR.Zero()
	h.plainD, h.plainPI, h.plainPR = nil, nil, nil
}

// ppkAuthNotifies adds the initiator's PPK_IDENTITY and, when the PPK is
// optional, NO_PPK_AUTH (AUTH data computed with the plain SK_pi) to its
// IKE_AUTH request.
func (sa *ikeSA) ppkAuthNotifies(inner []wire.Payload, id wire.Identification) ([]wire.Payload, error) {
	p := sa.peer.PPK
	if p == nil || !sa.hs.ppk.offered {
		return inner, nil
	}
	n, err := wire.PPKID{Type: wire.PPK_ID_FIXED, ID: p.ID}.Notify()
	if err != nil {
		return nil, err
	}
	inner = append(inner, n)
	if !p.Mandatory {
		auth, err := sa.noPPKAuthData(id) // ppkcert.go
		if err != nil {
			return nil, err
		}
		inner = append(inner, &wire.Notify{Type: wire.NO_PPK_AUTH, Data: auth})
	}
	return inner, nil
}

// ppkAuthResponse is the initiator's reading of the IKE_AUTH response,
// before the responder's AUTH is checked. It reports false, having failed
// the SA, when the exchange ends here: the responder refused us while we
// used the PPK (the reason then says so), or it did not use the PPK and
// the PPK is mandatory. A responder that did not use it (no PPK_IDENTITY)
// authenticated with the plain keys, which the SA goes back to.
func (sa *ikeSA) ppkAuthResponse(ps []wire.Payload) bool {
	p := sa.peer.PPK
	if p == nil || !sa.hs.ppk.offered {
		return true
	}
	if t, ok := errorNotify(ps); ok && t == wire.AUTHENTICATION_FAILED {
		sa.fail(ike.Failf(ike.CauseAuthentication, "peer refused our authentication (AUTHENTICATION_FAILED) with PPK %s (PPK_ID %q): check the PPK, the %s and identities",
			p.Profile, p.ID, sa.authKind()).Received(uint16(t)))
		return false
	}
	if _, ok := wire.FindNotify(ps, wire.PPK_IDENTITY); ok {
		sa.hs.ppk.dropPlain()
		return true
	}
	if p.Mandatory {
		sa.fail(ike.Failf(ike.CauseAuthentication, "PPK %s is mandatory but the peer authenticated without it (no PPK_IDENTITY in IKE_AUTH)", p.Profile))
		return false
	}
	sa.e.log.Info("peer has no PPK for our PPK_ID: continuing without (ppk-mandatory is not set)", "gateway", sa.peer.Gateway, "profile", p.Profile)
	sa.unmixPPK()
	return true
}

// ppkAuthRequest is the responder's reading of the IKE_AUTH request, before
// the initiator's AUTH is checked. With our PPK_ID in it the keys mix the
// PPK in and AUTH must verify with them: when it does not, but NO_PPK_AUTH
// does with the plain keys, the pre-shared key is right and the PPKs
// differ, which the failure says. Without our PPK_ID the initiator's
// NO_PPK_AUTH stands in for its AUTH, unless the PPK is mandatory. It
// reports false, having answered AUTHENTICATION_FAILED and failed the SA,
// when the exchange ends here.
func (sa *ikeSA) ppkAuthRequest(id uint32, ps []wire.Payload) bool {
	p := sa.peer.PPK
	if p == nil {
		return true
	}
	refuse := func(format string, args ...any) bool {
		sa.answer(id, wire.IKE_AUTH, []wire.Payload{&wire.Notify{Type: wire.AUTHENTICATION_FAILED}})
		sa.fail(ike.Failf(ike.CauseAuthentication, format, args...).Sent(uint16(wire.AUTHENTICATION_FAILED)))
		return false
	}
	if !sa.hs.ppk.offered {
		if p.Mandatory {
			return refuse("PPK %s is mandatory but the peer does not support PPKs (no USE_PPK in IKE_SA_INIT)", p.Profile)
		}
		return true
	}
	ours := false
	if n, ok := wire.FindNotify(ps, wire.PPK_IDENTITY); ok {
		pid, err := wire.ParsePPKID(n.Data)
		ours = err == nil && pid.Type == wire.PPK_ID_FIXED && bytes.Equal(pid.ID, p.ID)
	}
	noPPK, hasNoPPK := wire.FindNotify(ps, wire.NO_PPK_AUTH)
	auth, _ := wire.Find[*wire.Auth](ps)
	idi, okID := wire.Find[*wire.IDi](ps)
	if !ours {
		if p.Mandatory {
			return refuse("PPK %s is mandatory but the peer did not use it (no PPK_IDENTITY with PPK_ID %q)", p.Profile, p.ID)
		}
		if _, named := wire.FindNotify(ps, wire.PPK_IDENTITY); named && !hasNoPPK {
			return refuse("the peer uses a PPK_ID we do not know and sent no NO_PPK_AUTH (its PPK is mandatory); ours is %q (PPK %s)", p.ID, p.Profile)
		}
		if auth != nil && hasNoPPK {
			// RFC 8784 §3: the responder without the initiator's PPK
			// checks NO_PPK_AUTH in place of AUTH, by AUTH's method.
			auth.Data = noPPK.Data
		}
		return true
	}
	if err := sa.mixPPK(); err != nil {
		return refuse("PPK %s: %v", p.Profile, err)
	}
	if auth == nil || !okID {
		return true // the caller refuses it
	}
	if !sa.verifyAuth(wire.Identification(*idi), auth) {
		if hasNoPPK && sa.noPPKAuthVerifies(wire.Identification(*idi), auth, noPPK.Data) { // ppkcert.go
			return refuse("authentication with PPK %s (PPK_ID %q) failed: the peer's PPK differs from ours (its %s is right)", p.Profile, p.ID, sa.authKind())
		}
		return refuse("authentication of the peer with PPK %s (PPK_ID %q) failed: wrong PPK, %s or identity%s", p.Profile, p.ID, sa.authKind(), sa.certRefusal())
	}
	sa.hs.ppk.dropPlain()
	return true
}

// ppkAnswer adds the responder's empty PPK_IDENTITY to its IKE_AUTH answer
// when it used the PPK.
func (sa *ikeSA) ppkAnswer(out []wire.Payload) []wire.Payload {
	if !sa.ppkUsed {
		return out
	}
	return append(out, &wire.Notify{Type: wire.PPK_IDENTITY})
}

// pskAuthWith is the AUTH data over msg with the given SK_p (§2.15), for
// NO_PPK_AUTH.
func (sa *ikeSA) pskAuthWith(msg, nonce, skp []byte, id wire.Identification) ([]byte, error) {
	octets, err := keymat.SignedOctets(sa.suite.PRF, msg, nonce, skp, id.AppendBody(nil))
	if err != nil {
		return nil, err
	}
	return keymat.PSKAuth(sa.suite.PRF, sa.peer.PSK, sa.intAuthOctets(octets))
}

// verifyPSKWith checks AUTH data over msg with the given SK_p.
func (sa *ikeSA) verifyPSKWith(msg, nonce, skp []byte, id wire.Identification, data []byte) bool {
	octets, err := keymat.SignedOctets(sa.suite.PRF, msg, nonce, skp, id.AppendBody(nil))
	if err != nil {
		return false
	}
	ok, err := keymat.VerifyPSKAuth(sa.suite.PRF, sa.peer.PSK, sa.intAuthOctets(octets), data)
	return err == nil && ok
}

// ppkProfile is the profile name shown for the SA ("" without a PPK).
func (sa *ikeSA) ppkProfile() string {
	if sa.peer == nil || sa.peer.PPK == nil {
		return ""
	}
	return sa.peer.PPK.Profile
}

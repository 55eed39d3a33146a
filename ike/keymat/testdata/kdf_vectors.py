#!/usr/bin/env python3
"""Writes kdf_vectors.json, the expected values of the keymat tests that no
published vector covers, computed independently of the Go code: Python's
hmac and hashlib, applied straight from the RFC formulas written out below.

It first re-derives the published vectors the Go tests carry as literals
(the NIST CAVS/ACVP SHA-1 cases for the IKEv2 KDF and the IKEv1 pre-shared
key and signature KDFs, as recorded in libreswan's programs/cavp/test.acvp.*
files), which checks this script and the transcription of those together.

Run from this directory: python3 kdf_vectors.py
"""
import hashlib, hmac, json, struct

# IANA PRF transform IDs (RFC 7296 §3.3.2) of the hashes used.
PRF = {"sha1": 2, "sha256": 5, "sha384": 6, "sha512": 7}
H = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
x = bytes.fromhex

def prf(h, k, *parts):
    return hmac.new(k, b"".join(parts), H[h]).digest()

def prfplus(h, k, s, n):
    # RFC 7296 §2.13: T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n).
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = prf(h, k, t, s, bytes([i]))
        out += t
        i += 1
    return out[:n]

# The inputs of the NIST IKEv2 KDF case (SHA-1, tcId 100), reused for every hash.
ni, nr = x("32b50d5f4a3763f3"), x("9206a04b26564cb1")
gir = x("4b2c1f971981a8ad8d0abeafabf38cf75fc8349c148142465ed9c8b516b8be52")
girnew = x("863f3c9d06efd39d2b907b97f8699e5dd5251ef64a2a176f36ee40c87d4f9330")
spii, spir = x("34c9e7c188868785"), x("3ff77d760d2b2199")

def ikev2(h, dkmlen):
    skeyseed = prf(h, ni + nr, gir)                           # §2.14
    dkm = prfplus(h, skeyseed, ni + nr + spii + spir, dkmlen)  # §2.14
    skd = dkm[:H[h]().digest_size]                            # SK_d: the HMAC's preferred key length
    return {
        "prf": PRF[h], "ni": ni.hex(), "nr": nr.hex(), "gir": gir.hex(), "girNew": girnew.hex(),
        "spii": spii.hex(), "spir": spir.hex(),
        "skeyseed": skeyseed.hex(), "dkm": dkm.hex(),
        "dkmChild": prfplus(h, skd, ni + nr, dkmlen).hex(),                # §2.17
        "dkmChildDH": prfplus(h, skd, girnew + ni + nr, dkmlen).hex(),     # §2.17
        "skeyseedRekey": prf(h, skd, girnew, ni, nr).hex(),                # §2.18
    }

nist = ikev2("sha1", 132)
assert nist["skeyseed"] == "a9a7b222b59f8f48645f28a1db5b5f5d7479cba7"
assert nist["dkm"].startswith("a14293677cc80ff8f9cc0eee30d895da") and nist["dkm"].endswith("57435a7a56cc4")
assert nist["dkmChild"].endswith("a22f3e664994d234cb4") and nist["dkmChildDH"].endswith("9c7054d56fd74c")
assert nist["skeyseedRekey"] == "63e81194946ebd05df7df5ebf5d8750056bf1f1d"

# DKM lengths cover the IKE SA suites the tests split: SHA-256 with AES-256-CBC
# and SHA-256-128 (224), SHA-384 with AES-256-GCM (216), SHA-512 with
# AES-256-CBC and SHA-512-256 (384).
ikev2_cases = [ikev2("sha256", 224), ikev2("sha384", 264), ikev2("sha512", 384)]

# AUTH with a pre-shared key (RFC 7296 §2.15):
#   AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), <InitiatorSignedOctets>)
#   InitiatorSignedOctets = RealMessage1 | NonceRData | prf(SK_pi, RestOfInitIDPayload)
msg = b"IKE_SA_INIT request as sent: " + bytes(range(64))
nonce_r = x("9206a04b26564cb1f00dfeedcafebeef")
idi = x("01000000c0000201")   # ID_IPV4_ADDR, three reserved octets, 192.0.2.1
psk = b"correct horse battery staple"
auth_cases = []
for h in ("sha1", "sha256", "sha512"):
    skpi = bytes(range(1, H[h]().digest_size + 1))
    maced = prf(h, skpi, idi)
    auth_cases.append({
        "prf": PRF[h], "message": msg.hex(), "nonce": nonce_r.hex(), "skp": skpi.hex(), "id": idi.hex(),
        "psk": psk.hex(), "signedOctets": (msg + nonce_r + maced).hex(),
        "auth": prf(h, prf(h, psk, b"Key Pad for IKEv2"), msg, nonce_r, maced).hex(),
    })

# IKEv1 (RFC 2409 §5): the NIST SHA-1 cases.
def v1(h, skeyid, gxy, ckyi, ckyr):
    d = prf(h, skeyid, gxy, ckyi, ckyr, b"\x00")
    a = prf(h, skeyid, d, gxy, ckyi, ckyr, b"\x01")
    e = prf(h, skeyid, a, gxy, ckyi, ckyr, b"\x02")
    return d, a, e

skeyid = prf("sha1", x("75"), x("b9a2d0e922dc66dd") + x("2130166863b5ddef"))
assert skeyid.hex() == "62b04d112877e442fc3282fc37c076997718a0b9"
d, a, e = v1("sha1", skeyid, x("739003ba2c11c982946c65e26acf661fbf8ebb78011a9fead79efa12fe3e71cc"),
             x("83d374c30b3b5082"), x("5afc0da06c728029"))
assert (d.hex(), a.hex(), e.hex()) == ("369e5aad1bdb5faf6a3d929d500cdc236710a9ab",
                                       "588e957d8d790d093b3a39f121473473af78e9bb",
                                       "cd74b0c048219db81384d3fda8f6cda51e398a2b")
assert prf("sha1", x("69a62284195f1680") + x("80c94ba25c8abda5"),
           x("8ba4cbc73c0187301dc19a975823854dbd641c597f637f8d053a83b9514673eb")).hex() == "707197817fb2d90cf54d1842606bdea59b9f4823"

# RFC 2409 App. B, from the PSK case's SKEYID_e: a key no longer than
# SKEYID_e is its first octets; a longer one is K1 | K2 | ... with
# K1 = prf(SKEYID_e, 0) (one zero octet) and Kn+1 = prf(SKEYID_e, Kn).
def expand(h, e, n):
    if n <= len(e):
        return e[:n]
    out, k = b"", b"\x00"
    while len(out) < n:
        k = prf(h, e, k)
        out += k
    return out[:n]
expansion = [{"prf": PRF["sha1"], "skeyidE": e.hex(), "encr": encr, "keyBits": bits, "key": expand("sha1", e, bits // 8).hex()}
             for encr, bits in ((12, 128), (12, 256), (3, 192))]   # ENCR_AES_CBC 128/256, ENCR_3DES

# RFC 2409 §5.5: phase 2 KEYMAT for one SA, ESP (protocol 3), with and
# without PFS, from the PSK case's SKEYID_d:
#   K1 = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)
#   Kn+1 = prf(SKEYID_d, Kn | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)
qni, qnr = x("0102030405060708090a0b0c0d0e0f10"), x("f0e0d0c0b0a090807060504030201000")
gqm = x("deadbeef" * 8)
def keymat(h, skeyid_d, gqm, proto, spi, n):
    seed = gqm + bytes([proto]) + struct.pack(">I", spi) + qni + qnr
    out, k = b"", b""
    while len(out) < n:
        k = prf(h, skeyid_d, k, seed)
        out += k
    return out[:n]
keymats = []
for h, skd in (("sha1", d), ("sha256", prf("sha256", skeyid, b"phase 1 SKEYID_d for SHA-256"))):
    for g, spi in ((b"", 0xc0ffee01), (gqm, 0xc0ffee01), (gqm, 0x0badf00d)):
        keymats.append({"prf": PRF[h], "skeyidD": skd.hex(), "gqm": g.hex(), "protocol": 3, "spi": spi,
                        "ni": qni.hex(), "nr": qnr.hex(), "n": 80, "keymat": keymat(h, skd, g, 3, spi, 80).hex()})

json.dump({
    "source": "kdf_vectors.py: Python hmac/hashlib from the RFC 7296 and RFC 2409 formulas",
    "ikev2": ikev2_cases, "auth": auth_cases, "ikev1Expansion": expansion, "ikev1Keymat": keymats,
}, open("kdf_vectors.json", "w"), indent=1)
print("published SHA-1 vectors re-derived; kdf_vectors.json written")

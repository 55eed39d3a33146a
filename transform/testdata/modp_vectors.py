#!/usr/bin/env python3
"""Expected values for modp_test.go, computed independently of the Go code.

The primes come from OpenSSL's built-in groups (openssl genpkey -genparam
-pkeyopt group:modp_1536 ... dh_2048_256) where OpenSSL has them, and from
the defining formula 2^n - 2^(n-64) - 1 + 2^64 * (floor(2^(n-130) pi) + k)
(RFC 2409 §6, RFC 3526) for the 768- and 1024-bit groups OpenSSL lacks.
Exponentiation is Python's built-in pow. Run: python3 modp_vectors.py
(needs openssl on PATH and the mpmath module).
"""
import hashlib, re, subprocess, tempfile, os
import mpmath

mpmath.mp.prec = 5000

def formula(n, k):
    return 2**n - 2**(n-64) - 1 + 2**64 * (int(mpmath.floor(mpmath.ldexp(mpmath.pi, n-130))) + k)

def openssl(name, alg="DH"):
    with tempfile.TemporaryDirectory() as d:
        pem = os.path.join(d, "g.pem")
        subprocess.run(["openssl", "genpkey", "-genparam", "-algorithm", alg, "-pkeyopt", "group:" + name, "-out", pem], check=True)
        out = subprocess.run(["openssl", "asn1parse", "-in", pem], capture_output=True, text=True, check=True).stdout
    return [int(h, 16) for h in re.findall(r"INTEGER\s+:([0-9A-F]+)", out)]

groups = {
    1: (formula(768, 149686), 2),
    2: (formula(1024, 129093), 2),
    5: tuple(openssl("modp_1536")),
    14: tuple(openssl("modp_2048")),
    15: tuple(openssl("modp_3072")),
    16: tuple(openssl("modp_4096")),
    24: tuple(openssl("dh_2048_256", "DHX")[:2]),
}
assert groups[5][0] == formula(1536, 741804) and groups[14][0] == formula(2048, 124476)

def private(label):
    # 255 bits, below group 24's q (which exceeds 2^255).
    return int(hashlib.sha256(label.encode()).hexdigest(), 16) >> 1

def octets(v, p):
    return v.to_bytes((p.bit_length() + 7) // 8, "big")

def sha(b):
    return hashlib.sha256(b).hexdigest()

xi, xr = private("ipsecgw MODP initiator"), private("ipsecgw MODP responder")
print("xi = %064x" % xi)
print("xr = %064x" % xr)
for gid, (p, g) in groups.items():
    gi, gr, gir = pow(g, xi, p), pow(g, xr, p), pow(pow(g, xr, p), xi, p)
    assert gir == pow(gi, xr, p)
    print("group %d: sha256(g^xi) %s" % (gid, sha(octets(gi, p))))
    print("group %d: sha256(g^xr) %s" % (gid, sha(octets(gr, p))))
    print("group %d: sha256(g^xixr) %s" % (gid, sha(octets(gir, p))))

# Left padding: in group 2, the smallest exponent >= 2 whose public value
# has a zero first octet, and the smallest responder exponent whose shared
# secret with xi has one.
p, g = groups[2]
x = next(x for x in range(2, 100000) if octets(pow(g, x, p), p)[0] == 0)
print("group 2: x = %d, g^x = %s" % (x, octets(pow(g, x, p), p).hex()))
r = next(r for r in range(2, 100000) if octets(pow(pow(g, r, p), xi, p), p)[0] == 0)
print("group 2: r = %d, g^r = %s" % (r, octets(pow(g, r, p), p).hex()))
print("group 2: g^(xi r) = %s" % octets(pow(pow(g, r, p), xi, p), p).hex())

#!/bin/sh
# Makes the certificates of pki's tests with strongSwan's pki tool (an
# independent X.509 implementation): a root CA, an intermediate, RSA and
# ECDSA leaves, an expired leaf, a revoked one (in the intermediate's CRL)
# and a leaf of an unknown CA. Run it in this directory; the tests verify
# at the time written to now.txt, so the files never go stale.
set -eu
pki() { command pki "$@" 2>/dev/null; }
now=$(date -u +%s)
echo "$now" > now.txt
pki --gen --type rsa --size 2048 --outform pem > root.key
pki --self --in root.key --dn "C=US, O=Example, CN=Example Root CA" --ca --lifetime 3650 --outform pem > root.crt
pki --gen --type ecdsa --size 384 --outform pem > inter.key
pki --pub --in inter.key --type ecdsa | pki --issue --cacert root.crt --cakey root.key \
	--dn "C=US, O=Example, CN=Example Intermediate CA" --ca --lifetime 3000 --outform pem > inter.crt
pki --gen --type rsa --size 2048 --outform pem > rsa.key
pki --pub --in rsa.key | pki --issue --cacert inter.crt --cakey inter.key \
	--dn "C=US, O=Example, OU=VPN, CN=gw-rsa.example.net" --san gw-rsa.example.net --san 192.0.2.1 \
	--lifetime 1000 --outform pem > rsa.crt
pki --gen --type ecdsa --size 256 --outform pem > ecdsa.key
pki --pub --in ecdsa.key --type ecdsa | pki --issue --cacert inter.crt --cakey inter.key \
	--dn "C=US, O=Example, OU=VPN, CN=gw-ecdsa.example.net" --san vpn@example.net --san 2001:db8::1 \
	--lifetime 1000 --outform pem > ecdsa.crt
pki --gen --type ecdsa --size 256 --outform pem > expired.key
pki --pub --in expired.key --type ecdsa | pki --issue --cacert inter.crt --cakey inter.key \
	--dn "C=US, O=Example, OU=VPN, CN=expired.example.net" --san expired.example.net \
	--not-before "01.01.20 00:00:00" --not-after "01.01.21 00:00:00" --outform pem > expired.crt
pki --gen --type ecdsa --size 256 --outform pem > revoked.key
pki --pub --in revoked.key --type ecdsa | pki --issue --cacert inter.crt --cakey inter.key \
	--dn "C=US, O=Example, OU=VPN, CN=revoked.example.net" --san revoked.example.net --lifetime 1000 --outform pem > revoked.crt
pki --signcrl --cacert inter.crt --cakey inter.key --cert revoked.crt --reason key-compromise --lifetime 3000 --outform pem > inter.crl
pki --signcrl --cacert root.crt --cakey root.key --lifetime 3000 --outform pem > root.crl
# The same CRL signed with RSASSA-PSS: strongSwan's PSS parameters and signature.
pki --signcrl --cacert root.crt --cakey root.key --rsa-padding pss --digest sha384 --lifetime 3000 --outform pem > root-pss.crl
pki --gen --type ecdsa --size 256 --outform pem > other-root.key
pki --self --in other-root.key --type ecdsa --dn "C=US, O=Other, CN=Other Root CA" --ca --lifetime 3650 --outform pem > other-root.crt
pki --gen --type ecdsa --size 256 --outform pem > unknown.key
pki --pub --in unknown.key --type ecdsa | pki --issue --cacert other-root.crt --cakey other-root.key \
	--dn "C=US, O=Example, OU=VPN, CN=unknown.example.net" --san unknown.example.net --lifetime 1000 --outform pem > unknown.crt
cat root.crt inter.crt > chain.crt

#!/usr/bin/env bash
# Installs what the test suite needs when it is missing: strongSwan with its
# userspace ESP (kernel-libipsec), tshark, iperf3, nftables, iproute2, jq, curl,
# User-Mode Linux, and FRR (zebra, ospfd) with traceroute for seed 001's OSPF
# across the tunnel. Needs root (apt); without root it only reports what
# is missing, and the root-only tests will say loudly that they skipped.
set -euo pipefail

need_cmds=(swanctl tshark iperf3 nft ip ping jq linux pki curl vtysh traceroute etcd)
need_files=(
  /usr/lib/ipsec/charon
  /usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so
  /usr/lib/ipsec/plugins/libstrongswan-curve25519.so
  /usr/lib/ipsec/plugins/libstrongswan-chapoly.so
  /usr/lib/ipsec/plugins/libstrongswan-openssl.so
  /usr/lib/ipsec/plugins/libstrongswan-kdf.so
  /usr/lib/frr/zebra
  /usr/lib/frr/ospfd
)
packages=(strongswan-charon strongswan-swanctl libcharon-extra-plugins
  libstrongswan-extra-plugins libstrongswan-standard-plugins strongswan-pki iproute2 iputils-ping nftables
  iperf3 tshark jq curl user-mode-linux frr traceroute etcd-server)

missing=()
for c in "${need_cmds[@]}"; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
for f in "${need_files[@]}"; do [ -e "$f" ] || missing+=("$f"); done
if [ ${#missing[@]} -eq 0 ]; then
  echo "test dependencies: all present"
  exit 0
fi
echo "test dependencies missing: ${missing[*]}"
if [ "$(id -u)" != 0 ]; then
  echo "WARNING: not root, cannot install them; root-only tests will be skipped" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -q
apt-get install -y -q --no-install-recommends "${packages[@]}"

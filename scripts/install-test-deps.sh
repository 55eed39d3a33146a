#!/usr/bin/env bash
# Installs what the test suite needs when it is missing: strongSwan with its
# userspace ESP (kernel-libipsec), tshark, iperf3, nftables, iproute2, jq, curl,
# User-Mode Linux, FRR (zebra, ospfd, ospf6d, bgpd, bfdd; frr-reload.py from
# frr-pythontools, with which ipsecgw applies routing changes) and traceroute
# for the routing tests, PyEZ, ncclient, Ansible (its junipernetworks.junos
# collection) and the OpenSSH client for the NETCONF and SSH tests. Needs
# root (apt); without root it only reports what
# is missing, and the root-only tests will say loudly that they skipped.
set -euo pipefail

# strongSwan 6 (prebuilt, in ../shared beside the repository; its
# install.sh adds libgmp10 and libssl3): the independent raw-ESP peer
# (kernel-libipsec raw_esp) of the data-plane tests.
sw6="$(cd "$(dirname "$0")/.." && pwd)/../shared/peers/strongswan6/install.sh"
if [ "$(id -u)" = 0 ] && [ -x "$sw6" ]; then
  "$sw6" >/dev/null
elif [ ! -e /opt/ipsecgw-peers/strongswan6/libexec/ipsec/charon ]; then
  echo "WARNING: strongSwan 6 not installed ($sw6 needs root); its tests will be skipped" >&2
fi

need_cmds=(swanctl tshark iperf3 nft ip ping jq linux pki curl vtysh traceroute ssh ssh-keygen ansible-playbook etcd openssl)
need_files=(
  /usr/lib/ipsec/charon
  /usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so
  /usr/lib/ipsec/plugins/libstrongswan-curve25519.so
  /usr/lib/ipsec/plugins/libstrongswan-chapoly.so
  /usr/lib/ipsec/plugins/libstrongswan-openssl.so
  /usr/lib/ipsec/plugins/libstrongswan-kdf.so
  /usr/lib/frr/zebra
  /usr/lib/frr/ospfd
  /usr/lib/frr/ospf6d
  /usr/lib/frr/bgpd
  /usr/lib/frr/bfdd
  /usr/lib/frr/frr-reload.py
  /usr/lib/python3/dist-packages/jnpr/junos/__init__.py
  /usr/lib/python3/dist-packages/ncclient/__init__.py
)
packages=(strongswan-charon strongswan-swanctl libcharon-extra-plugins
  libstrongswan-extra-plugins libstrongswan-standard-plugins strongswan-pki iproute2 iputils-ping nftables
  iperf3 tshark jq curl user-mode-linux frr frr-pythontools traceroute
  python3-junos-eznc python3-ncclient openssh-client ansible etcd-server openssl)

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

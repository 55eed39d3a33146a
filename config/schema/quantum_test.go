package schema

import (
	"strings"
	"testing"

	"ipsecgw/transform"
)

const quantumBase = `
set security key-manager profiles km static key-id ascii-text ppk-id-1
set security key-manager profiles km static key ascii-text "0123456789abcdef0123456789abcdef"
set security key-manager profiles kmhex static key-id hexadecimal 0a0b
set security key-manager profiles kmhex static key hexadecimal 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
set security ike proposal pq authentication-method pre-shared-keys
set security ike proposal pq dh-group group31
set security ike proposal pq additional-key-exchange ke1 mlkem768
set security ike proposal pq additional-key-exchange ke2 mlkem1024
set security ike proposal pq additional-key-exchange ke3 mlkem512
set security ike policy p proposals pq
set security ike policy p pre-shared-key ascii-text secret123
set security ike gateway g ike-policy p
set security ike gateway g address 192.0.2.1
set security ike gateway g version v2-only
set security ike gateway g ppk-profile km
set security ike gateway g ppk-mandatory
set security ipsec proposal e encryption-algorithm aes-256-gcm
set security ipsec policy ip proposals e
set security ipsec policy ip perfect-forward-secrecy keys group31
set security ipsec policy ip perfect-forward-secrecy additional-key-exchange ke1 mlkem768
`

func TestQuantumModel(t *testing.T) {
	c, err := build(t, quantumBase, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.KeyProfiles) != 2 || string(c.KeyProfiles[0].KeyID) != "ppk-id-1" || string(c.KeyProfiles[1].KeyID) != "\x0a\x0b" {
		t.Fatalf("key profiles: %+v", c.KeyProfiles)
	}
	if k, err := c.KeyProfiles[1].Key.Bytes(); err != nil || len(k) != 32 || k[31] != 0x1f {
		t.Fatalf("hexadecimal PPK: %d bytes, %v", len(k), err)
	}
	g := c.IKE.Gateways[0]
	if g.PPK == nil || g.PPK.Profile != c.KeyProfiles[0] || !g.PPK.Mandatory {
		t.Fatalf("gateway PPK: %+v", g.PPK)
	}
	p := c.IKE.Proposals[0]
	if p.AdditionalKE[0] == nil || p.AdditionalKE[0].ID != transform.ML_KEM_768 || p.AdditionalKE[1].ID != transform.ML_KEM_1024 || p.AdditionalKE[2].ID != transform.ML_KEM_512 || p.AdditionalKE[3] != nil {
		t.Fatalf("IKE proposal additional key exchanges: %v", p.AdditionalKE)
	}
	ip := c.IPsec.Policies[0]
	if ip.AdditionalKE[0] == nil || ip.AdditionalKE[0].ID != transform.ML_KEM_768 || !ip.AdditionalKE.Any() {
		t.Fatalf("IPsec policy additional key exchanges: %v", ip.AdditionalKE)
	}
}

func TestQuantumErrors(t *testing.T) {
	for _, tc := range []struct{ name, add, want string }{
		{"undefined profile", "set security ike gateway g ppk-profile nosuch\n",
			"security ike gateway g ppk-profile: key profile nosuch is not defined; expected the name of a profile under [edit security key-manager profiles] (defined: km, kmhex)"},
		{"short key", "set security key-manager profiles km static key ascii-text short\n",
			"security key-manager profiles km static key: the postquantum preshared key has 5 bytes, fewer than 32"},
		{"no key-id", "set security key-manager profiles k2 static key ascii-text 0123456789abcdef0123456789abcdef\n",
			"security key-manager profiles k2 static: key profile k2 has no key-id"},
		{"insecure group", "set security ipsec policy ip perfect-forward-secrecy additional-key-exchange ke2 group1\n",
			"additional-key-exchange ke2: group1 is insecure"},
		{"IKEv1", "set security ike gateway g version v1-only\n",
			"security ike gateway g ppk-profile: a postquantum preshared key needs IKEv2"},
		{"mandatory alone", "delete security ike gateway g ppk-profile\n",
			"security ike gateway g ppk-mandatory: ppk-mandatory without a ppk-profile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := build(t, quantumBase+tc.add, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "t.conf:") {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "0123456789abcdef") || strings.Contains(err.Error(), "short") && tc.name == "short key" {
				t.Fatalf("an error shows the key: %v", err)
			}
		})
	}
}

func TestQuantumIKEv1(t *testing.T) {
	_, err := build(t, quantumBase+"delete security ike gateway g ppk-profile\ndelete security ike gateway g ppk-mandatory\nset security ike gateway g version v1-only\n", Options{})
	if err == nil || !strings.Contains(err.Error(), "security ike gateway g: IKE proposal pq has additional key exchanges, which IKEv1 does not have") {
		t.Fatalf("got %v", err)
	}
}

package v1

import "bytes"

// Well-known Vendor IDs. IKEv1 negotiates its extensions by exchanging
// these in Main Mode's first two messages (or Aggressive Mode's): each
// side sends the ones it speaks, and uses an extension only if the peer
// sent its ID too.
var (
	// VendorNATT is RFC 3947 NAT traversal: MD5("RFC 3947").
	VendorNATT = []byte{0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03, 0x58, 0x45, 0x5c, 0x57, 0x28, 0xf2, 0x0e, 0x95, 0x45, 0x2f}
	// VendorDPD is RFC 3706 dead peer detection.
	VendorDPD = []byte{0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9, 0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00}
	// VendorXAUTH announces XAUTH (draft-ietf-ipsec-isakmp-xauth).
	VendorXAUTH = []byte{0x09, 0x00, 0x26, 0x89, 0xdf, 0xd6, 0xb7, 0x12}
	// VendorNATTDraft02 and VendorNATTDraft02N are the NAT-T draft 02 IDs
	// (MD5 of "draft-ietf-ipsec-nat-t-ike-02" without and with a trailing
	// newline, which implementations sent by mistake and then kept);
	// VendorNATTDraft03 is draft 03's. A peer that sends only these uses
	// payload types 130 and 131 and encapsulation modes 61443 and 61444.
	VendorNATTDraft02  = []byte{0xcd, 0x60, 0x46, 0x43, 0x35, 0xdf, 0x21, 0xf8, 0x7c, 0xfd, 0xb2, 0xfc, 0x68, 0xb6, 0xa4, 0x48}
	VendorNATTDraft02N = []byte{0x90, 0xcb, 0x80, 0x91, 0x3e, 0xbb, 0x69, 0x6e, 0x08, 0x63, 0x81, 0xb5, 0xec, 0x42, 0x7b, 0x1f}
	VendorNATTDraft03  = []byte{0x7d, 0x94, 0x19, 0xa6, 0x53, 0x10, 0xca, 0x6f, 0x2c, 0x17, 0x9d, 0x92, 0x15, 0x52, 0x9d, 0x56}
	// VendorCiscoFragmentation announces Cisco's IKEv1 fragmentation,
	// which strongSwan sends too; it is followed by a 4-byte capability
	// field, so compare its first 16 bytes.
	VendorCiscoFragmentation = []byte{0x40, 0x48, 0xb7, 0xd5, 0x6e, 0xbc, 0xe8, 0x85, 0x25, 0xe7, 0xde, 0x7f, 0x00, 0xd6, 0xc2, 0xd3}
)

var vendorNames = []struct {
	id     []byte
	prefix bool // the ID is followed by version or capability bytes
	name   string
}{
	{VendorNATT, false, "RFC 3947 NAT-T"},
	{VendorDPD, false, "RFC 3706 DPD"},
	{VendorXAUTH, false, "XAUTH"},
	{VendorNATTDraft02, false, "NAT-T draft 02"},
	{VendorNATTDraft02N, false, "NAT-T draft 02"},
	{VendorNATTDraft03, false, "NAT-T draft 03"},
	{VendorCiscoFragmentation, true, "Cisco fragmentation"},
}

// Name returns the name of a well-known Vendor ID, or "" for others.
func (v *VendorID) Name() string {
	for _, n := range vendorNames {
		if bytes.Equal(v.Data, n.id) || n.prefix && bytes.HasPrefix(v.Data, n.id) {
			return n.name
		}
	}
	return ""
}

// Is reports whether the Vendor ID is id.
func (v *VendorID) Is(id []byte) bool { return bytes.Equal(v.Data, id) }

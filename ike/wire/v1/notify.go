package v1

import (
	"encoding/binary"
)

// Notify is the Notification payload (RFC 2408 §3.14):
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!              Domain of Interpretation  (DOI)                  !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!  Protocol-ID  !   SPI Size    !      Notify Message Type      !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~                Security Parameter Index (SPI)                 ~
//	~                       Notification Data                       ~
//
// Notifications about the phase 1 SA carry the cookie pair as a 16-byte
// SPI (CookieSPI); those about an IPsec SA its 4-byte SPI.
type Notify struct {
	DOI      DOI
	Protocol ProtocolID
	SPI      []byte
	Type     NotifyType
	Data     []byte
}

// Delete is the Delete payload (RFC 2408 §3.15): the phase 1 SA, named
// by one 16-byte cookie pair (CookieSPI), or IPsec SAs by their 4-byte
// inbound SPIs.
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!              Domain of Interpretation  (DOI)                  !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	!  Protocol-Id  !   SPI Size    !           # of SPIs           !
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	~               Security Parameter Index(es) (SPI)              ~
type Delete struct {
	DOI      DOI
	Protocol ProtocolID
	SPISize  uint8 // 16 for ISAKMP, 4 for ESP and AH; every SPI has this size
	SPIs     [][]byte
}

func (*Notify) PayloadType() PayloadType { return PayloadNotification }
func (*Delete) PayloadType() PayloadType { return PayloadDelete }

// CookieSPILen is the size of the SPI that names a phase 1 SA in
// notifications and deletes: the initiator cookie, then the responder's.
const CookieSPILen = 16

// CookieSPI is the SPI that names the phase 1 SA of the two cookies.
func CookieSPI(initiator, responder uint64) []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, CookieSPILen), initiator)
	return binary.BigEndian.AppendUint64(b, responder)
}

// Cookies splits a 16-byte SPI into the cookies of the phase 1 SA it
// names.
func Cookies(spi []byte) (initiator, responder uint64, ok bool) {
	if len(spi) != CookieSPILen {
		return 0, 0, false
	}
	return binary.BigEndian.Uint64(spi), binary.BigEndian.Uint64(spi[8:]), true
}

// DPD is an R-U-THERE or R-U-THERE-ACK notification (RFC 3706 §5) for the
// phase 1 SA of the two cookies, with its sequence number.
func DPD(t NotifyType, initiator, responder uint64, seq uint32) *Notify {
	return &Notify{DOI: DOIIPsec, Protocol: ProtocolISAKMP, SPI: CookieSPI(initiator, responder),
		Type: t, Data: binary.BigEndian.AppendUint32(nil, seq)}
}

// DPDSequence returns the sequence number of an R-U-THERE or
// R-U-THERE-ACK notification.
func (n *Notify) DPDSequence() (uint32, bool) {
	if (n.Type != R_U_THERE && n.Type != R_U_THERE_ACK) || len(n.Data) != 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(n.Data), true
}

// DeleteISAKMP is the Delete payload for the phase 1 SA of the cookies.
func DeleteISAKMP(initiator, responder uint64) *Delete {
	return &Delete{DOI: DOIIPsec, Protocol: ProtocolISAKMP, SPISize: CookieSPILen,
		SPIs: [][]byte{CookieSPI(initiator, responder)}}
}

// DeleteIPsec is the Delete payload for IPsec SAs of protocol p (ESP or
// AH) by their inbound SPIs.
func DeleteIPsec(p ProtocolID, spis ...uint32) *Delete {
	d := &Delete{DOI: DOIIPsec, Protocol: p, SPISize: 4}
	for _, spi := range spis {
		d.SPIs = append(d.SPIs, binary.BigEndian.AppendUint32(nil, spi))
	}
	return d
}

func parseNotify(r *reader) (Payload, error) {
	at := r.Offset()
	var doi uint32
	var proto, spiSize uint8
	var typ uint16
	if !r.U32(&doi) || !r.U8(&proto) || !r.U8(&spiSize) || !r.U16(&typ) {
		return nil, r.short(at, "DOI, Protocol-ID, SPI Size and Notify Message Type", 8)
	}
	n := &Notify{DOI: DOI(doi), Protocol: ProtocolID(proto), Type: NotifyType(typ)}
	if !r.Bytes(&n.SPI, int(spiSize)) {
		return nil, r.errorf(at+5, "SPI Size %d, only %d bytes left", spiSize, r.Left())
	}
	n.Data = r.Rest()
	return n, nil
}

func (n *Notify) encode(b *builder) {
	b.U32(uint32(n.DOI))
	b.U8(uint8(n.Protocol))
	b.u8Len(len(n.SPI), "SPI Size")
	b.U16(uint16(n.Type))
	b.Append(n.SPI)
	b.Append(n.Data)
}

func parseDelete(r *reader) (Payload, error) {
	at := r.Offset()
	var doi uint32
	var proto, spiSize uint8
	var count uint16
	if !r.U32(&doi) || !r.U8(&proto) || !r.U8(&spiSize) || !r.U16(&count) {
		return nil, r.short(at, "DOI, Protocol-Id, SPI Size and # of SPIs", 8)
	}
	d := &Delete{DOI: DOI(doi), Protocol: ProtocolID(proto), SPISize: spiSize}
	if count == 0 || spiSize == 0 {
		return nil, r.errorf(at+5, "SPI Size %d and # of SPIs %d: a Delete names at least one SPI", spiSize, count)
	}
	if want := int(count) * int(spiSize); r.Left() != want {
		return nil, r.errorf(at+6, "# of SPIs %d of %d bytes needs %d bytes, %d left", count, spiSize, want, r.Left())
	}
	d.SPIs = make([][]byte, count)
	for i := range d.SPIs {
		r.Bytes(&d.SPIs[i], int(spiSize))
	}
	return d, nil
}

func (d *Delete) encode(b *builder) {
	b.U32(uint32(d.DOI))
	b.U8(uint8(d.Protocol))
	b.U8(d.SPISize)
	if len(d.SPIs) == 0 || d.SPISize == 0 {
		b.fail("SPI Size %d and %d SPIs: a Delete names at least one SPI", d.SPISize, len(d.SPIs))
	}
	b.u16Len(len(d.SPIs), "# of SPIs")
	for i, spi := range d.SPIs {
		if len(spi) != int(d.SPISize) {
			b.fail("SPI %d is %d bytes, SPI Size says %d", i+1, len(spi), d.SPISize)
		}
		b.Append(spi)
	}
}

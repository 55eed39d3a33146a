package show

import "encoding/xml"

// Statistics is the ESP/AH counters of `show security ipsec statistics`:
// of the whole gateway, or of one tunnel for `index N` (the caller picks
// which; the layout is the same).
type Statistics struct {
	ESPEncryptedBytes   uint64 // ESP payload bytes sealed
	ESPDecryptedBytes   uint64 // ESP payload bytes opened
	ESPEncryptedPackets uint64
	ESPDecryptedPackets uint64

	AHInputBytes, AHOutputBytes     uint64 // AH is not implemented; these stay 0
	AHInputPackets, AHOutputPackets uint64

	AHAuthFailures     uint64
	ReplayErrors       uint64 // packets the anti-replay window refused
	ESPAuthFailures    uint64 // ICV did not verify
	ESPDecryptFailures uint64 // decryption failed after a good ICV (padding, length)
	BadHeaders         uint64 // malformed outer or ESP header
	BadTrailers        uint64 // malformed ESP trailer (pad length, next header)
}

// IPsecStatistics is `show security ipsec statistics [index N]`.
func IPsecStatistics(s Statistics) Reply {
	var t text
	writeStatistics(&t, &s)
	return Reply{t.String(), &IPsecTotalStatisticsInformation{IPsecStatisticsBody: statisticsModel(&s)}}
}

// writeStatistics prints the counter block of seed 004 (also the body of
// the services form): values right-aligned to end at column 35.
func writeStatistics(t *text, s *Statistics) {
	t.line("ESP Statistics:")
	t.counter("  ", "Encrypted bytes:", s.ESPEncryptedBytes, 35)
	t.counter("  ", "Decrypted bytes:", s.ESPDecryptedBytes, 35)
	t.counter("  ", "Encrypted packets:", s.ESPEncryptedPackets, 35)
	t.counter("  ", "Decrypted packets:", s.ESPDecryptedPackets, 35)
	t.line("AH Statistics:")
	t.counter("  ", "Input bytes:", s.AHInputBytes, 35)
	t.counter("  ", "Output bytes:", s.AHOutputBytes, 35)
	t.counter("  ", "Input packets:", s.AHInputPackets, 35)
	t.counter("  ", "Output packets:", s.AHOutputPackets, 35)
	t.line("Errors:")
	t.line("  AH authentication failures: %d, Replay errors: %d", s.AHAuthFailures, s.ReplayErrors)
	t.line("  ESP authentication failures: %d, ESP decryption failures: %d", s.ESPAuthFailures, s.ESPDecryptFailures)
	t.line("  Bad headers: %d, Bad trailers: %d", s.BadHeaders, s.BadTrailers)
}

// IPsecTotalStatisticsInformation is the reply of `show security ipsec
// statistics` (RPC get-ipsec-statistics-information).
type IPsecTotalStatisticsInformation struct {
	XMLName xml.Name `xml:"usp-ipsec-total-statistics-information"`
	IPsecStatisticsBody
}

// IPsecStatisticsBody is the three counter groups, shared with the
// services form.
type IPsecStatisticsBody struct {
	ESP    ESPStatistics   `xml:"esp-statistics"`
	AH     AHStatistics    `xml:"ah-statistics"`
	Errors ErrorStatistics `xml:"error-statistics"`
}

// ESPStatistics is the "ESP Statistics" group.
type ESPStatistics struct {
	EncryptedBytes   uint64 `xml:"esp-encrypted-bytes"`
	DecryptedBytes   uint64 `xml:"esp-decrypted-bytes"`
	EncryptedPackets uint64 `xml:"esp-encrypted-packets"`
	DecryptedPackets uint64 `xml:"esp-decrypted-packets"`
}

// AHStatistics is the "AH Statistics" group.
type AHStatistics struct {
	InputBytes    uint64 `xml:"ah-input-bytes"`
	OutputBytes   uint64 `xml:"ah-output-bytes"`
	InputPackets  uint64 `xml:"ah-input-packets"`
	OutputPackets uint64 `xml:"ah-output-packets"`
}

// ErrorStatistics is the "Errors" group.
type ErrorStatistics struct {
	AHAuthenticationFailures  uint64 `xml:"ah-authentication-failures"`
	ReplayErrors              uint64 `xml:"replay-errors"`
	ESPAuthenticationFailures uint64 `xml:"esp-authentication-failures"`
	ESPDecryptionFailures     uint64 `xml:"esp-decryption-failures"`
	BadHeaders                uint64 `xml:"bad-headers"`
	BadTrailers               uint64 `xml:"bad-trailers"`
}

func statisticsModel(s *Statistics) IPsecStatisticsBody {
	return IPsecStatisticsBody{
		ESP: ESPStatistics{s.ESPEncryptedBytes, s.ESPDecryptedBytes, s.ESPEncryptedPackets, s.ESPDecryptedPackets},
		AH:  AHStatistics{s.AHInputBytes, s.AHOutputBytes, s.AHInputPackets, s.AHOutputPackets},
		Errors: ErrorStatistics{
			s.AHAuthFailures, s.ReplayErrors, s.ESPAuthFailures, s.ESPDecryptFailures, s.BadHeaders, s.BadTrailers,
		},
	}
}

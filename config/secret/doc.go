// Package secret implements the Junos "$9$" secret encoding and the Value
// type that carries one configured secret (a pre-shared key, a password)
// through the configuration and into the crypto code.
//
// $9$ is reversible obfuscation, not encryption: anyone holding the string
// can recover the plaintext, with no key. It keeps secrets off screens and
// out of casual logs, which is why Junos shows every secret in that form and
// marks the line "## SECRET-DATA". Treat a $9$ string as sensitive anyway.
//
// The algorithm (reference/junos-ipsec.md §8): after the "$9$" prefix comes
// one salt character, then 0..3 filler characters whose count depends on the
// salt's family, then one group of characters per plaintext byte. Each
// character encodes a gap, the distance in the alphabet from the character
// before it, and a group's gaps are the byte's digits in a mixed-radix
// system whose weights cycle with the byte's position.
//
// Because salt and filler are random, one secret has many encodings. A
// Value encodes once, when the secret is entered, and afterwards always
// shows that one string, so a configuration does not change on every save.
package secret

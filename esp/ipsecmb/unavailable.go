//go:build !(ipsecmb && linux && amd64 && cgo)

package ipsecmb

import (
	"crypto/cipher"
	"errors"
)

var errUnavailable = errors.New("ipsecmb: not available: built without the ipsecmb tag, without cgo, or not on linux/amd64")

// Available reports whether NewGCM works. Never in this build.
func Available() bool { return false }

// Implementation says what NewGCM would use, for the daemon's log.
func Implementation() string {
	return "unavailable (built without -tags ipsecmb and cgo on linux/amd64)"
}

// NewGCM fails in this build: callers use crypto/cipher.
func NewGCM(key []byte) (cipher.AEAD, error) { return nil, errUnavailable }

// SealRun seals nothing in this build: no AEAD is NewGCM's.
func SealRun(aead cipher.AEAD, msgs []Message) bool { return false }

// OpenRun opens nothing in this build: no AEAD is NewGCM's.
func OpenRun(aead cipher.AEAD, msgs []Message) bool { return false }

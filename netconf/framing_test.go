package netconf

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestEOMRoundTrip(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	msgs := []string{"<hello/>", "<rpc>]]></rpc>", "<a>x</a>\n"}
	for _, m := range msgs {
		if err := w.WriteMessage([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	r := NewReader(&b)
	// "]]>" alone inside a message is not the end: only "]]>]]>" is.
	for _, want := range msgs {
		got, err := r.ReadMessage()
		if err != nil || string(got) != want {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
	}
	if _, err := r.ReadMessage(); err != io.EOF {
		t.Fatalf("after the last message: %v, want io.EOF", err)
	}
}

func TestChunkedRoundTrip(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	w.SetChunked()
	msgs := []string{"<rpc/>", strings.Repeat("x", 70000), "\n##\n inside"}
	for _, m := range msgs {
		if err := w.WriteMessage([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	// A message in several chunks (RFC 6242 §4.2's example).
	b.WriteString("\n#4\n<rpc\n#18\n message-id=\"102\"\n\n#79\n     xmlns=\"urn:ietf:params:xml:ns:netconf:base:1.0\">\n  <close-session/>\n</rpc>\n##\n")
	r := NewReader(&b)
	r.SetChunked()
	for _, want := range msgs {
		got, err := r.ReadMessage()
		if err != nil || string(got) != want {
			t.Fatalf("got %.40q, %v; want %.40q", got, err, want)
		}
	}
	got, err := r.ReadMessage()
	if err != nil || !strings.HasPrefix(string(got), "<rpc message-id=\"102\"") || !strings.HasSuffix(string(got), "</rpc>") {
		t.Fatalf("multi-chunk message: %q, %v", got, err)
	}
	if _, err := r.ReadMessage(); err != io.EOF {
		t.Fatalf("after the last message: %v, want io.EOF", err)
	}
}

// TestEveryPrefixFails: a stream cut anywhere inside a message is an
// error, never a message.
func TestEveryPrefixFails(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		var b bytes.Buffer
		w := NewWriter(&b)
		if chunked {
			w.SetChunked()
		}
		w.WriteMessage([]byte("<rpc message-id=\"1\"><get/></rpc>"))
		full := b.Bytes()
		for i := 1; i < len(full); i++ {
			r := NewReader(bytes.NewReader(full[:i]))
			if chunked {
				r.SetChunked()
			}
			if msg, err := r.ReadMessage(); err == nil {
				t.Errorf("chunked=%v: prefix %q gave message %q", chunked, full[:i], msg)
			}
		}
	}
}

func TestFramingErrors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want error
	}{
		{"\n#0\nx\n##\n", ErrFraming},            // chunk size 0
		{"\n#012\nx\n##\n", ErrFraming},          // leading zero
		{"\n#4294967296\n", ErrFraming},          // over RFC 6242's maximum
		{"\n#99999999999\n", ErrFraming},         // too many digits
		{"\n#x\n", ErrFraming},                   // not a number
		{"\n##\n", ErrFraming},                   // end with no chunk
		{"#4\nabcd\n##\n", ErrFraming},           // no leading newline
		{"\n#4\nab", ErrFraming},                 // cut in a chunk
		{"\n#16777217\n", ErrTooLarge},           // one byte over MaxMessage
		{"\n#16777216\n" + "\n#1\n", ErrFraming}, // data missing
	} {
		r := NewReader(strings.NewReader(tc.in))
		r.SetChunked()
		if _, err := r.ReadMessage(); !errors.Is(err, tc.want) {
			t.Errorf("%q: %v, want %v", tc.in, err, tc.want)
		}
	}
	// End-of-message framing: an endless message stops at the bound.
	r := NewReader(io.LimitReader(endless{}, MaxMessage+1<<20))
	if _, err := r.ReadMessage(); !errors.Is(err, ErrTooLarge) {
		t.Errorf("endless message: %v", err)
	}
}

// endless reads 'a' forever (no end-of-message marker ever).
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

func FuzzReadEOM(f *testing.F) {
	f.Add([]byte("<hello/>]]>]]><rpc/>]]>]]>"))
	f.Add([]byte("]]>]]]>]]>"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in))
		total := 0
		for {
			msg, err := r.ReadMessage()
			if err != nil {
				return
			}
			total += len(msg) + len(endOfMessage)
			if total > len(in) {
				t.Fatalf("read %d bytes of messages from %d", total, len(in))
			}
		}
	})
}

func FuzzReadChunked(f *testing.F) {
	f.Add([]byte("\n#6\n<rpc/>\n##\n"))
	f.Add([]byte("\n#1\na\n#2\nbc\n##\n\n#1\nx\n##\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in))
		r.SetChunked()
		for {
			msg, err := r.ReadMessage()
			if err != nil {
				return
			}
			// A message read back written and read again is the same.
			var b bytes.Buffer
			w := NewWriter(&b)
			w.SetChunked()
			w.WriteMessage(msg)
			r2 := NewReader(&b)
			r2.SetChunked()
			again, err := r2.ReadMessage()
			if err != nil || !bytes.Equal(again, msg) {
				t.Fatalf("round trip of %q: %q, %v", msg, again, err)
			}
		}
	})
}

package secret

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// testPlain is long and unusual so that no innocent output contains it.
const testPlain = "correct-horse-battery-staple"

func mustPlain(t *testing.T, plain string, seed byte) Value {
	t.Helper()
	v, err := FromPlain([]byte(plain), seeded(seed))
	if err != nil {
		t.Fatalf("FromPlain: %v", err)
	}
	return v
}

// leaks reports which form of the plaintext out contains, if any.
func leaks(out string) string {
	for _, form := range []string{
		testPlain,
		hex.EncodeToString([]byte(testPlain)),
		strings.ToUpper(hex.EncodeToString([]byte(testPlain))),
		fmt.Sprint([]byte(testPlain)[:8]), // "[99 111 ...": %v of a []byte
		strings.Trim(fmt.Sprint([]byte(testPlain)[:8]), "[]"),
	} {
		if strings.Contains(out, form) {
			return form
		}
	}
	return ""
}

func TestValueNeverShowsPlaintext(t *testing.T) {
	v := mustPlain(t, testPlain, 7)
	type exported struct{ PSK Value }
	type unexported struct{ psk Value }
	type pointer struct{ psk *Value }
	subjects := map[string]any{
		"Value":      v,
		"*Value":     &v,
		"exported":   exported{v},
		"unexported": unexported{v},
		"pointer":    pointer{&v},
		"slice":      []Value{v},
		"map":        map[string]Value{"psk": v},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "% x", "%d", "%T"}
	for name, x := range subjects {
		for _, verb := range verbs {
			out := fmt.Sprintf(verb, x)
			if form := leaks(out); form != "" {
				t.Errorf("Sprintf(%q, %s) = %q contains %q", verb, name, out, form)
			}
		}
		for _, h := range []slog.Handler{
			slog.NewTextHandler(nil, nil), slog.NewJSONHandler(nil, nil),
		} {
			var buf bytes.Buffer
			logger := slog.New(handlerTo(h, &buf))
			logger.Info("configured", "secret", x)
			if form := leaks(buf.String()); form != "" {
				t.Errorf("slog %T of %s = %q contains %q", h, name, buf.String(), form)
			}
		}
		out, err := json.Marshal(x)
		if err != nil {
			t.Errorf("json.Marshal(%s): %v", name, err)
		}
		if form := leaks(string(out)); form != "" {
			t.Errorf("json.Marshal(%s) = %s contains %q", name, out, form)
		}
	}

	// The direct forms show exactly the stored encoding.
	enc := v.Encoded()
	for _, tt := range []struct{ got, want string }{
		{v.String(), enc},
		{v.GoString(), fmt.Sprintf("%q", enc)},
		{fmt.Sprintf("%v", v), enc},
		{fmt.Sprintf("%+v", v), enc},
		{fmt.Sprintf("%#v", v), fmt.Sprintf("%q", enc)},
		{fmt.Sprintf("%q", v), fmt.Sprintf("%q", enc)},
		{fmt.Sprintf("%x", v), hex.EncodeToString([]byte(enc))},
		{fmt.Sprintf("%-40s|", v), fmt.Sprintf("%-40s|", enc)},
		{v.LogValue().String(), enc},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	if text, _ := v.MarshalText(); string(text) != enc {
		t.Errorf("MarshalText = %q, want %q", text, enc)
	}
	if js, _ := json.Marshal(v); string(js) != fmt.Sprintf("%q", enc) {
		t.Errorf("json.Marshal = %s, want %q", js, enc)
	}
}

// handlerTo rebuilds one of the two standard slog handlers writing to buf.
func handlerTo(h slog.Handler, buf *bytes.Buffer) slog.Handler {
	if _, ok := h.(*slog.JSONHandler); ok {
		return slog.NewJSONHandler(buf, nil)
	}
	return slog.NewTextHandler(buf, nil)
}

func TestValueFromEncoded(t *testing.T) {
	const enc = "$9$ewkMLNs2aikPdbkP5Q9CKM8"
	v, err := FromEncoded(enc)
	if err != nil {
		t.Fatalf("FromEncoded: %v", err)
	}
	if v.Encoded() != enc || v.IsZero() {
		t.Errorf("Encoded() = %q, IsZero = %v; want %q, false", v.Encoded(), v.IsZero(), enc)
	}
	p := v.Plain()
	if string(p) != "juniper" {
		t.Fatalf("Plain() = %q, want juniper", p)
	}
	p[0] = 'X'
	if string(v.Plain()) != "juniper" {
		t.Errorf("mutating Plain()'s result changed the Value")
	}
	if _, err := FromEncoded("juniper"); err == nil {
		t.Errorf("FromEncoded accepted a plaintext")
	}
}

func TestValueFromPlain(t *testing.T) {
	plain := []byte(testPlain)
	v, err := FromPlain(plain, seeded(3))
	if err != nil {
		t.Fatalf("FromPlain: %v", err)
	}
	plain[0] = 'X'
	if string(v.Plain()) != testPlain {
		t.Errorf("mutating FromPlain's argument changed the Value")
	}
	enc := v.Encoded()
	if enc != v.Encoded() || enc != v.String() {
		t.Errorf("the encoding is not stable")
	}
	if got, err := Decode(enc); err != nil || string(got) != testPlain {
		t.Errorf("Decode(Encoded()) = %q, %v", got, err)
	}
	if _, err := FromPlain(plain, failingReader{}); err == nil {
		t.Errorf("FromPlain with a failing reader: no error")
	}
}

func TestValueEqual(t *testing.T) {
	a, _ := FromEncoded("$9$ewkMLNs2aikPdbkP5Q9CKM8")
	b, _ := FromEncoded("$9$H.fz9A0hSe36SevW-dk.P")
	c, _ := FromEncoded("$9$.fQ3ApBSrv69rvWLVb.P5Ft0SyeKWXVw")
	empty := mustPlain(t, "", 1)
	var zero Value
	for _, tt := range []struct {
		name string
		x, y Value
		want bool
	}{
		{"two encodings of juniper", a, b, true},
		{"juniper and Juniper_HPE", a, c, false},
		{"zero and zero", zero, zero, true},
		{"zero and a secret", zero, a, false},
		{"zero and the empty secret", zero, empty, false},
		{"the empty secret and itself", empty, empty, true},
	} {
		if got := tt.x.Equal(tt.y); got != tt.want {
			t.Errorf("%s: Equal = %v, want %v", tt.name, got, tt.want)
		}
		if got := tt.y.Equal(tt.x); got != tt.want {
			t.Errorf("%s (swapped): Equal = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestValueZero(t *testing.T) {
	var v Value
	if !v.IsZero() || v.Encoded() != "" || v.Plain() != nil || fmt.Sprint(v) != "" {
		t.Errorf("zero Value: IsZero %v, Encoded %q, Plain %v, Sprint %q",
			v.IsZero(), v.Encoded(), v.Plain(), fmt.Sprint(v))
	}
	if js, _ := json.Marshal(v); string(js) != `""` {
		t.Errorf("json.Marshal(zero) = %s, want \"\"", js)
	}
}

func TestValueJSONRoundTrip(t *testing.T) {
	type gateway struct {
		PSK  Value `json:"psk"`
		None Value `json:"none"`
	}
	in := gateway{PSK: mustPlain(t, testPlain, 9)}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	var out gateway
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("json.Unmarshal(%s): %v", data, err)
	}
	if out.PSK.Encoded() != in.PSK.Encoded() || !out.PSK.Equal(in.PSK) || !out.None.IsZero() {
		t.Errorf("round trip of %s gave %+v", data, out)
	}
	err = json.Unmarshal([]byte(`{"psk":"`+testPlain+`"}`), &out)
	if err == nil {
		t.Errorf("json.Unmarshal accepted a plaintext secret")
	} else if strings.Contains(err.Error(), testPlain) {
		t.Errorf("json.Unmarshal error %q reveals the plaintext", err)
	}
}

package netconf

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// The two framings of RFC 6242 §4. Every message starts in end-of-message
// framing (base:1.0): the document, then "]]>]]>". Once both hellos offer
// base:1.1, chunked framing follows: chunks "\n#LEN\n" + LEN bytes, a
// message ended by "\n##\n".
//
// A reader never holds more than MaxMessage bytes of one message: a
// longer message, a chunk header that is not one, or a stream that ends
// mid-message is an error, after which the session is closed (a framing
// error cannot be answered reliably: the peer's next message boundary is
// unknown).

// MaxMessage bounds one message (a whole configuration in XML is a few
// hundred kilobytes).
const MaxMessage = 16 << 20

// maxChunk is RFC 6242's largest chunk size (4294967295).
const maxChunk = 4294967295

const endOfMessage = "]]>]]>"

var (
	// ErrTooLarge is a message over the size bound.
	ErrTooLarge = errors.New("netconf: message too large")
	// ErrFraming is a stream that does not follow the framing.
	ErrFraming = errors.New("netconf: framing error")
)

// Reader reads messages in the framing in force.
type Reader struct {
	r       *bufio.Reader
	chunked bool
	max     int
}

// NewReader reads end-of-message framed messages from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 64<<10), max: MaxMessage}
}

// SetChunked switches to chunked framing (after the hellos).
func (r *Reader) SetChunked() { r.chunked = true }

// ReadMessage returns the next message. io.EOF means the stream ended
// cleanly between messages.
func (r *Reader) ReadMessage() ([]byte, error) {
	if r.chunked {
		return r.readChunked()
	}
	return r.readEOM()
}

func (r *Reader) readEOM() ([]byte, error) {
	var msg []byte
	for {
		b, err := r.r.ReadSlice('>')
		msg = append(msg, b...)
		if len(msg) > r.max+len(endOfMessage) {
			return nil, ErrTooLarge
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && len(bytes.TrimSpace(msg)) == 0 {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("%w: stream ended inside a message", ErrFraming)
		}
		if bytes.HasSuffix(msg, []byte(endOfMessage)) {
			return msg[:len(msg)-len(endOfMessage)], nil
		}
	}
}

func (r *Reader) readChunked() ([]byte, error) {
	var msg bytes.Buffer
	first := true
	for {
		n, end, err := r.chunkHeader(first)
		if err != nil {
			return nil, err
		}
		if end {
			if first {
				return nil, fmt.Errorf("%w: message with no chunk", ErrFraming)
			}
			return msg.Bytes(), nil
		}
		first = false
		if uint64(msg.Len())+n > uint64(r.max) {
			return nil, ErrTooLarge
		}
		// Copied as it arrives: a chunk header alone allocates nothing.
		if _, err := io.CopyN(&msg, r.r, int64(n)); err != nil {
			return nil, fmt.Errorf("%w: stream ended inside a chunk", ErrFraming)
		}
	}
}

// chunkHeader reads "\n#LEN\n" (returning LEN) or "\n##\n" (end). Before a
// message's first chunk, io.EOF is a clean end of the stream.
func (r *Reader) chunkHeader(first bool) (n uint64, end bool, err error) {
	b, err := r.r.ReadByte()
	if err == io.EOF && first {
		return 0, false, io.EOF
	}
	if err != nil || b != '\n' {
		return 0, false, fmt.Errorf("%w: expected a chunk header", ErrFraming)
	}
	if b, err := r.r.ReadByte(); err != nil || b != '#' {
		return 0, false, fmt.Errorf("%w: expected a chunk header", ErrFraming)
	}
	b, err = r.r.ReadByte()
	if err != nil {
		return 0, false, fmt.Errorf("%w: expected a chunk header", ErrFraming)
	}
	if b == '#' {
		if b, err := r.r.ReadByte(); err != nil || b != '\n' {
			return 0, false, fmt.Errorf("%w: bad end of chunks", ErrFraming)
		}
		return 0, true, nil
	}
	// LEN: 1 to 10 digits, no leading zero, at most maxChunk.
	digits := []byte{b}
	for {
		b, err = r.r.ReadByte()
		if err != nil {
			return 0, false, fmt.Errorf("%w: stream ended in a chunk header", ErrFraming)
		}
		if b == '\n' {
			break
		}
		digits = append(digits, b)
		if len(digits) > 10 {
			return 0, false, fmt.Errorf("%w: chunk size too long", ErrFraming)
		}
	}
	if digits[0] < '1' || digits[0] > '9' {
		return 0, false, fmt.Errorf("%w: bad chunk size", ErrFraming)
	}
	n, perr := strconv.ParseUint(string(digits), 10, 64)
	if perr != nil || n > maxChunk {
		return 0, false, fmt.Errorf("%w: bad chunk size", ErrFraming)
	}
	return n, false, nil
}

// Writer writes messages in the framing in force.
type Writer struct {
	w       io.Writer
	chunked bool
}

// NewWriter writes end-of-message framed messages to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// SetChunked switches to chunked framing.
func (w *Writer) SetChunked() { w.chunked = true }

// WriteMessage writes msg as one message (one chunk when chunked).
func (w *Writer) WriteMessage(msg []byte) error {
	var b bytes.Buffer
	if w.chunked {
		if len(msg) == 0 {
			return errors.New("netconf: empty message")
		}
		fmt.Fprintf(&b, "\n#%d\n", len(msg))
		b.Write(msg)
		b.WriteString("\n##\n")
	} else {
		b.Write(msg)
		b.WriteString(endOfMessage)
	}
	_, err := w.w.Write(b.Bytes())
	return err
}

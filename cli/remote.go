package cli

import (
	"context"
	"io"

	"golang.org/x/term"
)

// RunRemote runs an interactive session on rw, a remote terminal of width
// x height characters (an SSH channel with a pty): Run with the size known,
// and changed as each [width, height] arrives on resized (nil: fixed). The
// caller closes resized once the session has returned.
func (s *Session) RunRemote(ctx context.Context, rw io.ReadWriter, width, height int, resized <-chan [2]int) error {
	s.resized = resized
	return s.run(ctx, rw, width, height)
}

// followSize applies each new size to t until sizes is closed.
func followSize(t *term.Terminal, sizes <-chan [2]int) {
	for sz := range sizes {
		if sz[0] > 0 && sz[1] > 0 {
			t.SetSize(sz[0], sz[1])
		}
	}
}

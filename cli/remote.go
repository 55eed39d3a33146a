package cli

import (
	"context"
	"io"
)

// RunRemote runs an interactive session on rw, a remote terminal of width
// x height characters (an SSH channel with a pty): Run with the size known.
func (s *Session) RunRemote(ctx context.Context, rw io.ReadWriter, width, height int) error {
	return s.run(ctx, rw, width, height)
}

package sshd

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"

	"golang.org/x/crypto/ssh"

	"ipsecgw/access"
	"ipsecgw/cli"
	"ipsecgw/config/schema"
)

// A session channel asks for one of three things, as with any sshd:
//
//	shell      the CLI, interactive (with a pty) or reading commands from
//	           the channel (without one)
//	exec       one CLI line (commands separated by ";"), its output, and
//	           the exit status 1 when it failed
//	subsystem  "netconf"
//
// The NETCONF port offers only the netconf subsystem.

func (s *Server) serveChannels(service string, sc *ssh.ServerConn, chans <-chan ssh.NewChannel, name string) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only session channels")
			continue
		}
		ch, reqs, err := nc.Accept()
		if err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.session(service, sc, ch, reqs, name)
		}()
	}
}

// pty is what a "pty-req" asked for.
type pty struct {
	ok            bool
	width, height int
}

func (s *Server) session(service string, sc *ssh.ServerConn, ch ssh.Channel, reqs <-chan *ssh.Request, name string) {
	defer ch.Close()
	var term pty
	started := false
	done := make(chan uint32, 1)
	// resized carries window-change sizes to the CLI's line editor; it is
	// closed when the session ends (the CLI has returned by then or is
	// ending with the channel).
	resized := make(chan [2]int, 4)
	defer close(resized)
	for {
		var req *ssh.Request
		select {
		case r, ok := <-reqs:
			if !ok {
				return
			}
			req = r
		case status := <-done:
			exitStatus(ch, status)
			return
		}
		// The user is looked up at every start: a commit may have removed
		// them or changed their class since they logged in.
		u := s.system().User(name)
		switch {
		case req.Type == "pty-req" && !started:
			term = parsePty(req.Payload)
			req.Reply(term.ok, nil)
		case req.Type == "window-change":
			if w, h, ok := parseWindowChange(req.Payload); ok {
				select {
				case resized <- [2]int{w, h}:
				default: // the editor is behind: this size is skipped
				}
			}
			req.Reply(true, nil)
		case req.Type == "env":
			// No environment reaches the CLI.
			req.Reply(true, nil)
		case started || u == nil:
			req.Reply(false, nil)
		case req.Type == "subsystem" && subsystemName(req.Payload) == "netconf":
			req.Reply(true, nil)
			started = true
			go func() {
				err := s.netconf.Serve(context.Background(), ch, u, func() { sc.Close() })
				if err != nil {
					s.log.Info("netconf session ended", "user", u.Name, "err", err)
				}
				done <- 0
			}()
		case service != "ssh":
			req.Reply(false, nil)
		case req.Type == "shell":
			req.Reply(true, nil)
			started = true
			go func() { done <- s.shell(ch, u, term, resized) }()
		case req.Type == "exec":
			cmd, ok := sshString(req.Payload)
			req.Reply(ok, nil)
			if !ok {
				return
			}
			started = true
			go func() { done <- s.exec(ch, u, cmd) }()
		default:
			req.Reply(false, nil)
		}
	}
}

// cliSession is a CLI session of user u through the API, with u's
// permissions.
func (s *Server) cliSession(u *schema.User) *cli.Session {
	return cli.NewSession(access.Config(s.cfg, u), access.Operational(s.op, u), u.Name, s.hostName())
}

func (s *Server) shell(ch ssh.Channel, u *schema.User, term pty, resized <-chan [2]int) uint32 {
	ctx := context.Background()
	sess := s.cliSession(u)
	if term.ok {
		if err := sess.RunRemote(ctx, ch, term.width, term.height, resized); err != nil {
			s.log.Debug("cli session", "user", u.Name, "err", err)
		}
		return 0
	}
	failed, _ := sess.RunLines(ctx, ch, ch)
	if failed > 0 {
		return 1
	}
	return 0
}

func (s *Server) exec(ch ssh.Channel, u *schema.User, cmd string) uint32 {
	sess := s.cliSession(u)
	if err := sess.RunCommands(context.Background(), cmd, ch); err != nil {
		fmt.Fprintln(ch.Stderr(), err.Error())
		return 1
	}
	return 0
}

func exitStatus(ch ssh.Channel, status uint32) {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], status)
	ch.SendRequest("exit-status", false, b[:])
	ch.CloseWrite()
}

// sshString reads an SSH string (uint32 length, bytes) that fills b.
func sshString(b []byte) (string, bool) {
	if len(b) < 4 {
		return "", false
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) != uint64(len(b)-4) {
		return "", false
	}
	return string(b[4:]), true
}

func subsystemName(b []byte) string {
	name, _ := sshString(b)
	return name
}

// parseWindowChange reads a "window-change": width and height in
// characters, then in pixels (RFC 4254 §6.7).
func parseWindowChange(b []byte) (w, h int, ok bool) {
	if len(b) < 16 {
		return 0, 0, false
	}
	return int(binary.BigEndian.Uint32(b)), int(binary.BigEndian.Uint32(b[4:])), true
}

// parsePty reads a "pty-req": TERM, width and height in characters, width
// and height in pixels, modes (RFC 4254 §6.2).
func parsePty(b []byte) pty {
	if len(b) < 4 {
		return pty{}
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(len(b)) < 4+uint64(n)+8 {
		return pty{}
	}
	rest := b[4+n:]
	return pty{ok: true, width: int(binary.BigEndian.Uint32(rest)), height: int(binary.BigEndian.Uint32(rest[4:]))}
}

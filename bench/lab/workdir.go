package lab

import (
	"flag"
	"os"
)

// The load benchmarks that run ipsecgw daemons (bench ike, bench cluster)
// take the same two settings for where they run: the directory their
// configurations and logs go in, and the ipsecgw binary. These give them
// one meaning.

// WorkFlags registers -dir and -ipsecgw into dir and binary; daemons says
// what the binary runs as ("the responder daemon").
func WorkFlags(fs *flag.FlagSet, dir, binary *string, daemons string) {
	fs.StringVar(dir, "dir", "", "directory for configurations and logs (default: a temporary one, removed after a run that succeeded)")
	fs.StringVar(binary, "ipsecgw", "", "ipsecgw binary for "+daemons+" (default: this program)")
}

// Work fills in what -ipsecgw and -dir (WorkFlags) leave out: this
// program as the binary, and a new temporary directory named for the
// benchmark, readable by all (the daemons and tools it starts read their
// files from it). done removes that temporary directory after a run that
// succeeded; a failed run's logs stay, and a -dir given is kept.
func Work(name string, dir, binary *string) (done func(ok bool), err error) {
	if *binary == "" {
		if *binary, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	if *dir != "" {
		return func(bool) {}, nil
	}
	if *dir, err = os.MkdirTemp("", "ipsecgw-bench-"+name+"-"); err != nil {
		return nil, err
	}
	os.Chmod(*dir, 0o755)
	temp := *dir
	return func(ok bool) {
		if ok {
			os.RemoveAll(temp)
		}
	}, nil
}

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

// Binary is the ipsecgw binary a benchmark runs: path, or when that is
// empty this program.
func Binary(path string) (string, error) {
	if path != "" {
		return path, nil
	}
	return os.Executable()
}

// WorkDir is a benchmark's directory: dir when given (kept), else a new
// temporary one named for the benchmark, readable by all (the daemons
// and tools it starts read their files from it). done removes a
// temporary one after a run that succeeded; a failed run's logs stay.
func WorkDir(dir, name string) (_ string, done func(ok bool), err error) {
	if dir != "" {
		return dir, func(bool) {}, nil
	}
	if dir, err = os.MkdirTemp("", "ipsecgw-bench-"+name+"-"); err != nil {
		return "", nil, err
	}
	os.Chmod(dir, 0o755)
	return dir, func(ok bool) {
		if ok {
			os.RemoveAll(dir)
		}
	}, nil
}

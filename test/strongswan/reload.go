package strongswan

import (
	"fmt"
	"os"
	"path/filepath"
)

// Reload replaces the running charon's connections and secrets with cfg's,
// as an operator fixing a configuration would: it rewrites swanctl.conf and
// runs swanctl --load-all. Established SAs stay; a connection whose IKE
// parameters did not change keeps its IKE SAs, and only its changed
// children are replaced. cfg.Charon (strongswan.conf) is not reloaded:
// that needs a new charon.
func (c *Charon) Reload(cfg Config) error {
	if err := cfg.validate(); err != nil {
		return fmt.Errorf("strongswan: invalid Config for %s:\n%w", c.ns, err)
	}
	path := filepath.Join(c.dir, "swanctl.conf")
	if err := os.WriteFile(path, []byte(cfg.swanctlConf()), 0o600); err != nil {
		return fmt.Errorf("strongswan: %w", err)
	}
	out, err := c.Swanctl("--load-all", "--noprompt", "--file", path)
	if err == nil {
		err = loadFailure(out)
	}
	if err != nil {
		return fmt.Errorf("strongswan: reloading %s into charon in %s: %w\n%s", path, c.ns, err, out)
	}
	return nil
}

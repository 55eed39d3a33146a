package daemon

import "ipsecgw/pki"

// PKI is the store of keys, local certificates, CA certificates and CRLs
// in the state directory (request security pki ...). The IKE engines take
// their certificates and trust anchors from it.
func (d *Daemon) PKI() *pki.Store { return d.pki }

// openPKI opens the store; a store that does not read back (a damaged
// file) stops the daemon from starting, with the file named.
func (d *Daemon) openPKI() (err error) {
	d.pki, err = pki.Open(d.opts.StateDir, pki.Options{})
	return err
}

package daemon

import (
	"net"
	"strings"
	"testing"

	"ipsecgw/config/schema"
)

// TestCheckServicePorts: a commit that moves SSH or NETCONF to a port
// another program holds fails, naming the statement; a port the previous
// configuration already used (ours) and a free port pass.
func TestCheckServicePorts(t *testing.T) {
	busy, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	free, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	freePort := free.Addr().(*net.TCPAddr).Port
	free.Close()

	withSSH := func(port int) *schema.Config {
		c := &schema.Config{}
		c.System.SSH = &schema.MgmtService{Port: port}
		return c
	}
	withNETCONF := func(port int) *schema.Config {
		c := &schema.Config{}
		c.System.NETCONF = &schema.MgmtService{Port: port}
		return c
	}
	if err := checkServicePorts(nil, withSSH(busyPort)); err == nil || !strings.Contains(err.Error(), "system services ssh port") {
		t.Errorf("ssh on a busy port: %v", err)
	}
	if err := checkServicePorts(withSSH(freePort), withNETCONF(busyPort)); err == nil || !strings.Contains(err.Error(), "system services netconf ssh port") {
		t.Errorf("netconf on a busy port: %v", err)
	}
	if err := checkServicePorts(withSSH(busyPort), withSSH(busyPort)); err != nil {
		t.Errorf("a port the previous configuration held: %v", err)
	}
	if err := checkServicePorts(withNETCONF(busyPort), withSSH(busyPort)); err != nil {
		t.Errorf("a port moving from NETCONF to SSH: %v", err)
	}
	if err := checkServicePorts(nil, withSSH(freePort)); err != nil {
		t.Errorf("a free port: %v", err)
	}
}

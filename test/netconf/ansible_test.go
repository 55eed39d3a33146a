package netconf

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const ansibleInventory = `[gateways]
gw1 ansible_host=198.51.100.1 ansible_port=830 ansible_user=alice ansible_password=secret123

[gateways:vars]
ansible_connection=ansible.netcommon.netconf
ansible_network_os=junipernetworks.junos.junos
`

const ansiblePlaybook = `- hosts: gateways
  gather_facts: false
  tasks:
    - name: facts
      junipernetworks.junos.junos_facts:
        gather_subset: [min]
      register: facts
    - debug:
        msg: "HOSTNAME={{ facts.ansible_facts.ansible_net_hostname }} VERSION={{ facts.ansible_facts.ansible_net_version }}"
    - name: a change
      junipernetworks.junos.junos_config:
        lines:
          - set system host-name gw1-ansible
        comment: from ansible
`

// TestAnsible: Debian's Ansible with its junipernetworks.junos collection
// reads facts (junos_facts) and commits a change (junos_config) over
// NETCONF.
func TestAnsible(t *testing.T) {
	l := newLab(t)
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		t.Fatalf("ansible-playbook is missing (Debian's ansible; scripts/install-test-deps.sh installs it): %v", err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "inventory"), []byte(ansibleInventory), 0o600)
	os.WriteFile(filepath.Join(dir, "play.yml"), []byte(ansiblePlaybook), 0o600)
	cmd := exec.Command("ip", "netns", "exec", l.net.Name("client"), "timeout", "120", "ansible-playbook", "-i", filepath.Join(dir, "inventory"), filepath.Join(dir, "play.yml"))
	cmd.Env = append(os.Environ(), "HOME="+dir, "ANSIBLE_HOST_KEY_CHECKING=False", "ANSIBLE_NOCOLOR=1", "ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ansible-playbook: %v\n%s\ngw1:\n%s", err, out, l.log(l.gw1))
	}
	t.Logf("ansible-playbook:\n%s", out)
	if !strings.Contains(string(out), "HOSTNAME=gw1 ") || !strings.Contains(string(out), "changed=1") {
		t.Errorf("ansible-playbook:\n%s", out)
	}
	if got := l.cli("show configuration system host-name"); !strings.Contains(got, "host-name gw1-ansible;") {
		t.Errorf("the change did not reach the configuration: %s", got)
	}
}

package config

import "testing"

// TestZonesAsJunosPrintsThem: security zones written as Junos's "show"
// prints them (a block of interfaces, a block of system services) parse
// to the same tree as the set commands and as the one-line form, and
// print back in Junos's form.
func TestZonesAsJunosPrintsThem(t *testing.T) {
	set := mustParse(t, `set security zones security-zone trust host-inbound-traffic system-services all
set security zones security-zone trust host-inbound-traffic system-services ftp except
set security zones security-zone trust host-inbound-traffic protocols bgp
set security zones security-zone trust interfaces st0.1
set security zones security-zone trust interfaces gw-h1.0
set security zones security-zone untrust interfaces gw-p1.0 host-inbound-traffic system-services ike
set security zones security-zone untrust interfaces gw-p1.0 host-inbound-traffic system-services ping
`)
	junos := `security {
    zones {
        security-zone trust {
            host-inbound-traffic {
                system-services {
                    all;
                    ftp {
                        except;
                    }
                }
                protocols {
                    bgp;
                }
            }
            interfaces {
                st0.1;
                gw-h1.0;
            }
        }
        security-zone untrust {
            interfaces {
                gw-p1.0 {
                    host-inbound-traffic {
                        system-services {
                            ike;
                            ping;
                        }
                    }
                }
            }
        }
    }
}
`
	oneLine := `security {
    zones {
        security-zone trust {
            host-inbound-traffic {
                system-services all;
                system-services ftp except;
                protocols bgp;
            }
            interfaces st0.1;
            interfaces gw-h1.0;
        }
        security-zone untrust {
            interfaces gw-p1.0 {
                host-inbound-traffic {
                    system-services ike;
                    system-services ping;
                }
            }
        }
    }
}
`
	for name, src := range map[string]string{"Junos's form": junos, "one-line form": oneLine} {
		if tr := mustParse(t, src); !tr.EqualIgnoringAnnotations(set) {
			t.Errorf("%s parses to another tree:\n%s", name, FormatSet(tr.Root))
		}
	}
	if got := FormatBrace(set.Root); got != junos {
		t.Errorf("printed as\n%s\nwant\n%s", got, junos)
	}
}

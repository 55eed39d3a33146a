package show

import "encoding/xml"

// Software is what `show version` reports: the box and the build running on
// it. The caller measures the Go version (runtime.Version()) so that the
// renderer stays a function of its arguments.
type Software struct {
	Hostname string // the system host-name
	Version  string // the ipsecgw release ("1.4.0", "v0.0.0-20250101-abcdef")
	Go       string // the Go toolchain it was built with ("go1.26.8")
}

// productName is ipsecgw's Model line and product-model/product-name.
const productName = "ipsecgw"

// Version is `show version`. The text names ipsecgw and Go where Junos
// names its packages; the XML keeps Junos's elements, with our release in
// junos-version because that is where automation (PyEZ facts, Ansible's
// junos_facts) looks for the version of the box, and each component as a
// package-information.
func Version(s Software) Reply {
	var t text
	t.line("Hostname: %s", s.Hostname)
	t.line("Model: %s", productName)
	t.line("ipsecgw version: %s", s.Version)
	t.line("Go: %s", s.Go)
	return Reply{t.String(), &SoftwareInformation{
		HostName: s.Hostname, ProductModel: productName, ProductName: productName,
		JunosVersion: s.Version,
		Packages: []PackageInformation{
			{Name: "ipsecgw", Comment: "ipsecgw version: " + s.Version},
			{Name: "go", Comment: "Go: " + s.Go},
		},
	}}
}

// SoftwareInformation is the reply of `show version` (RPC
// get-software-information).
type SoftwareInformation struct {
	XMLName      xml.Name             `xml:"software-information"`
	HostName     string               `xml:"host-name"`
	ProductModel string               `xml:"product-model"`
	ProductName  string               `xml:"product-name"`
	JunosVersion string               `xml:"junos-version"`
	Packages     []PackageInformation `xml:"package-information"`
}

// PackageInformation is one component of the build, as Junos lists its
// packages: a short name and the line that describes it.
type PackageInformation struct {
	Name    string `xml:"name"`
	Comment string `xml:"comment"`
}

package config

// chassis high-availability: Junos Multinode High Availability words,
// extended to any number of nodes sharing one etcd (package cluster). A
// services redundancy group (SRG) owns virtual IPs and the IKE gateways whose
// local-address is one of them; one live node owns each SRG at a time.
var highAvailability = container("high-availability", "Multinode high availability (nodes sharing etcd)",
	leaf("lease-ttl", "Seconds an owner's etcd lease lives without renewal (default 2)", uintRange(1, 60)),
	list("node", "Cluster node", uintRange(1, 255),
		leaf("address", "Node's address on the shared segment", typeIP),
	),
	list("services-redundancy-group", "Services redundancy group (SRG)", uintRange(1, 1000),
		list("virtual-ip", "Virtual IP the owner of the group adds and announces", uintRange(1, 64),
			leaf("ip", "Address and prefix length", typeIfAddr),
			leaf("interface", "Interface the address is added to", typeIfName),
		),
		leafList("managed-services", "Services the group carries", enum("ipsec"), 0),
		list("node", "Node's preference for owning the group", uintRange(1, 255),
			leaf("activeness-priority", "Higher is preferred (1..254)", uintRange(1, 254)),
		).oneline(),
		flag("preemption", "Give the group back to a preferred node when it returns"),
	),
)

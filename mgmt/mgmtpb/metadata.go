package mgmtpb

// UserMetadata is the request metadata that names the user a client acts
// for (the SSH and NETCONF doors set it for their logged-in users), so
// that a commit is recorded under that name. The API's socket admits only
// the daemon's owner: the name attributes a change, it does not
// authenticate anyone.
const UserMetadata = "ipsecgw-user"

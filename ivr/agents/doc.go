// Package agents provides the IVR's directory of skill groups and human
// agents, and the routing that hands a caller to one of them: the longest
// idle available agent of the caller's skill group, or, when none is free,
// a place in the group's FIFO queue until one is or the wait runs out.
// It also serves SIP REGISTER for the agents' phones, with digest
// authentication, so that a transfer reaches the phone where it is now.
//
// Definitions (groups, and agents with their digest HA1, never their
// password) are kept in Elasticsearch and written through on every change,
// so a restart keeps them. An agent's state (available, busy, offline) and
// its phone's registration are kept in memory only: presence is volatile
// by nature — after a restart nobody knows who is still at their desk or
// whose call is still up, so every agent starts offline (unless its
// configuration seeds it available) and phones re-register within their
// expiry anyway. Persisting presence would restore stale state that looks
// true.
//
// The IVR flow (Acquire), the SIP server (ServeRegister) and the HTTP API
// (agentsapi) share one *Directory; it is safe for concurrent use.
package agents

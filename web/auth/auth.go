// Package auth issues and verifies OAuth 2.0 client-credentials access
// tokens (RFC 6749 §4.4) as HS256-signed JWTs, and maps each API client's
// role to the scopes its tokens may carry.
//
// There are no users and no default passwords: every caller is an API
// client with a role, identified by a random client ID and a random secret
// that is shown once and stored only as a bcrypt hash. The first admin
// client is created by [EnsureAdmin] on first start.
//
// Storage is the consumer's choice through [ClientStore]; [MemoryStore]
// serves tests and single-node use.
//
// Tokens are self-contained, so disabling a client stops it from getting
// new tokens at once, while tokens already issued stay valid until they
// expire (Config.TTL, one hour by default).
package auth

import (
	"errors"
	"fmt"
	"slices"
)

// Sentinel errors callers branch on. Errors returned by this package wrap
// them with context; test with errors.Is.
var (
	// ErrClientNotFound is returned by a ClientStore for an unknown ID.
	ErrClientNotFound = errors.New("auth: client not found")
	// ErrClientExists is returned by ClientStore.CreateClient when the ID
	// is taken.
	ErrClientExists = errors.New("auth: client already exists")
	// ErrInvalidClient means client authentication failed: unknown ID,
	// wrong secret or disabled client, deliberately indistinguishable.
	ErrInvalidClient = errors.New("auth: invalid client")
	// ErrInvalidScope means a requested scope is unknown or beyond the
	// client's role.
	ErrInvalidScope = errors.New("auth: invalid scope")
	// ErrInvalidToken means an access token failed verification.
	ErrInvalidToken = errors.New("auth: invalid token")
	// ErrInvalidRole means a role name is not one of Roles().
	ErrInvalidRole = errors.New("auth: invalid role")
)

// Scopes an access token can carry. Routes require exactly one each.
const (
	ScopeTicketsRead    = "tickets:read"
	ScopeTicketsWrite   = "tickets:write"
	ScopeTicketsAdmin   = "tickets:admin" // delete tickets, manage SLA policies
	ScopeTicketsImport  = "tickets:import"
	ScopeWebhooksManage = "webhooks:manage"
	ScopeStatsRead      = "stats:read"
	ScopeNLURead        = "nlu:read"
	ScopeModelsManage   = "models:manage"
	ScopeAIOpsRead      = "aiops:read"
	ScopeAIOpsManage    = "aiops:manage"
	ScopeCallsRead      = "calls:read"
	ScopeAgentsManage   = "agents:manage"   // skill groups, agents and their state
	ScopeRecordingsRead = "recordings:read" // unredacted call recordings; every read is audited
	ScopeClientsManage  = "clients:manage"  // issue and revoke API clients
)

// AllScopes returns every scope, in a stable order.
func AllScopes() []string {
	return []string{
		ScopeTicketsRead, ScopeTicketsWrite, ScopeTicketsAdmin, ScopeTicketsImport,
		ScopeWebhooksManage, ScopeStatsRead, ScopeNLURead, ScopeModelsManage,
		ScopeAIOpsRead, ScopeAIOpsManage, ScopeCallsRead, ScopeAgentsManage,
		ScopeRecordingsRead, ScopeClientsManage,
	}
}

// Role is what an API client is for; it bounds the scopes of its tokens.
type Role string

// Roles an API client can have.
const (
	RoleAgent       Role = "agent"
	RoleSupervisor  Role = "supervisor"
	RoleMLEngineer  Role = "ml_engineer"
	RoleOps         Role = "ops"
	RoleAdmin       Role = "admin"
	RoleIntegration Role = "integration"
)

// Roles returns every role, in a stable order, so a test can walk
// route × role.
func Roles() []Role {
	return []Role{RoleAgent, RoleSupervisor, RoleMLEngineer, RoleOps, RoleAdmin, RoleIntegration}
}

// ScopesForRole returns the scopes a client with role r may hold, in
// AllScopes order; nil for an unknown role. This is the one table of who may
// do what; the result is a fresh slice the caller may modify.
func ScopesForRole(r Role) []string {
	var s []string
	switch r {
	case RoleAgent:
		// Agents set their own availability.
		s = []string{ScopeTicketsRead, ScopeTicketsWrite, ScopeStatsRead, ScopeNLURead, ScopeCallsRead, ScopeAgentsManage}
	case RoleSupervisor:
		s = append(ScopesForRole(RoleAgent), ScopeTicketsAdmin, ScopeAIOpsRead, ScopeRecordingsRead)
	case RoleMLEngineer:
		s = []string{ScopeTicketsRead, ScopeStatsRead, ScopeNLURead, ScopeModelsManage}
	case RoleOps:
		s = []string{ScopeTicketsRead, ScopeStatsRead, ScopeAIOpsRead, ScopeAIOpsManage, ScopeCallsRead}
	case RoleIntegration:
		s = []string{ScopeTicketsRead, ScopeTicketsWrite, ScopeTicketsImport, ScopeWebhooksManage, ScopeNLURead}
	case RoleAdmin:
		return AllScopes()
	default:
		return nil
	}
	return canonical(s)
}

// canonical sorts scopes into AllScopes order and drops duplicates and
// unknown scopes, so tokens and responses list them the same way every time.
func canonical(scopes []string) []string {
	var out []string
	for _, s := range AllScopes() {
		if slices.Contains(scopes, s) {
			out = append(out, s)
		}
	}
	return out
}

// Valid reports whether r is one of Roles().
func (r Role) Valid() bool { return slices.Contains(Roles(), r) }

// Has reports whether role r may hold scope.
func (r Role) Has(scope string) bool { return slices.Contains(ScopesForRole(r), scope) }

// String returns the role's name.
func (r Role) String() string { return string(r) }

// ParseRole returns the role named s, or an error wrapping ErrInvalidRole.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !r.Valid() {
		return "", fmt.Errorf("auth: parse role %q: %w", s, ErrInvalidRole)
	}
	return r, nil
}

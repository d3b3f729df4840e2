// Package api serves the ticket domain over HTTP under /api/v1: tickets and
// their lifecycle, search and dashboard statistics, bulk import, webhooks,
// SLA policies, automation rules and API clients. It is a web.Registrar:
// one route table (Routes) drives registration, per-route scopes and body
// limits, the authorization tests and the OpenAPI check.
//
// It declares the small interfaces it consumes; cmd/switchboard wires the
// concrete types (tickets.Service, tickets/webhook, tickets/importer, the
// policy and rule stores, the auth client store). Every error leaves as an
// RFC 9457 problem, with domain error kinds mapped to statuses here, once.
package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/web"
	"github.com/switchboard-cc/switchboard/web/auth"
)

// TicketService is what the API needs of *tickets.Service. Implementations
// must be safe for concurrent use.
type TicketService interface {
	Create(ctx context.Context, actor string, n tickets.NewTicket) (*tickets.Ticket, tickets.Version, error)
	Get(ctx context.Context, id string) (*tickets.Ticket, tickets.Version, error)
	Search(ctx context.Context, q tickets.Query) (*tickets.Page, error)
	Stats(ctx context.Context, q tickets.StatsQuery) (*tickets.Stats, error)
	Patch(ctx context.Context, id string, o tickets.UpdateOptions, p tickets.Patch) (*tickets.Ticket, tickets.Version, error)
	Transition(ctx context.Context, id string, o tickets.UpdateOptions, to tickets.Status, reason string) (*tickets.Ticket, tickets.Version, error)
	Comment(ctx context.Context, id string, o tickets.UpdateOptions, c tickets.NewComment) (*tickets.Ticket, tickets.Version, error)
	RateCSAT(ctx context.Context, id string, o tickets.UpdateOptions, score int, comment string) (*tickets.Ticket, tickets.Version, error)
	// Delete removes a ticket for good; ErrNotFound if it does not exist.
	Delete(ctx context.Context, id string, actor string) error
	// Similar returns the k tickets nearest to ticket id by embedding;
	// with labelled, only tickets whose category a person set.
	Similar(ctx context.Context, id string, k int, labelled bool) ([]tickets.Neighbor, error)
}

// SLAPolicies reads and replaces the SLA policy document. The document is
// YAML; ReplacePolicies validates it completely before applying it and
// returns an error wrapping tickets.ErrInvalid, naming the line, when it is
// not valid.
type SLAPolicies interface {
	Policies(ctx context.Context) ([]byte, error)
	ReplacePolicies(ctx context.Context, yaml []byte) error
}

// AutomationRules reads and replaces the automation rule document, with the
// same contract as SLAPolicies.
type AutomationRules interface {
	Rules(ctx context.Context) ([]byte, error)
	ReplaceRules(ctx context.Context, yaml []byte) error
}

// Importer loads tickets in bulk from a CSV or JSON Lines file described by
// a YAML mapping. It returns a JSON-encodable summary and the rejected rows
// as CSV (nil when none). A bad mapping or file is an error wrapping
// tickets.ErrInvalid. With dryRun it validates without storing.
type Importer interface {
	Import(ctx context.Context, mapping []byte, input io.Reader, filename string, dryRun bool, actor string) (summary any, rejects []byte, err error)
}

// Clients is the API-client registry the admin routes manage; the store
// behind the token endpoint's Issuer. auth.MemoryStore is one.
type Clients interface {
	auth.ClientStore
}

// Config tunes the API.
type Config struct {
	// MaxBodyBytes bounds JSON and YAML request bodies; larger ones get 413.
	MaxBodyBytes int64
	// MaxImportBytes bounds a bulk-import upload.
	MaxImportBytes int64
	// RetryAfter is what a 503 answer tells clients to wait.
	RetryAfter time.Duration
}

// DefaultConfig returns the limits used when none are given.
func DefaultConfig() Config {
	return Config{MaxBodyBytes: 1 << 20, MaxImportBytes: 256 << 20, RetryAfter: 5 * time.Second}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.MaxBodyBytes <= 0 || c.MaxImportBytes <= 0 {
		return errors.New("tickets/api: MaxBodyBytes and MaxImportBytes must be positive")
	}
	if c.RetryAfter < time.Second {
		return errors.New("tickets/api: RetryAfter must be at least 1s")
	}
	return nil
}

// Deps are the API's collaborators. Tickets is required. A nil optional
// collaborator keeps its routes registered (and documented) but makes them
// answer 501, so a deployment without e.g. webhooks still has one API shape.
type Deps struct {
	Tickets    TicketService
	Webhooks   Webhooks
	SLA        SLAPolicies
	Automation AutomationRules
	Importer   Importer
	Clients    Clients
}

// API serves the ticket domain's routes. It is safe for concurrent use.
// It logs nothing itself: server-side failures go to the gin context
// (c.Error), and the web server's access log records them with the
// request ID.
type API struct {
	cfg Config
	d   Deps
}

// New returns the API.
func New(cfg Config, d Deps) (*API, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Tickets == nil {
		return nil, errors.New("tickets/api: Tickets is required")
	}
	return &API{cfg: cfg, d: d}, nil
}

// Route is one operation of the API's route table.
type Route = web.Route

// Route paths, absolute, in gin syntax.
const (
	pathTickets    = "/api/v1/tickets"
	pathTicket     = "/api/v1/tickets/:id"
	pathWebhooks   = "/api/v1/webhooks"
	pathWebhook    = "/api/v1/webhooks/:name"
	pathDeliveries = "/api/v1/webhooks/deliveries"
	pathClients    = "/api/v1/clients"
)

// endpoints is the route table: the one place that says which operations
// exist, what scope each needs and which handler serves it.
func (a *API) endpoints() web.Endpoints {
	const (
		get, post, put, patch, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete
		read, write, admin         = auth.ScopeTicketsRead, auth.ScopeTicketsWrite, auth.ScopeTicketsAdmin
		hooks, clients             = auth.ScopeWebhooksManage, auth.ScopeClientsManage
	)
	return web.Endpoints{
		{Route: Route{Method: post, Path: pathTickets, Scope: write, Summary: "Open a ticket"}, Handle: a.createTicket},
		{Route: Route{Method: get, Path: pathTickets, Scope: read, Summary: "Search tickets"}, Handle: a.searchTickets},
		{Route: Route{Method: get, Path: pathTicket, Scope: read, Summary: "Get a ticket"}, Handle: a.getTicket},
		{Route: Route{Method: patch, Path: pathTicket, Scope: write, Summary: "Update a ticket's fields"}, Handle: a.patchTicket},
		{Route: Route{Method: del, Path: pathTicket, Scope: admin, Summary: "Delete a ticket"}, Handle: a.deleteTicket},
		{Route: Route{Method: post, Path: pathTicket + "/transitions", Scope: write, Summary: "Move a ticket through its lifecycle"}, Handle: a.transitionTicket},
		{Route: Route{Method: post, Path: pathTicket + "/comments", Scope: write, Summary: "Add a reply or internal note"}, Handle: a.commentTicket},
		{Route: Route{Method: put, Path: pathTicket + "/csat", Scope: write, Summary: "Record the customer's satisfaction rating"}, Handle: a.rateTicket},
		{Route: Route{Method: get, Path: pathTicket + "/history", Scope: read, Summary: "Get a ticket's audit history"}, Handle: a.ticketHistory},
		{Route: Route{Method: get, Path: pathTicket + "/similar", Scope: read, Summary: "Find similar tickets by embedding"}, Handle: a.similarTickets},
		{Route: Route{Method: get, Path: "/api/v1/stats", Scope: auth.ScopeStatsRead, Summary: "Aggregate tickets for dashboards"}, Handle: a.stats},
		{Route: Route{Method: post, Path: "/api/v1/imports", Scope: auth.ScopeTicketsImport, Summary: "Import tickets from a CSV or JSON Lines file", MaxBodyBytes: a.cfg.MaxImportBytes}, Handle: a.importTickets},
		{Route: Route{Method: get, Path: pathWebhooks, Scope: hooks, Summary: "List webhook endpoints"}, Handle: a.listWebhooks},
		{Route: Route{Method: post, Path: pathWebhooks, Scope: hooks, Summary: "Create a webhook endpoint"}, Handle: a.createWebhook},
		{Route: Route{Method: get, Path: pathWebhook, Scope: hooks, Summary: "Get a webhook endpoint"}, Handle: a.getWebhook},
		{Route: Route{Method: put, Path: pathWebhook, Scope: hooks, Summary: "Replace a webhook endpoint"}, Handle: a.putWebhook},
		{Route: Route{Method: del, Path: pathWebhook, Scope: hooks, Summary: "Delete a webhook endpoint"}, Handle: a.deleteWebhook},
		{Route: Route{Method: get, Path: pathDeliveries, Scope: hooks, Summary: "List webhook deliveries"}, Handle: a.listDeliveries},
		{Route: Route{Method: post, Path: pathDeliveries + "/:id/redeliver", Scope: hooks, Summary: "Deliver a webhook event again"}, Handle: a.redeliver},
		{Route: Route{Method: get, Path: "/api/v1/sla/policies", Scope: read, Summary: "Get the SLA policies (YAML)"}, Handle: a.getSLAPolicies},
		{Route: Route{Method: put, Path: "/api/v1/sla/policies", Scope: admin, Summary: "Replace the SLA policies (YAML)"}, Handle: a.putSLAPolicies},
		{Route: Route{Method: get, Path: "/api/v1/automation/rules", Scope: read, Summary: "Get the automation rules (YAML)"}, Handle: a.getAutomationRules},
		{Route: Route{Method: put, Path: "/api/v1/automation/rules", Scope: admin, Summary: "Replace the automation rules (YAML)"}, Handle: a.putAutomationRules},
		{Route: Route{Method: get, Path: pathClients, Scope: clients, Summary: "List API clients"}, Handle: a.listClients},
		{Route: Route{Method: post, Path: pathClients, Scope: clients, Summary: "Create an API client"}, Handle: a.createClient},
		{Route: Route{Method: del, Path: pathClients + "/:id", Scope: clients, Summary: "Disable an API client"}, Handle: a.disableClient},
	}
}

// Routes returns the route table.
func (a *API) Routes() []Route { return a.endpoints().Routes() }

// Register adds every route of the table to r, each behind guard(scope).
func (a *API) Register(r gin.IRouter, guard func(scope string) gin.HandlerFunc) {
	a.endpoints().Register(r, guard)
}

var _ web.Registrar = (*API)(nil)

// Package nluapi serves the understanding pipeline over HTTP under
// /api/v1/nlu: classification, intent, sentiment and embeddings for
// clients, and the model registry's state, reloads, shadow comparisons and
// intent health for ML engineers. It is a web.Registrar: one route table
// (Routes) drives registration, per-route scopes and body limits, the
// authorization tests and the OpenAPI check (openapi.yaml here is the
// fragment merged into web/openapi).
//
// It declares what it consumes; cmd/switchboard passes the *nlu.Service
// and, for the evidence behind a classification, a Neighbors over the
// ticket index. Every error leaves as an RFC 9457 problem, with nlu's error
// kinds mapped to statuses here, once.
package nluapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/nlu"
	"github.com/switchboard-cc/switchboard/web"
	"github.com/switchboard-cc/switchboard/web/auth"
)

// Understanding answers the per-text tasks. Implementations must be safe
// for concurrent use and return errors wrapping nlu.ErrEmptyText for a
// blank text and nlu.ErrUnavailable when no model serves the task.
type Understanding interface {
	Classify(ctx context.Context, text string) (nlu.Classification, error)
	Intent(ctx context.Context, text string) (nlu.IntentResult, error)
	Sentiment(ctx context.Context, text string) (nlu.SentimentResult, error)
	Embed(ctx context.Context, texts []string) ([][]float32, string, error)
	EmbedOne(ctx context.Context, text string) ([]float32, string, error)
}

// ModelAdmin shows and reloads the serving model versions. Reload returns
// an error wrapping nlu.ErrRefused when it refused a version.
type ModelAdmin interface {
	Status() nlu.Status
	Manifest() nlu.Manifest
	Cards() map[string]map[string][]byte
	Reload(ctx context.Context) error
	Shadow(task string) nlu.ShadowReport
}

// IntentHealth groups the utterances no intent fitted.
type IntentHealth interface {
	IntentHealth(ctx context.Context, since time.Time, limit int) (nlu.HealthReport, error)
}

// Service is everything the API needs of *nlu.Service.
type Service interface {
	Understanding
	ModelAdmin
	IntentHealth
}

// Neighbors finds the labelled tickets nearest to a vector: the evidence
// behind a classification. It must be safe for concurrent use; vector is
// the embedding model's output and must not be modified.
type Neighbors interface {
	NearestLabelled(ctx context.Context, vector []float32, k int) ([]Neighbor, error)
}

// Neighbor is a ticket whose category a person set, near the classified
// text.
type Neighbor struct {
	TicketID string `json:"ticket_id"`
	Number   int64  `json:"number"`
	Subject  string `json:"subject"`
	// Label and Source are the ticket's category and who set it.
	Label  string  `json:"label"`
	Source string  `json:"source"`
	Score  float64 `json:"score"` // cosine similarity, higher is closer
}

// Config tunes the API.
type Config struct {
	// MaxTextBytes bounds each text; longer ones get 413. The models read
	// only their first few hundred tokens anyway.
	MaxTextBytes int
	// MaxTexts bounds the texts of one embedding request (413 beyond).
	MaxTexts int
	// Neighbors is how many labelled tickets a classification lists by
	// default (a request may ask for 0 to MaxNeighbors).
	Neighbors    int
	MaxNeighbors int
	// RetryAfter is what a 503 answer tells clients to wait.
	RetryAfter time.Duration
}

// DefaultConfig returns the limits used when none are given.
func DefaultConfig() Config {
	return Config{MaxTextBytes: 64 << 10, MaxTexts: 64, Neighbors: 5, MaxNeighbors: 20, RetryAfter: 5 * time.Second}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.MaxTextBytes <= 0 || c.MaxTexts <= 0 {
		return errors.New("nluapi: MaxTextBytes and MaxTexts must be positive")
	}
	if c.Neighbors < 0 || c.Neighbors > c.MaxNeighbors {
		return errors.New("nluapi: Neighbors must be between 0 and MaxNeighbors")
	}
	if c.RetryAfter < time.Second {
		return errors.New("nluapi: RetryAfter must be at least 1s")
	}
	return nil
}

// Deps are the API's collaborators. Service is required; without
// Neighbors, classifications carry none.
type Deps struct {
	Service   Service
	Neighbors Neighbors
}

// API serves the NLU routes. It is safe for concurrent use. It logs
// nothing itself: server-side failures go to the gin context (c.Error),
// and the web server's access log records them with the request ID.
type API struct {
	cfg Config
	d   Deps
}

// New returns the API.
func New(cfg Config, d Deps) (*API, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Service == nil {
		return nil, errors.New("nluapi: Service is required")
	}
	return &API{cfg: cfg, d: d}, nil
}

// Route paths, absolute, in gin syntax.
const (
	pathNLU    = "/api/v1/nlu"
	pathModels = pathNLU + "/models"
)

// endpoints is the route table: the one place that says which operations
// exist, what scope each needs and which handler serves it.
func (a *API) endpoints() web.Endpoints {
	const (
		get, post    = http.MethodGet, http.MethodPost
		read, manage = auth.ScopeNLURead, auth.ScopeModelsManage
	)
	// A text may be mostly escapes in JSON (\u0000 is six bytes for one),
	// so the body may be several times the text limit.
	single := int64(8*a.cfg.MaxTextBytes + 4096)
	batch := int64(a.cfg.MaxTexts)*int64(2*a.cfg.MaxTextBytes) + 4096
	return web.Endpoints{
		{Route: web.Route{Method: post, Path: pathNLU + "/classify", Scope: read, Summary: "Classify a text's ticket category", MaxBodyBytes: single}, Handle: a.classify},
		{Route: web.Route{Method: post, Path: pathNLU + "/intent", Scope: read, Summary: "Recognise an utterance's intent", MaxBodyBytes: single}, Handle: a.intent},
		{Route: web.Route{Method: post, Path: pathNLU + "/sentiment", Scope: read, Summary: "Score a text's sentiment", MaxBodyBytes: single}, Handle: a.sentiment},
		{Route: web.Route{Method: post, Path: pathNLU + "/embed", Scope: read, Summary: "Embed texts as sentence vectors", MaxBodyBytes: batch}, Handle: a.embed},
		{Route: web.Route{Method: get, Path: pathModels, Scope: read, Summary: "Show the serving model versions and their cards"}, Handle: a.models},
		{Route: web.Route{Method: post, Path: pathModels + "/reload", Scope: manage, Summary: "Reload the model manifest now"}, Handle: a.reload},
		{Route: web.Route{Method: get, Path: pathNLU + "/shadow", Scope: manage, Summary: "Compare candidate models with production"}, Handle: a.shadow},
		{Route: web.Route{Method: get, Path: pathNLU + "/intent-health", Scope: manage, Summary: "Group unrecognised utterances into candidate intents"}, Handle: a.intentHealth},
	}
}

// Routes returns the route table.
func (a *API) Routes() []web.Route { return a.endpoints().Routes() }

// Register adds every route of the table to r, each behind guard(scope).
func (a *API) Register(r gin.IRouter, guard func(scope string) gin.HandlerFunc) {
	a.endpoints().Register(r, guard)
}

var (
	_ web.Registrar = (*API)(nil)
	_ Service       = (*nlu.Service)(nil)
)

package web

import "github.com/gin-gonic/gin"

// Route describes one API operation. A domain API keeps exactly one table of
// them: it registers its handlers from that table, the server derives
// per-route body limits from it, and the tests check authorization and the
// OpenAPI document against it, so the three cannot drift apart.
type Route struct {
	// Method is the HTTP method, e.g. http.MethodGet.
	Method string
	// Path is the absolute gin path template, e.g. /api/v1/tickets/:id.
	Path string
	// Scope is the OAuth scope a token needs (one of auth.AllScopes); empty
	// for the server's public routes.
	Scope string
	// Summary says what the operation does, in a few words.
	Summary string
	// MaxBodyBytes overrides Config.MaxBodyBytes for this route, e.g. for
	// bulk uploads; zero means the server default.
	MaxBodyBytes int64
}

// Registrar is how a domain API (tickets today; ivr, aiops and nlu next)
// plugs into the server. Routes is the API's route table; Register adds a
// handler for every route in it, and only those, each behind guard(scope)
// for the route's scope. guard answers 401 without a valid token and 403
// without the scope. New checks that the table and the registered routes
// agree.
type Registrar interface {
	Routes() []Route
	Register(r gin.IRouter, guard func(scope string) gin.HandlerFunc)
}

// Endpoint is a route of a domain API's table with its handler.
type Endpoint struct {
	Route
	Handle gin.HandlerFunc
}

// Endpoints is a domain API's route table with the handlers: the one
// source of its Registrar methods.
type Endpoints []Endpoint

// Routes returns the table's routes, in order.
func (es Endpoints) Routes() []Route {
	rs := make([]Route, len(es))
	for i, e := range es {
		rs[i] = e.Route
	}
	return rs
}

// Register adds every route of the table to r, each behind guard(scope).
func (es Endpoints) Register(r gin.IRouter, guard func(scope string) gin.HandlerFunc) {
	for _, e := range es {
		r.Handle(e.Method, e.Path, guard(e.Scope), e.Handle)
	}
}

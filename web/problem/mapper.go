package problem

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
)

// Mapping says which status and title an error that matches Err (by
// errors.Is) becomes.
type Mapping struct {
	// Err is the sentinel to match, typically a domain kind such as
	// tickets.ErrNotFound.
	Err error
	// Status is the HTTP status to answer with.
	Status int
	// Title overrides the status text as the problem title; optional.
	Title string
}

// Mapper is an ordered list of mappings, configured once per API and
// consulted for every error a handler returns; the first match wins.
type Mapper []Mapping

// Problem returns the problem for err under m; see FromError.
func (m Mapper) Problem(err error) Problem { return FromError(err, m) }

// genericDetail is all a client learns about an unmapped error.
const genericDetail = "the server hit an unexpected error"

// FromError returns the problem for err under mappings: the first mapping
// whose Err matches decides status and title, and for 4xx statuses err's
// message becomes the detail (5xx get a generic one), enriched by ProblemFields and ProblemExtensions if err carries them
// (see the package doc). An unmatched or nil err becomes a 500 with a
// generic detail, because its message may reveal internals; the caller
// should log it.
func FromError(err error, mappings []Mapping) Problem {
	if err == nil {
		return Internal(genericDetail)
	}
	for _, m := range mappings {
		if m.Err == nil || !errors.Is(err, m.Err) {
			continue
		}
		p := Problem{Status: m.Status, Title: m.Title, Detail: err.Error()}
		if p.Status == 0 {
			p.Status = http.StatusInternalServerError
		}
		if p.Status >= 500 {
			// A server-side failure's chain names hosts and indices;
			// the mapping chose the status, not the words.
			p.Detail = genericDetail
		}
		var f interface{ ProblemFields() []FieldError }
		if errors.As(err, &f) {
			p.Errors = f.ProblemFields()
		}
		var x interface{ ProblemExtensions() map[string]any }
		if errors.As(err, &x) {
			p = p.WithExtensions(x.ProblemExtensions())
		}
		return p
	}
	return Internal(genericDetail)
}

// Fail answers err as the problem m maps it to. A server-side failure is
// attached to the gin context for the access log, unless the client went
// away (a cancelled request is no fault of the server's).
func (m Mapper) Fail(c *gin.Context, err error) {
	p := m.Problem(err)
	if p.Status >= 500 && !errors.Is(err, context.Canceled) {
		_ = c.Error(err)
	}
	Write(c, p)
}

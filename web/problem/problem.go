// Package problem writes RFC 9457 problem details from gin handlers, decodes
// JSON request bodies strictly, and maps domain errors to problems, so that
// every HTTP error leaves the server in one shape.
//
// Any package at the HTTP edge (web/..., tickets/api, ...) may import it;
// domain packages must not, because status codes are chosen exactly once, at
// the edge.
//
// # Mapping errors
//
// [FromError] turns an error into a [Problem] using an ordered list of
// [Mapping] values: the first mapping whose Err matches (errors.Is) decides
// the status and title, and for a 4xx status the error's message becomes the
// detail, so only map errors whose messages are safe to show to a client.
// Mapped 5xx statuses get a generic detail. An error that no
// mapping matches becomes a 500 with a generic detail; its message is never
// sent, because it may name internal hosts, indices or queries.
//
// A matched error may carry more for the client by implementing either of
// these methods anywhere in its chain (found with errors.As):
//
//	ProblemFields() []FieldError        // field violations → "errors"
//	ProblemExtensions() map[string]any  // extra top-level members
//
// For example a validation error that wraps tickets.ErrInvalid can list the
// offending fields, and a conflict error can list the allowed transitions.
// The hooks are matched by method shape, so ProblemExtensions can be
// implemented without importing this package; ProblemFields needs
// [FieldError], so an error type implementing it belongs in the API layer
// that wraps the domain error, not in the domain package.
//
// Extensions never override the standard members (type, title, status,
// detail, instance, errors).
package problem

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"

	"github.com/gin-gonic/gin"
)

// ContentType is the media type of a problem details document (RFC 9457 §3).
const ContentType = "application/problem+json"

// DefaultType is the problem type used when none is given; RFC 9457 §4.2.1
// says the title then is the HTTP status phrase.
const DefaultType = "about:blank"

// Problem is an RFC 9457 problem details object.
type Problem struct {
	// Type is a URI reference identifying the problem type; empty means
	// DefaultType.
	Type string
	// Title is a short summary of the problem type; empty means the HTTP
	// status text.
	Title string
	// Status is the HTTP status code; zero means 500.
	Status int
	// Detail explains this occurrence to the client. It must never contain
	// internal details such as wrapped storage errors.
	Detail string
	// Instance is a URI reference identifying this occurrence.
	Instance string
	// Errors lists field violations, for 400 and 422 responses.
	Errors []FieldError
	// Extensions are merged into the top-level JSON object. Keys that
	// collide with the members above are dropped so that an extension can
	// never change the status or type a client sees.
	Extensions map[string]any
}

// FieldError is one violation of a request field.
type FieldError struct {
	// Field is the dotted path of the field in the request body, such as
	// "customer.email"; empty when the violation concerns the whole body.
	Field string `json:"field"`
	// Message says what is wrong, for a human.
	Message string `json:"message"`
}

// reserved are the members of Problem's JSON form that extensions may not
// override.
func reserved(key string) bool {
	switch key {
	case "type", "title", "status", "detail", "instance", "errors":
		return true
	}
	return false
}

// wire is the fixed part of Problem's JSON form.
type wire struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail,omitempty"`
	Instance string       `json:"instance,omitempty"`
	Errors   []FieldError `json:"errors,omitempty"`
}

// normalized fills the defaults RFC 9457 implies for missing members.
func (p Problem) normalized() Problem {
	if p.Status == 0 {
		p.Status = http.StatusInternalServerError
	}
	if p.Type == "" {
		p.Type = DefaultType
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	return p
}

// MarshalJSON encodes p with its extensions as top-level members and the
// defaults for missing type, title and status filled in.
func (p Problem) MarshalJSON() ([]byte, error) {
	p = p.normalized()
	fixed, err := json.Marshal(wire{
		Type: p.Type, Title: p.Title, Status: p.Status,
		Detail: p.Detail, Instance: p.Instance, Errors: p.Errors,
	})
	if err != nil {
		return nil, err
	}
	ext := make(map[string]any, len(p.Extensions))
	for k, v := range p.Extensions {
		if !reserved(k) {
			ext[k] = v
		}
	}
	if len(ext) == 0 {
		return fixed, nil
	}
	extra, err := json.Marshal(ext)
	if err != nil {
		return nil, fmt.Errorf("problem: marshal extensions: %w", err)
	}
	// Splice the two objects: {fixed...} + {extra...} → {fixed..., extra...}.
	var buf bytes.Buffer
	buf.Grow(len(fixed) + len(extra))
	buf.Write(fixed[:len(fixed)-1])
	buf.WriteByte(',')
	buf.Write(extra[1:])
	return buf.Bytes(), nil
}

// UnmarshalJSON decodes a problem document, collecting unknown members into
// Extensions; it lets clients and tests read what Write produced.
func (p *Problem) UnmarshalJSON(data []byte) error {
	var w wire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	*p = Problem{
		Type: w.Type, Title: w.Title, Status: w.Status,
		Detail: w.Detail, Instance: w.Instance, Errors: w.Errors,
	}
	for k, raw := range all {
		if reserved(k) {
			continue
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		if p.Extensions == nil {
			p.Extensions = make(map[string]any)
		}
		p.Extensions[k] = v
	}
	return nil
}

// Write sends p as the response and aborts the handler chain. If the
// response has already been started, nothing more can be said to the client,
// so Write only aborts.
func Write(c *gin.Context, p Problem) {
	p = p.normalized()
	if c.Writer.Written() {
		c.Abort()
		return
	}
	body, err := json.Marshal(p)
	if err != nil {
		// Only an unencodable extension can get here; answer without the
		// extensions rather than not at all.
		p.Extensions = nil
		body, _ = json.Marshal(p)
	}
	c.Data(p.Status, ContentType, body)
	c.Abort()
}

// New returns a problem with the given status and detail and the default
// type and title.
func New(status int, detail string) Problem {
	return Problem{Status: status, Detail: detail}
}

// BadRequest returns a 400 problem listing the given field violations.
func BadRequest(detail string, fields ...FieldError) Problem {
	return Problem{Status: http.StatusBadRequest, Detail: detail, Errors: fields}
}

// Unauthorized returns a 401 problem. The caller sets WWW-Authenticate.
func Unauthorized(detail string) Problem { return New(http.StatusUnauthorized, detail) }

// Forbidden returns a 403 problem.
func Forbidden(detail string) Problem { return New(http.StatusForbidden, detail) }

// NotFound returns a 404 problem.
func NotFound(detail string) Problem { return New(http.StatusNotFound, detail) }

// MethodNotAllowed returns a 405 problem.
func MethodNotAllowed(detail string) Problem { return New(http.StatusMethodNotAllowed, detail) }

// Conflict returns a 409 problem.
func Conflict(detail string) Problem { return New(http.StatusConflict, detail) }

// PreconditionFailed returns a 412 problem, e.g. for a stale If-Match.
func PreconditionFailed(detail string) Problem {
	return New(http.StatusPreconditionFailed, detail)
}

// PayloadTooLarge returns a 413 problem.
func PayloadTooLarge(detail string) Problem { return New(http.StatusRequestEntityTooLarge, detail) }

// UnsupportedMediaType returns a 415 problem.
func UnsupportedMediaType(detail string) Problem {
	return New(http.StatusUnsupportedMediaType, detail)
}

// Unprocessable returns a 422 problem listing the given field violations:
// the body was well-formed JSON but breaks a domain rule.
func Unprocessable(detail string, fields ...FieldError) Problem {
	return Problem{Status: http.StatusUnprocessableEntity, Detail: detail, Errors: fields}
}

// Internal returns a 500 problem. The detail must be generic; log the cause.
func Internal(detail string) Problem { return New(http.StatusInternalServerError, detail) }

// Unavailable returns a 503 problem, e.g. while a dependency is down.
func Unavailable(detail string) Problem { return New(http.StatusServiceUnavailable, detail) }

// WithExtensions returns a copy of p with the given members added to its
// extensions.
func (p Problem) WithExtensions(ext map[string]any) Problem {
	merged := make(map[string]any, len(p.Extensions)+len(ext))
	maps.Copy(merged, p.Extensions)
	maps.Copy(merged, ext)
	p.Extensions = merged
	return p
}

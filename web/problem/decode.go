package problem

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// DefaultMaxBytes is the body limit DecodeJSON applies when given a
// non-positive limit.
const DefaultMaxBytes = 1 << 20

// DecodeJSON decodes the request body into dst, strictly: the Content-Type
// must be application/json, the body at most maxBytes long (non-positive
// means DefaultMaxBytes), hold exactly one JSON value, and name only fields
// dst has. It returns nil on success and otherwise the problem to Write; it
// does not write the response itself so a handler can add to the problem.
//
// Strictness is deliberate: a misspelled optional field silently ignored is
// a bug report days later, while a 400 naming the field is fixed in minutes.
func DecodeJSON(c *gin.Context, dst any, maxBytes int64) *Problem {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if p := checkJSONContentType(c.GetHeader("Content-Type")); p != nil {
		return p
	}
	if c.Request.Body == nil || c.Request.Body == http.NoBody {
		p := BadRequest("request body is empty")
		return &p
	}
	body := http.MaxBytesReader(c.Writer, c.Request.Body, maxBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		p := decodeProblem(err, maxBytes)
		return &p
	}
	// A second value, even a valid one, means the client sent something
	// other than what it thinks it sent; refuse rather than guess.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			p := tooLargeProblem(maxBytes)
			return &p
		}
		p := BadRequest("request body must contain a single JSON value")
		return &p
	}
	return nil
}

func checkJSONContentType(header string) *Problem {
	if header == "" {
		p := UnsupportedMediaType("Content-Type must be application/json")
		return &p
	}
	mt, params, err := mime.ParseMediaType(header)
	if err != nil || mt != "application/json" {
		p := UnsupportedMediaType("Content-Type must be application/json")
		return &p
	}
	// JSON is UTF-8 (RFC 8259 §8.1); any other declared charset would be
	// decoded wrongly, so say so instead.
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		p := UnsupportedMediaType("JSON bodies must be UTF-8")
		return &p
	}
	return nil
}

func tooLargeProblem(maxBytes int64) Problem {
	return PayloadTooLarge(fmt.Sprintf("request body exceeds %d bytes", maxBytes))
}

// decodeProblem translates an encoding/json error into a problem a client
// can act on. The messages name fields and offsets, never Go types.
func decodeProblem(err error, maxBytes int64) Problem {
	var (
		tooLarge *http.MaxBytesError
		syntax   *json.SyntaxError
		typ      *json.UnmarshalTypeError
		invalid  *json.InvalidUnmarshalError
		when     *time.ParseError
	)
	switch {
	case errors.As(err, &tooLarge):
		return tooLargeProblem(maxBytes)
	case errors.Is(err, io.EOF):
		return BadRequest("request body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return BadRequest("request body is truncated JSON")
	case errors.As(err, &syntax):
		return BadRequest(fmt.Sprintf("malformed JSON at byte offset %d", syntax.Offset))
	case errors.As(err, &typ):
		field := typ.Field
		msg := "must be " + jsonKind(typ.Type)
		if field == "" {
			return BadRequest("request body "+msg, FieldError{Message: msg})
		}
		return BadRequest(fmt.Sprintf("field %q %s", field, msg), FieldError{Field: field, Message: msg})
	case errors.As(err, &when):
		// encoding/json does not say which field a custom unmarshaler
		// failed on, so name the expected format instead.
		return BadRequest("timestamps must be RFC 3339 strings, e.g. 2006-01-02T15:04:05Z")
	case errors.As(err, &invalid):
		// dst was not a non-nil pointer: a programming error, not the
		// client's.
		return Internal("the server could not decode the request")
	}
	if name, ok := unknownField(err); ok {
		return BadRequest(fmt.Sprintf("unknown field %q", name),
			FieldError{Field: name, Message: "unknown field"})
	}
	return BadRequest("request body could not be decoded")
}

// unknownField extracts the field name from encoding/json's unknown-field
// error, which has no type of its own; the text `json: unknown field "x"` is
// stable across Go releases.
func unknownField(err error) (string, bool) {
	const prefix = "json: unknown field "
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix) {
		return "", false
	}
	name, uerr := strconv.Unquote(strings.TrimPrefix(msg, prefix))
	if uerr != nil {
		return strings.TrimPrefix(msg, prefix), true
	}
	return name, true
}

// jsonKind names the JSON type a Go type decodes from.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a different type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Implements(reflect.TypeFor[json.Unmarshaler]()) ||
		reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) {
		// A custom type (timestamps, enums) knows best; its own errors are
		// not UnmarshalTypeErrors, so this only happens for its JSON kind.
		return "a valid " + t.Name()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a different type"
}

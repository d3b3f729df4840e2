// Package recordapi serves call recordings over HTTP, audited: GET
// /api/v1/calls/:id/recording answers the call's WAV file (Range requests
// included) and GET /api/v1/recordings/audit lists who accessed which
// recording. Both need the scope recordings:read. It is a web.Registrar
// like nlu/asr/asrapi: one route table drives registration, the
// authorization tests and the OpenAPI check (openapi.yaml here is the
// fragment merged into web/openapi).
//
// Every access that reaches the recording handler, served or not found or
// failed, is written to the audit log in Elasticsearch (Auditor) before a
// byte of audio leaves; when the audit write fails the recording is not
// served (503), since an unaudited access must not happen. Requests
// without a token or without the scope are refused by the server's guard
// before the handler runs, so they read no audio and leave no audit
// entry; the server's access log records them, with the actor and the
// request ID.
package recordapi

import (
	"context"
	"errors"
	"net/http"
	"os"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/ivr/record"
	"github.com/switchboard-cc/switchboard/web"
	"github.com/switchboard-cc/switchboard/web/auth"
)

// Recordings opens recordings by call ID; *record.Recorder is one. Open
// fails with an error wrapping record.ErrNotFound when the call has no
// recording. It must be safe for concurrent use; the caller closes the
// file.
type Recordings interface {
	Open(id string) (*os.File, record.Info, error)
}

// AuditLog records and lists accesses; *Auditor is one. Log must return
// only once the entry is stored. It must be safe for concurrent use.
type AuditLog interface {
	Log(ctx context.Context, e Entry) error
	List(ctx context.Context, callID string, size int) ([]Entry, error)
}

// Deps are the API's collaborators; both are required.
type Deps struct {
	Recordings Recordings
	Audit      AuditLog
}

// API serves the recording routes. It is safe for concurrent use. It logs
// nothing itself: server-side failures go to the gin context (c.Error) for
// the access log.
type API struct {
	d Deps
}

// New returns the API.
func New(d Deps) (*API, error) {
	if d.Recordings == nil || d.Audit == nil {
		return nil, errors.New("recordapi: Recordings and Audit are required")
	}
	return &API{d: d}, nil
}

// The routes' paths. The recording's parameter is named id like the call
// record's route, GET /api/v1/calls/:id, served by another package: gin
// requires one name per path segment.
const (
	PathRecording = "/api/v1/calls/:id/recording"
	PathAudit     = "/api/v1/recordings/audit"
)

// endpoints is the route table.
func (a *API) endpoints() web.Endpoints {
	return web.Endpoints{
		{Route: web.Route{Method: http.MethodGet, Path: PathRecording, Scope: auth.ScopeRecordingsRead, Summary: "Download a call's recording (audited)"}, Handle: a.recording},
		{Route: web.Route{Method: http.MethodGet, Path: PathAudit, Scope: auth.ScopeRecordingsRead, Summary: "List accesses to recordings"}, Handle: a.audit},
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
	_ Recordings    = (*record.Recorder)(nil)
)

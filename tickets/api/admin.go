package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/web/auth"
	"github.com/switchboard-cc/switchboard/web/problem"
)

// yamlContentType is what GET answers for policy and rule documents.
const yamlContentType = "application/yaml; charset=utf-8"

// readYAML reads a YAML request body under the API's limit; on failure it
// has answered and returns nil, false.
func (a *API) readYAML(c *gin.Context) ([]byte, bool) {
	mt, params, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	switch {
	case err != nil:
		write(c, problem.UnsupportedMediaType("Content-Type must be application/yaml or text/yaml"))
		return nil, false
	case mt != "application/yaml" && mt != "text/yaml" && mt != "application/x-yaml" && mt != "text/x-yaml":
		write(c, problem.UnsupportedMediaType("Content-Type must be application/yaml or text/yaml"))
		return nil, false
	case params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8"):
		write(c, problem.UnsupportedMediaType("YAML bodies must be UTF-8"))
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, a.cfg.MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		write(c, problem.PayloadTooLarge(fmt.Sprintf("request body exceeds %d bytes", a.cfg.MaxBodyBytes)))
		return nil, false
	case err != nil:
		write(c, problem.BadRequest("request body could not be read"))
		return nil, false
	case len(strings.TrimSpace(string(body))) == 0:
		write(c, problem.BadRequest("request body is empty"))
		return nil, false
	case !utf8.Valid(body):
		write(c, problem.BadRequest("request body is not valid UTF-8"))
		return nil, false
	}
	return body, true
}

// getDocument answers a YAML document read by get.
func (a *API) getDocument(c *gin.Context, configured bool, what string, get func(context.Context) ([]byte, error)) {
	if !configured {
		notConfigured(c, what)
		return
	}
	doc, err := get(c.Request.Context())
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Data(http.StatusOK, yamlContentType, doc)
}

// putDocument replaces a YAML document with the request body.
func (a *API) putDocument(c *gin.Context, configured bool, what string, replace func(context.Context, []byte) error) {
	if !configured {
		notConfigured(c, what)
		return
	}
	doc, ok := a.readYAML(c)
	if !ok {
		return
	}
	if err := replace(c.Request.Context(), doc); err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *API) getSLAPolicies(c *gin.Context) {
	a.getDocument(c, a.d.SLA != nil, "SLA policies", func(ctx context.Context) ([]byte, error) { return a.d.SLA.Policies(ctx) })
}

func (a *API) putSLAPolicies(c *gin.Context) {
	a.putDocument(c, a.d.SLA != nil, "SLA policies", func(ctx context.Context, b []byte) error { return a.d.SLA.ReplacePolicies(ctx, b) })
}

func (a *API) getAutomationRules(c *gin.Context) {
	a.getDocument(c, a.d.Automation != nil, "automation rules", func(ctx context.Context) ([]byte, error) { return a.d.Automation.Rules(ctx) })
}

func (a *API) putAutomationRules(c *gin.Context) {
	a.putDocument(c, a.d.Automation != nil, "automation rules", func(ctx context.Context, b []byte) error { return a.d.Automation.ReplaceRules(ctx, b) })
}

// importMemory is how much of an upload is held in memory; the rest of a
// large file is spooled to a temporary file by mime/multipart.
const importMemory = 16 << 20

// importResponse is the body of POST /api/v1/imports.
type importResponse struct {
	Summary any `json:"summary"`
	// RejectsCSV holds the rejected rows, with the reason for each, as CSV
	// that can be fixed and uploaded again; empty when every row was taken.
	RejectsCSV string `json:"rejects_csv,omitempty"`
}

func (a *API) importTickets(c *gin.Context) {
	if a.d.Importer == nil {
		notConfigured(c, "imports")
		return
	}
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		write(c, problem.UnsupportedMediaType("Content-Type must be multipart/form-data with parts file and mapping"))
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, a.cfg.MaxImportBytes)
	if err := c.Request.ParseMultipartForm(importMemory); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			write(c, problem.PayloadTooLarge(fmt.Sprintf("upload exceeds %d bytes", a.cfg.MaxImportBytes)))
			return
		}
		write(c, problem.BadRequest("malformed multipart body"))
		return
	}
	form := c.Request.MultipartForm
	defer func() { _ = form.RemoveAll() }()

	var fields []problem.FieldError
	bad := func(field, msg string) { fields = append(fields, problem.FieldError{Field: field, Message: msg}) }
	for name := range form.Value {
		if name != "mapping" && name != "dry_run" {
			bad(name, "unknown form field")
		}
	}
	for name := range form.File {
		if name != "mapping" && name != "file" {
			bad(name, "unknown form field")
		}
	}
	var fileHeader *multipart.FileHeader
	switch fs := form.File["file"]; len(fs) {
	case 0:
		bad("file", "is required: the CSV or JSON Lines file to import")
	case 1:
		fileHeader = fs[0]
	default:
		bad("file", "must be given once")
	}
	mapping, ok := formText(form, "mapping", a.cfg.MaxBodyBytes)
	if !ok {
		bad("mapping", "is required once: the YAML mapping, as a field or a file")
	}
	dryRun := false
	if vs := form.Value["dry_run"]; len(vs) > 0 {
		b, err := strconv.ParseBool(vs[0])
		if err != nil || len(vs) > 1 {
			bad("dry_run", "must be given at most once, as true or false")
		}
		dryRun = b
	}
	if len(fields) > 0 {
		write(c, problem.BadRequest("invalid import form", fields...))
		return
	}
	file, err := fileHeader.Open()
	if err != nil {
		a.fail(c, fmt.Errorf("tickets/api: open uploaded file: %w", err))
		return
	}
	defer func() { _ = file.Close() }()

	summary, rejects, err := a.d.Importer.Import(c.Request.Context(), mapping, file, fileHeader.Filename, dryRun, auth.Actor(c))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, importResponse{Summary: summary, RejectsCSV: string(rejects)})
}

// formText returns a multipart field given exactly once, either as a plain
// value or as a (small) file part.
func formText(form *multipart.Form, name string, max int64) ([]byte, bool) {
	vs, fs := form.Value[name], form.File[name]
	switch {
	case len(vs)+len(fs) != 1:
		return nil, false
	case len(vs) == 1:
		return []byte(vs[0]), vs[0] != ""
	}
	f, err := fs[0].Open()
	if err != nil {
		return nil, false
	}
	defer func() { _ = f.Close() }()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil || len(b) == 0 || int64(len(b)) > max {
		return nil, false
	}
	return b, true
}

// clientJSON is an API client as the admin routes show it; the secret hash
// never leaves the server.
type clientJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      auth.Role `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	Disabled  bool      `json:"disabled"`
	// Secret is set only in the answer to the create request.
	Secret string `json:"client_secret,omitempty"`
}

func toClientJSON(c auth.Client) clientJSON {
	return clientJSON{ID: c.ID, Name: c.Name, Role: c.Role, CreatedAt: c.CreatedAt, Disabled: c.Disabled}
}

// clientList is the body of GET /api/v1/clients.
type clientList struct {
	Clients []clientJSON `json:"clients"`
}

func (a *API) listClients(c *gin.Context) {
	if a.d.Clients == nil {
		notConfigured(c, "API clients")
		return
	}
	cs, err := a.d.Clients.ListClients(c.Request.Context())
	if err != nil {
		a.fail(c, err)
		return
	}
	out := clientList{Clients: make([]clientJSON, 0, len(cs))}
	for _, x := range cs {
		out.Clients = append(out.Clients, toClientJSON(x))
	}
	c.JSON(http.StatusOK, out)
}

// newClientRequest is the body of POST /api/v1/clients.
type newClientRequest struct {
	Name string    `json:"name"`
	Role auth.Role `json:"role"`
}

func (a *API) createClient(c *gin.Context) {
	if a.d.Clients == nil {
		notConfigured(c, "API clients")
		return
	}
	var r newClientRequest
	if !a.decode(c, &r) {
		return
	}
	var v tickets.ValidationError
	if n := strings.TrimSpace(r.Name); n == "" || utf8.RuneCountInString(n) > 200 {
		v.Add("name", "is required, at most 200 characters")
	}
	if !r.Role.Valid() {
		roles := make([]string, 0, len(auth.Roles()))
		for _, x := range auth.Roles() {
			roles = append(roles, string(x))
		}
		v.Add("role", "must be one of %s", strings.Join(roles, ", "))
	}
	if err := v.Err(); err != nil {
		a.fail(c, err)
		return
	}
	cl, secret, err := auth.CreateClient(c.Request.Context(), a.d.Clients, r.Name, r.Role)
	if err != nil {
		a.fail(c, err)
		return
	}
	out := toClientJSON(cl)
	out.Secret = secret
	// The secret is shown once; no cache may keep a copy.
	c.Header("Cache-Control", "no-store")
	c.Header("Location", pathClients+"/"+url.PathEscape(cl.ID))
	c.JSON(http.StatusCreated, out)
}

func (a *API) disableClient(c *gin.Context) {
	if a.d.Clients == nil {
		notConfigured(c, "API clients")
		return
	}
	id := c.Param("id")
	if id == auth.Actor(c) {
		// Disabling the client you are using can lock the last admin out.
		write(c, problem.Conflict("a client cannot disable itself; use another client with clients:manage"))
		return
	}
	cl, err := a.d.Clients.GetClient(c.Request.Context(), id)
	if err != nil {
		a.fail(c, err)
		return
	}
	if !cl.Disabled {
		cl.Disabled = true
		if err := a.d.Clients.UpdateClient(c.Request.Context(), cl); err != nil {
			a.fail(c, err)
			return
		}
	}
	c.Status(http.StatusNoContent)
}

package nluapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/nlu"
	"github.com/switchboard-cc/switchboard/web/problem"
)

// mappings turn nlu's error kinds into statuses; this is the only place
// they meet HTTP.
func mappings() problem.Mapper {
	return problem.Mapper{
		{Err: nlu.ErrEmptyText, Status: http.StatusBadRequest, Title: "Empty text"},
		{Err: nlu.ErrInvalid, Status: http.StatusBadRequest},
		{Err: nlu.ErrRefused, Status: http.StatusUnprocessableEntity, Title: "Model version refused"},
		{Err: nlu.ErrUnavailable, Status: http.StatusServiceUnavailable, Title: "No model serves this task"},
		{Err: nlu.ErrClosed, Status: http.StatusServiceUnavailable},
		{Err: context.DeadlineExceeded, Status: http.StatusServiceUnavailable},
	}
}

// fail answers err as a problem; server-side failures are attached to the
// gin context for the access log, and the client sees a generic detail.
func (a *API) fail(c *gin.Context, err error) {
	a.failWith(c, err, nil)
}

func (a *API) failWith(c *gin.Context, err error, ext map[string]any) {
	p := mappings().Problem(err)
	if p.Status == http.StatusServiceUnavailable {
		c.Header("Retry-After", strconv.Itoa(int(a.cfg.RetryAfter.Seconds())))
		if errors.Is(err, nlu.ErrUnavailable) {
			// Which task has no model is configuration, not a secret,
			// and it tells the operator what to deploy.
			p.Detail = err.Error()
		}
	}
	if p.Status >= 500 {
		_ = c.Error(err)
	}
	if ext != nil {
		p = p.WithExtensions(ext)
	}
	problem.Write(c, p)
}

// decode decodes the JSON body into dst, answering the problem if it
// cannot.
func (a *API) decode(c *gin.Context, dst any) bool {
	if p := problem.DecodeJSON(c, dst, 0); p != nil {
		problem.Write(c, *p)
		return false
	}
	return true
}

// checkText answers the problem with text, if any: missing or blank
// (400), or longer than MaxTextBytes (413).
func (a *API) checkText(c *gin.Context, field string, text *string) bool {
	switch {
	case text == nil:
		problem.Write(c, problem.BadRequest(field+" is required", problem.FieldError{Field: field, Message: "is required"}))
	case strings.TrimSpace(*text) == "":
		p := problem.BadRequest(field+" is empty", problem.FieldError{Field: field, Message: "must contain more than white space"})
		p.Title = "Empty text"
		problem.Write(c, p)
	case len(*text) > a.cfg.MaxTextBytes:
		msg := fmt.Sprintf("must be at most %d bytes", a.cfg.MaxTextBytes)
		p := problem.PayloadTooLarge(field + " " + msg)
		p.Errors = []problem.FieldError{{Field: field, Message: msg}}
		problem.Write(c, p)
	default:
		return true
	}
	return false
}

type textRequest struct {
	Text *string `json:"text"`
}

type classifyRequest struct {
	Text *string `json:"text"`
	// K is how many labelled neighbours to list; nil means the default.
	K *int `json:"k"`
}

type classifyResponse struct {
	nlu.Classification
	// Neighbors is absent when the server has no neighbour search or no
	// embedding model, and empty when nothing labelled is near.
	Neighbors []Neighbor `json:"neighbors,omitzero"`
}

func (a *API) classify(c *gin.Context) {
	var req classifyRequest
	if !a.decode(c, &req) || !a.checkText(c, "text", req.Text) {
		return
	}
	k := a.cfg.Neighbors
	if req.K != nil {
		if *req.K < 0 || *req.K > a.cfg.MaxNeighbors {
			msg := fmt.Sprintf("must be between 0 and %d", a.cfg.MaxNeighbors)
			problem.Write(c, problem.BadRequest("k "+msg, problem.FieldError{Field: "k", Message: msg}))
			return
		}
		k = *req.K
	}
	ctx := c.Request.Context()
	res, err := a.d.Service.Classify(ctx, *req.Text)
	if err != nil {
		a.fail(c, err)
		return
	}
	out := classifyResponse{Classification: res}
	if a.d.Neighbors != nil && k > 0 {
		out.Neighbors = a.neighbors(c, *req.Text, k)
	}
	c.JSON(http.StatusOK, out)
}

// neighbors returns the labelled tickets nearest to text, or nil when they
// cannot be had: they support the answer, and their absence must not fail
// it.
func (a *API) neighbors(c *gin.Context, text string, k int) []Neighbor {
	ctx := c.Request.Context()
	vec, _, err := a.d.Service.EmbedOne(ctx, text)
	if err != nil {
		if !errors.Is(err, nlu.ErrUnavailable) {
			_ = c.Error(fmt.Errorf("nluapi: classification neighbours: %w", err))
		}
		return nil
	}
	ns, err := a.d.Neighbors.NearestLabelled(ctx, vec, k)
	if err != nil {
		_ = c.Error(fmt.Errorf("nluapi: classification neighbours: %w", err))
		return nil
	}
	if ns == nil {
		ns = []Neighbor{}
	}
	return ns
}

func (a *API) intent(c *gin.Context) {
	var req textRequest
	if !a.decode(c, &req) || !a.checkText(c, "text", req.Text) {
		return
	}
	res, err := a.d.Service.Intent(c.Request.Context(), *req.Text)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

func (a *API) sentiment(c *gin.Context) {
	var req textRequest
	if !a.decode(c, &req) || !a.checkText(c, "text", req.Text) {
		return
	}
	res, err := a.d.Service.Sentiment(c.Request.Context(), *req.Text)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

type embedRequest struct {
	Texts []string `json:"texts"`
}

type embedResponse struct {
	ModelVersion string      `json:"model_version"`
	Dim          int         `json:"dim"`
	Embeddings   [][]float32 `json:"embeddings"`
}

func (a *API) embed(c *gin.Context) {
	var req embedRequest
	if !a.decode(c, &req) {
		return
	}
	switch n := len(req.Texts); {
	case n == 0:
		problem.Write(c, problem.BadRequest("texts must list at least one text", problem.FieldError{Field: "texts", Message: "must not be empty"}))
		return
	case n > a.cfg.MaxTexts:
		msg := fmt.Sprintf("must list at most %d texts", a.cfg.MaxTexts)
		p := problem.PayloadTooLarge("texts " + msg)
		p.Errors = []problem.FieldError{{Field: "texts", Message: msg}}
		problem.Write(c, p)
		return
	}
	for k := range req.Texts {
		if !a.checkText(c, fmt.Sprintf("texts[%d]", k), &req.Texts[k]) {
			return
		}
	}
	vecs, version, err := a.d.Service.Embed(c.Request.Context(), req.Texts)
	if err != nil {
		a.fail(c, err)
		return
	}
	out := embedResponse{ModelVersion: version, Embeddings: vecs}
	if len(vecs) > 0 {
		out.Dim = len(vecs[0])
	}
	c.JSON(http.StatusOK, out)
}

type modelsResponse struct {
	Status   nlu.Status                            `json:"status"`
	Manifest nlu.Manifest                          `json:"manifest"`
	Cards    map[string]map[string]json.RawMessage `json:"cards"`
}

func (a *API) models(c *gin.Context) {
	out := modelsResponse{
		Status:   a.d.Service.Status(),
		Manifest: a.d.Service.Manifest(),
		Cards:    map[string]map[string]json.RawMessage{},
	}
	for task, versions := range a.d.Service.Cards() {
		out.Cards[task] = map[string]json.RawMessage{}
		for v, card := range versions {
			if !json.Valid(card) {
				continue // the loader parsed it; a card that no longer is must not break the answer
			}
			out.Cards[task][v] = card
		}
	}
	c.JSON(http.StatusOK, out)
}

type reloadResponse struct {
	Status nlu.Status `json:"status"`
}

func (a *API) reload(c *gin.Context) {
	err := a.d.Service.Reload(c.Request.Context())
	if err != nil {
		// What serves is worth seeing next to why the new versions were
		// refused ("status" is taken by the problem's HTTP status).
		a.failWith(c, err, map[string]any{"serving": a.d.Service.Status()})
		return
	}
	c.JSON(http.StatusOK, reloadResponse{Status: a.d.Service.Status()})
}

type shadowResponse struct {
	Reports []nlu.ShadowReport `json:"reports"`
}

func (a *API) shadow(c *gin.Context) {
	q := c.Request.URL.Query()
	for k := range q {
		if k != "task" {
			problem.Write(c, problem.BadRequest("unknown parameter "+strconv.Quote(k), problem.FieldError{Field: k, Message: "unknown parameter"}))
			return
		}
	}
	out := shadowResponse{Reports: []nlu.ShadowReport{}}
	if task := q.Get("task"); task != "" {
		out.Reports = append(out.Reports, a.d.Service.Shadow(task))
		c.JSON(http.StatusOK, out)
		return
	}
	var tasks []string
	for _, ts := range a.d.Service.Status().Tasks {
		if ts.Candidate != nil {
			tasks = append(tasks, ts.Task)
		}
	}
	slices.Sort(tasks)
	for _, t := range tasks {
		out.Reports = append(out.Reports, a.d.Service.Shadow(t))
	}
	c.JSON(http.StatusOK, out)
}

func (a *API) intentHealth(c *gin.Context) {
	q := c.Request.URL.Query()
	var fields []problem.FieldError
	var since time.Time
	limit := 0
	for k, vs := range q {
		if len(vs) != 1 {
			fields = append(fields, problem.FieldError{Field: k, Message: "must be given once"})
			continue
		}
		switch k {
		case "since":
			t, err := time.Parse(time.RFC3339Nano, vs[0])
			if err != nil {
				fields = append(fields, problem.FieldError{Field: k, Message: "must be an RFC 3339 time, e.g. 2026-01-02T15:04:05Z"})
			}
			since = t
		case "limit":
			n, err := strconv.Atoi(vs[0])
			if err != nil || n < 1 || n > nlu.MaxHealthLimit {
				fields = append(fields, problem.FieldError{Field: k, Message: fmt.Sprintf("must be an integer between 1 and %d", nlu.MaxHealthLimit)})
			}
			limit = n
		default:
			fields = append(fields, problem.FieldError{Field: k, Message: "unknown parameter"})
		}
	}
	if len(fields) > 0 {
		slices.SortFunc(fields, func(x, y problem.FieldError) int { return strings.Compare(x.Field, y.Field) })
		problem.Write(c, problem.BadRequest("invalid query parameters", fields...))
		return
	}
	rep, err := a.d.Service.IntentHealth(c.Request.Context(), since, limit)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, rep)
}

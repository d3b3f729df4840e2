package api

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/web/auth"
	"github.com/switchboard-cc/switchboard/web/problem"
)

// ETag returns the entity tag of a ticket revision, `"<seq_no>-<primary_term>"`.
// It is a strong tag: any stored change moves the sequence number.
func ETag(v tickets.Version) string {
	return fmt.Sprintf(`"%d-%d"`, v.SeqNo, v.PrimaryTerm)
}

// parseETag is the inverse of ETag.
func parseETag(s string) (tickets.Version, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return tickets.Version{}, false
	}
	seq, term, ok := strings.Cut(s[1:len(s)-1], "-")
	if !ok {
		return tickets.Version{}, false
	}
	sn, err1 := strconv.ParseInt(seq, 10, 64)
	pt, err2 := strconv.ParseInt(term, 10, 64)
	if err1 != nil || err2 != nil || sn < 0 || pt < 1 {
		return tickets.Version{}, false
	}
	return tickets.Version{SeqNo: sn, PrimaryTerm: pt}, true
}

// updateOptions builds the options of a change to ticket id from the
// request: the caller as actor, and the If-Match precondition. If-Match
// "*" only asks that the ticket exist, which every update checks anyway.
// A list of several tags is resolved against the current version, since
// the Service compares with one; a tag that is not one of ours can never
// match, so it fails the precondition (RFC 9110 §13.1.1).
func (a *API) updateOptions(c *gin.Context, id string) (tickets.UpdateOptions, bool) {
	o := tickets.UpdateOptions{Actor: auth.Actor(c)}
	header := strings.TrimSpace(c.GetHeader("If-Match"))
	if header == "" || header == "*" {
		return o, true
	}
	var tags []tickets.Version
	for _, part := range strings.Split(header, ",") {
		if v, ok := parseETag(part); ok {
			tags = append(tags, v)
		}
	}
	if len(tags) == 0 {
		write(c, problem.PreconditionFailed("If-Match names no version of this ticket; send the ETag of your last read"))
		return o, false
	}
	expect := tags[0]
	if len(tags) > 1 {
		_, cur, err := a.d.Tickets.Get(c.Request.Context(), id)
		if err != nil {
			a.fail(c, err)
			return o, false
		}
		if !slices.Contains(tags, cur) {
			write(c, problem.PreconditionFailed("the ticket has changed since you read it"))
			return o, false
		}
		expect = cur
	}
	o.Expect = &expect
	return o, true
}

// answer sends a ticket with its ETag.
func answer(c *gin.Context, status int, t *tickets.Ticket, v tickets.Version) {
	c.Header("ETag", ETag(v))
	c.JSON(status, t)
}

// decode decodes a JSON body strictly under the API's limit; on failure it
// has answered and returns false.
func (a *API) decode(c *gin.Context, dst any) bool {
	if p := problem.DecodeJSON(c, dst, a.cfg.MaxBodyBytes); p != nil {
		write(c, *p)
		return false
	}
	return true
}

func (a *API) createTicket(c *gin.Context) {
	var n tickets.NewTicket
	if !a.decode(c, &n) {
		return
	}
	t, v, err := a.d.Tickets.Create(c.Request.Context(), auth.Actor(c), n)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Location", pathTickets+"/"+url.PathEscape(t.ID))
	answer(c, http.StatusCreated, t, v)
}

func (a *API) getTicket(c *gin.Context) {
	t, v, err := a.d.Tickets.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	if inm := c.GetHeader("If-None-Match"); inm != "" && noneMatchHits(inm, v) {
		c.Header("ETag", ETag(v))
		c.Status(http.StatusNotModified)
		return
	}
	answer(c, http.StatusOK, t, v)
}

// noneMatchHits reports whether an If-None-Match header names v; weak
// comparison applies (RFC 9110 §13.1.2).
func noneMatchHits(header string, v tickets.Version) bool {
	if strings.TrimSpace(header) == "*" {
		return true
	}
	for _, part := range strings.Split(header, ",") {
		part = strings.TrimPrefix(strings.TrimSpace(part), "W/")
		if got, ok := parseETag(part); ok && got == v {
			return true
		}
	}
	return false
}

func (a *API) patchTicket(c *gin.Context) {
	id := c.Param("id")
	var p tickets.Patch
	if !a.decode(c, &p) {
		return
	}
	o, ok := a.updateOptions(c, id)
	if !ok {
		return
	}
	t, v, err := a.d.Tickets.Patch(c.Request.Context(), id, o, p)
	if err != nil {
		a.fail(c, err)
		return
	}
	answer(c, http.StatusOK, t, v)
}

func (a *API) deleteTicket(c *gin.Context) {
	if err := a.d.Tickets.Delete(c.Request.Context(), c.Param("id"), auth.Actor(c)); err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// transitionRequest is the body of POST /tickets/:id/transitions.
type transitionRequest struct {
	Status tickets.Status `json:"status"`
	Reason string         `json:"reason,omitempty"`
}

func (a *API) transitionTicket(c *gin.Context) {
	id := c.Param("id")
	var r transitionRequest
	if !a.decode(c, &r) {
		return
	}
	o, ok := a.updateOptions(c, id)
	if !ok {
		return
	}
	t, v, err := a.d.Tickets.Transition(c.Request.Context(), id, o, r.Status, r.Reason)
	if err != nil {
		a.fail(c, err)
		return
	}
	answer(c, http.StatusOK, t, v)
}

func (a *API) commentTicket(c *gin.Context) {
	id := c.Param("id")
	var r tickets.NewComment
	if !a.decode(c, &r) {
		return
	}
	o, ok := a.updateOptions(c, id)
	if !ok {
		return
	}
	t, v, err := a.d.Tickets.Comment(c.Request.Context(), id, o, r)
	if err != nil {
		a.fail(c, err)
		return
	}
	answer(c, http.StatusCreated, t, v)
}

// csatRequest is the body of PUT /tickets/:id/csat.
type csatRequest struct {
	Score   int    `json:"score"`
	Comment string `json:"comment,omitempty"`
}

func (a *API) rateTicket(c *gin.Context) {
	id := c.Param("id")
	var r csatRequest
	if !a.decode(c, &r) {
		return
	}
	o, ok := a.updateOptions(c, id)
	if !ok {
		return
	}
	t, v, err := a.d.Tickets.RateCSAT(c.Request.Context(), id, o, r.Score, r.Comment)
	if err != nil {
		a.fail(c, err)
		return
	}
	answer(c, http.StatusOK, t, v)
}

// historyResponse is the body of GET /tickets/:id/history.
type historyResponse struct {
	TicketID string           `json:"ticket_id"`
	History  []tickets.Change `json:"history"`
}

func (a *API) ticketHistory(c *gin.Context) {
	t, v, err := a.d.Tickets.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	h := t.History
	if h == nil {
		h = []tickets.Change{}
	}
	c.Header("ETag", ETag(v))
	c.JSON(http.StatusOK, historyResponse{TicketID: t.ID, History: h})
}

// similarResponse lists a ticket's nearest neighbours; with labelled=true
// it is the evidence behind the ticket's classification.
type similarResponse struct {
	TicketID string             `json:"ticket_id"`
	Category *tickets.Category  `json:"category,omitempty"`
	Similar  []tickets.Neighbor `json:"similar"`
}

func (a *API) similarTickets(c *gin.Context) {
	p := queryParser{values: c.Request.URL.Query()}
	k := 5
	if s, ok := p.one("k"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 50 {
			p.fail("k", "must be an integer between 1 and 50")
		}
		k = n
	}
	labelled := p.bool("labelled")
	if fields := p.finish(); len(fields) > 0 {
		write(c, problem.BadRequest("invalid query parameters", fields...))
		return
	}
	ctx := c.Request.Context()
	t, _, err := a.d.Tickets.Get(ctx, c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	ns, err := a.d.Tickets.Similar(ctx, t.ID, k, labelled != nil && *labelled)
	if err != nil {
		a.fail(c, err)
		return
	}
	if ns == nil {
		ns = []tickets.Neighbor{}
	}
	c.JSON(http.StatusOK, similarResponse{TicketID: t.ID, Category: t.Category, Similar: ns})
}

func (a *API) searchTickets(c *gin.Context) {
	q, fields := parseQuery(c.Request.URL.Query())
	if len(fields) > 0 {
		write(c, problem.BadRequest("invalid query parameters", fields...))
		return
	}
	// The Service checks the values' domain rules (known statuses, page
	// size); as they came from the query string, a violation is a 400.
	page, err := a.d.Tickets.Search(c.Request.Context(), q)
	if err != nil {
		a.failAs(c, err, http.StatusBadRequest)
		return
	}
	if page.Tickets == nil {
		page.Tickets = []*tickets.Ticket{}
	}
	if page.Next != "" {
		next := c.Request.URL.Query()
		next.Set("after", page.Next)
		c.Header("Link", "<"+pathTickets+"?"+next.Encode()+`>; rel="next"`)
	}
	c.JSON(http.StatusOK, page)
}

func (a *API) stats(c *gin.Context) {
	q, fields := parseStatsQuery(c.Request.URL.Query())
	if len(fields) > 0 {
		write(c, problem.BadRequest("invalid query parameters", fields...))
		return
	}
	st, err := a.d.Tickets.Stats(c.Request.Context(), q)
	if err != nil {
		a.failAs(c, err, http.StatusBadRequest)
		return
	}
	c.JSON(http.StatusOK, st)
}

package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/webhook"
	"github.com/switchboard-cc/switchboard/web/problem"
)

// Webhooks manages webhook endpoints and deliveries; *webhook.Dispatcher
// is one. Errors wrap the tickets kinds (ErrNotFound, ErrConflict,
// ErrInvalid with a *tickets.ValidationError).
type Webhooks interface {
	CreateEndpoint(ctx context.Context, e webhook.Endpoint) (webhook.Endpoint, error)
	GetEndpoint(ctx context.Context, name string) (webhook.Endpoint, error)
	ListEndpoints(ctx context.Context) ([]webhook.Endpoint, error)
	UpdateEndpoint(ctx context.Context, name string, e webhook.Endpoint) (webhook.Endpoint, error)
	DeleteEndpoint(ctx context.Context, name string) error
	Deliveries(ctx context.Context, f webhook.Filter, size int) ([]webhook.Delivery, error)
	Redeliver(ctx context.Context, id string) (webhook.Delivery, error)
}

// reservedEndpointName would be shadowed by GET /webhooks/deliveries.
const reservedEndpointName = "deliveries"

// endpointRequest is what a client may set on an endpoint; the rest of
// webhook.Endpoint is the server's to say.
type endpointRequest struct {
	Name   string              `json:"name"`
	URL    string              `json:"url"`
	Secret string              `json:"secret,omitempty"`
	Events []tickets.EventType `json:"events"`
	// Enabled defaults to true: an endpoint created without it is
	// expected to receive events.
	Enabled *bool `json:"enabled,omitempty"`
}

func (r endpointRequest) endpoint() webhook.Endpoint {
	enabled := r.Enabled == nil || *r.Enabled
	return webhook.Endpoint{Name: r.Name, URL: r.URL, Secret: r.Secret, Events: r.Events, Enabled: enabled}
}

// webhookList is the body of GET /api/v1/webhooks.
type webhookList struct {
	Webhooks []webhook.Endpoint `json:"webhooks"`
}

// deliveryList is the body of GET /api/v1/webhooks/deliveries.
type deliveryList struct {
	Deliveries []webhook.Delivery `json:"deliveries"`
}

func (a *API) webhooks(c *gin.Context) bool {
	if a.d.Webhooks == nil {
		notConfigured(c, "webhooks")
		return false
	}
	return true
}

func (a *API) listWebhooks(c *gin.Context) {
	if !a.webhooks(c) {
		return
	}
	eps, err := a.d.Webhooks.ListEndpoints(c.Request.Context())
	if err != nil {
		a.fail(c, err)
		return
	}
	if eps == nil {
		eps = []webhook.Endpoint{}
	}
	c.JSON(http.StatusOK, webhookList{Webhooks: eps})
}

func (a *API) createWebhook(c *gin.Context) {
	if !a.webhooks(c) {
		return
	}
	var r endpointRequest
	if !a.decode(c, &r) {
		return
	}
	if r.Name == reservedEndpointName {
		var v tickets.ValidationError
		v.Add("name", "%q is reserved", reservedEndpointName)
		a.fail(c, &v)
		return
	}
	ep, err := a.d.Webhooks.CreateEndpoint(c.Request.Context(), r.endpoint())
	if err != nil {
		a.fail(c, err)
		return
	}
	// A generated secret is in this answer only.
	c.Header("Cache-Control", "no-store")
	c.Header("Location", pathWebhooks+"/"+url.PathEscape(ep.Name))
	c.JSON(http.StatusCreated, ep)
}

func (a *API) getWebhook(c *gin.Context) {
	if !a.webhooks(c) {
		return
	}
	ep, err := a.d.Webhooks.GetEndpoint(c.Request.Context(), c.Param("name"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, ep)
}

func (a *API) putWebhook(c *gin.Context) {
	if !a.webhooks(c) {
		return
	}
	var r endpointRequest
	if !a.decode(c, &r) {
		return
	}
	ep, err := a.d.Webhooks.UpdateEndpoint(c.Request.Context(), c.Param("name"), r.endpoint())
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, ep)
}

func (a *API) deleteWebhook(c *gin.Context) {
	if !a.webhooks(c) {
		return
	}
	if err := a.d.Webhooks.DeleteEndpoint(c.Request.Context(), c.Param("name")); err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (a *API) listDeliveries(c *gin.Context) {
	if !a.webhooks(c) {
		return
	}
	p := &queryParser{values: c.Request.URL.Query()}
	var f webhook.Filter
	f.Endpoint, _ = p.one("endpoint")
	f.TicketID, _ = p.one("ticket_id")
	status, _ := p.one("status")
	f.Status = webhook.Status(status)
	size := 0
	if s, ok := p.one("size"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > webhook.MaxDeliveriesSize {
			p.fail("size", "must be an integer between 1 and %d", webhook.MaxDeliveriesSize)
		}
		size = n
	}
	if errs := p.finish(); len(errs) > 0 {
		write(c, problem.BadRequest("invalid query parameters", errs...))
		return
	}
	ds, err := a.d.Webhooks.Deliveries(c.Request.Context(), f, size)
	if err != nil {
		a.failAs(c, err, http.StatusBadRequest)
		return
	}
	if ds == nil {
		ds = []webhook.Delivery{}
	}
	c.JSON(http.StatusOK, deliveryList{Deliveries: ds})
}

func (a *API) redeliver(c *gin.Context) {
	if !a.webhooks(c) {
		return
	}
	d, err := a.d.Webhooks.Redeliver(c.Request.Context(), c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, d)
}

var _ Webhooks = (*webhook.Dispatcher)(nil)

package recordapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/switchboard-cc/switchboard/es"
)

// Elasticsearch is what the Auditor needs of a cluster; *es.Client is one.
// It must be safe for concurrent use.
type Elasticsearch interface {
	Name(logical string) string
	Do(ctx context.Context, method, path string, body, out any) error
}

// AuditIndex is the logical name of the audit log's index; the cluster's
// prefix goes in front.
const AuditIndex = "recording-audit"

// Result is what became of an access to a recording.
type Result string

// The results. Served is written before the first byte leaves, so it
// means "access granted": a client that hangs up mid-download still
// counts as served.
const (
	ResultServed   Result = "served"
	ResultNotFound Result = "not_found"
	ResultError    Result = "error"
)

// Entry is one access to a call's recording.
type Entry struct {
	At time.Time `json:"at"`
	// Actor is the API client that asked (auth.Actor).
	Actor  string `json:"actor"`
	CallID string `json:"call_id"`
	// RemoteAddr is the client's IP as the server sees it (through the
	// proxies it trusts).
	RemoteAddr string `json:"remote_addr"`
	Result     Result `json:"result"`
	// Bytes is the size of the recording the access was granted to (0
	// unless served); Range, when present, is the part that was asked for.
	Bytes int64  `json:"bytes"`
	Range string `json:"range,omitempty"`
	// RequestID ties the entry to the access log's line.
	RequestID string `json:"request_id,omitempty"`
}

// Auditor keeps the audit log of recording accesses in Elasticsearch. It
// is safe for concurrent use.
type Auditor struct {
	es Elasticsearch
}

// NewAuditor returns an Auditor writing to c. The index (Index) must be
// ensured before the first Log: Log refuses to write anywhere but the
// alias, so a missing index fails the access instead of auto-creating an
// index with guessed mappings.
func NewAuditor(c Elasticsearch) *Auditor { return &Auditor{es: c} }

// Index describes the audit index for es.Client.Ensure.
func (a *Auditor) Index() es.Index {
	kw := map[string]any{"type": "keyword"}
	return es.Index{
		Name:     AuditIndex,
		Version:  1,
		Settings: map[string]any{"number_of_shards": 1},
		Mappings: map[string]any{
			"dynamic": "strict",
			"properties": map[string]any{
				"at":          map[string]any{"type": "date"},
				"actor":       kw,
				"call_id":     kw,
				"remote_addr": kw,
				"result":      kw,
				"bytes":       map[string]any{"type": "long"},
				"range":       kw,
				"request_id":  kw,
			},
		},
	}
}

// Log writes e and returns once Elasticsearch has it durably (the index
// API acknowledges after its translog is synced). A zero At is now.
func (a *Auditor) Log(ctx context.Context, e Entry) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.At = e.At.UTC()
	path := "/" + url.PathEscape(a.es.Name(AuditIndex)) + "/_doc?require_alias=true"
	if err := a.es.Do(ctx, http.MethodPost, path, e, nil); err != nil {
		return fmt.Errorf("recordapi: audit %s of %s: %w", e.Result, e.CallID, err)
	}
	return nil
}

// MaxList bounds List's size.
const MaxList = 1000

// List returns up to size entries, newest first, of one call's recording
// (callID "" for every call). Entries become visible to List about a
// second after Log (the index's refresh).
func (a *Auditor) List(ctx context.Context, callID string, size int) ([]Entry, error) {
	size = min(max(size, 1), MaxList)
	query := map[string]any{"match_all": map[string]any{}}
	if callID != "" {
		query = map[string]any{"term": map[string]any{"call_id": callID}}
	}
	body := map[string]any{
		"size":  size,
		"query": query,
		"sort":  []any{map[string]any{"at": map[string]any{"order": "desc"}}},
	}
	var res struct {
		Hits struct {
			Hits []struct {
				Source Entry `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	path := "/" + url.PathEscape(a.es.Name(AuditIndex)) + "/_search"
	if err := a.es.Do(ctx, http.MethodPost, path, body, &res); err != nil {
		if es.IsType(err, "index_not_found_exception") {
			return []Entry{}, nil
		}
		return nil, fmt.Errorf("recordapi: list audit entries: %w", err)
	}
	out := make([]Entry, 0, len(res.Hits.Hits))
	for _, h := range res.Hits.Hits {
		out = append(out, h.Source)
	}
	return out, nil
}

// errNoAudit marks an access refused because it could not be audited.
var errNoAudit = errors.New("recordapi: access not audited")

var _ AuditLog = (*Auditor)(nil)

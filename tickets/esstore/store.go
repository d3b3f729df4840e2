package esstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/tickets"
)

// writeResult is the part of an index or create response we use.
type writeResult struct {
	SeqNo       int64 `json:"_seq_no"`
	PrimaryTerm int64 `json:"_primary_term"`
}

func (w writeResult) version() tickets.Version {
	return tickets.Version{SeqNo: w.SeqNo, PrimaryTerm: w.PrimaryTerm}
}

// docPath returns /<index>/<endpoint>/<id>?<params>, escaping the id so that
// any ticket id (slashes, spaces, '?') addresses exactly one document.
func docPath(index, endpoint, id string, params url.Values) string {
	p := "/" + url.PathEscape(index) + "/" + endpoint + "/" + url.PathEscape(id)
	if len(params) > 0 {
		p += "?" + params.Encode()
	}
	return p
}

func (s *Store) refreshParam() string {
	if s.cfg.RefreshOnWrite {
		return "wait_for"
	}
	return ""
}

func (s *Store) writeParams() url.Values {
	v := url.Values{}
	if r := s.refreshParam(); r != "" {
		v.Set("refresh", r)
	}
	return v
}

// Create stores a new ticket; tickets.ErrConflict if its ID exists.
func (s *Store) Create(ctx context.Context, t *tickets.Ticket) (tickets.Version, error) {
	if t == nil || t.ID == "" {
		return tickets.Version{}, invalid("id", "is required")
	}
	var res writeResult
	err := s.c.Do(ctx, http.MethodPut, docPath(s.tickets, "_create", t.ID, s.writeParams()), s.newDoc(t), &res)
	if es.StatusOf(err) == http.StatusConflict {
		return tickets.Version{}, fmt.Errorf("esstore: create %s: ticket exists: %w", t.ID, tickets.ErrConflict)
	}
	if err != nil {
		return tickets.Version{}, wrap("create "+t.ID, err)
	}
	return res.version(), nil
}

// Get returns a ticket and its current version; tickets.ErrNotFound if
// absent. It is a realtime get: it sees every acknowledged write, refreshed
// or not.
func (s *Store) Get(ctx context.Context, id string) (*tickets.Ticket, tickets.Version, error) {
	if id == "" {
		return nil, tickets.Version{}, fmt.Errorf("esstore: get: empty id: %w", tickets.ErrNotFound)
	}
	var res struct {
		writeResult
		Source json.RawMessage `json:"_source"`
	}
	err := s.c.Do(ctx, http.MethodGet, docPath(s.tickets, "_doc", id, url.Values{"_source_excludes": {derivedFields}}), nil, &res)
	if es.StatusOf(err) == http.StatusNotFound && !es.IsType(err, "index_not_found_exception") {
		return nil, tickets.Version{}, fmt.Errorf("esstore: get %s: %w", id, tickets.ErrNotFound)
	}
	if err != nil {
		return nil, tickets.Version{}, wrap("get "+id, err)
	}
	d := doc{Ticket: new(tickets.Ticket)}
	if err := json.Unmarshal(res.Source, &d); err != nil {
		return nil, tickets.Version{}, fmt.Errorf("esstore: get %s: decode: %w", id, err)
	}
	d.Ticket.Embedding = d.Embedding
	return d.Ticket, res.version(), nil
}

// Replace overwrites a ticket only if it is still at version v:
// tickets.ErrConflict if it changed since, tickets.ErrNotFound if it does
// not exist.
func (s *Store) Replace(ctx context.Context, t *tickets.Ticket, v tickets.Version) (tickets.Version, error) {
	if t == nil || t.ID == "" {
		return tickets.Version{}, invalid("id", "is required")
	}
	if v.PrimaryTerm < 1 || v.SeqNo < 0 {
		// No stored revision has this version, so the caller's copy
		// cannot be current.
		return tickets.Version{}, fmt.Errorf("esstore: replace %s: version %d/%d names no stored revision: %w", t.ID, v.SeqNo, v.PrimaryTerm, tickets.ErrConflict)
	}
	params := s.writeParams()
	params.Set("if_seq_no", fmt.Sprint(v.SeqNo))
	params.Set("if_primary_term", fmt.Sprint(v.PrimaryTerm))
	var res writeResult
	err := s.c.Do(ctx, http.MethodPut, docPath(s.tickets, "_doc", t.ID, params), s.newDoc(t), &res)
	if es.StatusOf(err) == http.StatusConflict {
		// A conditional write to a missing document conflicts too; tell
		// the two apart so that the caller does not retry forever.
		exists, xerr := s.exists(ctx, t.ID)
		if xerr == nil && !exists {
			return tickets.Version{}, fmt.Errorf("esstore: replace %s: %w", t.ID, tickets.ErrNotFound)
		}
		return tickets.Version{}, fmt.Errorf("esstore: replace %s: changed since version %d/%d: %w", t.ID, v.SeqNo, v.PrimaryTerm, tickets.ErrConflict)
	}
	if err != nil {
		return tickets.Version{}, wrap("replace "+t.ID, err)
	}
	return res.version(), nil
}

func (s *Store) exists(ctx context.Context, id string) (bool, error) {
	var res struct {
		Found bool `json:"found"`
	}
	err := s.c.Do(ctx, http.MethodGet, docPath(s.tickets, "_doc", id, url.Values{"_source": {"false"}}), nil, &res)
	if es.StatusOf(err) == http.StatusNotFound && !es.IsType(err, "index_not_found_exception") {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return res.Found, nil
}

// CreateMany stores new tickets in one bulk request. The returned slice is
// aligned with ts: nil where the ticket was created, an error wrapping
// tickets.ErrConflict where its ID already exists (so re-running an import
// is harmless), tickets.ErrUnavailable where the cluster was overloaded, or
// a *tickets.ValidationError for a nil ticket or an empty ID. The second
// result is a request-level failure, in which case nothing can be assumed
// about which tickets were stored.
func (s *Store) CreateMany(ctx context.Context, ts []*tickets.Ticket) ([]error, error) {
	errs := make([]error, len(ts))
	var body bytes.Buffer
	body.Grow(len(ts) * 2048)
	// Encode straight into the one body: imports spend most of their client
	// CPU here, and on a small machine that CPU is taken from Elasticsearch.
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	index, _ := json.Marshal(s.tickets)
	var sent []int // positions in ts of the actions in body, in order
	for i, t := range ts {
		if t == nil || t.ID == "" {
			errs[i] = invalid(fmt.Sprintf("tickets[%d].id", i), "is required")
			continue
		}
		id, _ := json.Marshal(t.ID)
		body.WriteString(`{"create":{"_index":`)
		body.Write(index)
		body.WriteString(`,"_id":`)
		body.Write(id)
		body.WriteString("}}\n")
		if err := enc.Encode(s.newDoc(t)); err != nil { // Encode ends with '\n'
			return nil, fmt.Errorf("esstore: create many: encode %s: %w", t.ID, err)
		}
		sent = append(sent, i)
	}
	if len(sent) == 0 {
		return errs, nil
	}
	res, err := s.c.Bulk(ctx, body.Bytes(), s.refreshParam())
	if err != nil {
		return nil, wrap(fmt.Sprintf("create many (%d tickets)", len(sent)), err)
	}
	if len(res.Items) != len(sent) {
		return nil, fmt.Errorf("esstore: create many: %d results for %d tickets", len(res.Items), len(sent))
	}
	for k, it := range res.Items {
		i := sent[k]
		switch {
		case it.Status < 300:
		case it.Status == http.StatusConflict:
			errs[i] = fmt.Errorf("esstore: create %s: ticket exists: %w", ts[i].ID, tickets.ErrConflict)
		case it.Status == http.StatusTooManyRequests || it.Status >= 500:
			errs[i] = fmt.Errorf("esstore: create %s: %d %s: %w", ts[i].ID, it.Status, it.Error, tickets.ErrUnavailable)
		default:
			errs[i] = fmt.Errorf("esstore: create %s: %d %s", ts[i].ID, it.Status, it.Error)
		}
	}
	return errs, nil
}

package es

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// Index describes one logical index. Readers and writers always use its
// alias (Client.Name(Name)); the concrete index behind it is
// "<alias>-v<Version>". Raising Version after a mapping change makes Ensure
// create the new index, copy every document into it, and swap the alias
// atomically, so no data is lost and clients never see a missing index.
type Index struct {
	Name    string
	Version int
	// Settings and Mappings are the index template's bodies.
	Settings map[string]any
	Mappings map[string]any
}

// Concrete returns the concrete index name for this version.
func (c *Client) Concrete(ix Index) string {
	return fmt.Sprintf("%s-v%d", c.Name(ix.Name), ix.Version)
}

// Ensure makes each index exist at its version: it writes the versioned
// index template, creates the concrete index with its alias, and migrates
// from an older version when the alias points at one. It is idempotent and
// safe to run from several replicas at once (creation races are benign and
// the copy uses the same document ids).
func (c *Client) Ensure(ctx context.Context, log *slog.Logger, indices ...Index) error {
	for _, ix := range indices {
		if err := c.ensure(ctx, log, ix); err != nil {
			return fmt.Errorf("es: ensure index %s: %w", ix.Name, err)
		}
	}
	return nil
}

func (c *Client) ensure(ctx context.Context, log *slog.Logger, ix Index) error {
	alias := c.Name(ix.Name)
	concrete := c.Concrete(ix)
	tmpl := map[string]any{
		"index_patterns": []string{alias + "-v*"},
		"version":        ix.Version,
		"priority":       100,
		"template":       templateBody(ix),
		"_meta":          map[string]any{"managed_by": "switchboard", "alias": alias},
	}
	if err := c.Do(ctx, http.MethodPut, "/_index_template/"+alias, tmpl, nil); err != nil {
		return fmt.Errorf("put template: %w", err)
	}
	current, err := c.aliasTargets(ctx, alias)
	if err != nil {
		return err
	}
	for _, idx := range current {
		if idx == concrete {
			return nil
		}
	}
	if err := c.createIndex(ctx, concrete, nil); err != nil {
		return err
	}
	if len(current) == 0 {
		log.InfoContext(ctx, "created index", "index", concrete, "alias", alias)
		return c.updateAliases(ctx, []map[string]any{
			{"add": map[string]any{"index": concrete, "alias": alias, "is_write_index": true}},
		})
	}
	// Migration: copy everything, then point the alias at the new index in
	// one atomic action. Writes that land on the old index during the copy
	// are caught by a second pass, which copies only newer documents.
	for _, old := range current {
		log.InfoContext(ctx, "migrating index", "from", old, "to", concrete)
		n, err := c.Copy(ctx, old, concrete)
		if err != nil {
			return fmt.Errorf("copy %s → %s: %w", old, concrete, err)
		}
		log.InfoContext(ctx, "copied documents", "from", old, "to", concrete, "count", n)
	}
	actions := []map[string]any{}
	for _, old := range current {
		actions = append(actions, map[string]any{"remove": map[string]any{"index": old, "alias": alias}})
	}
	actions = append(actions, map[string]any{"add": map[string]any{"index": concrete, "alias": alias, "is_write_index": true}})
	if err := c.updateAliases(ctx, actions); err != nil {
		return err
	}
	for _, old := range current {
		if _, err := c.Copy(ctx, old, concrete); err != nil {
			return fmt.Errorf("final copy %s → %s: %w", old, concrete, err)
		}
	}
	return nil
}

func templateBody(ix Index) map[string]any {
	body := map[string]any{}
	if ix.Settings != nil {
		body["settings"] = ix.Settings
	}
	if ix.Mappings != nil {
		body["mappings"] = ix.Mappings
	}
	return body
}

func (c *Client) createIndex(ctx context.Context, name string, body map[string]any) error {
	err := c.Do(ctx, http.MethodPut, "/"+url.PathEscape(name), body, nil)
	if IsType(err, "resource_already_exists_exception") {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	return nil
}

func (c *Client) updateAliases(ctx context.Context, actions []map[string]any) error {
	if err := c.Do(ctx, http.MethodPost, "/_aliases", map[string]any{"actions": actions}, nil); err != nil {
		return fmt.Errorf("update aliases: %w", err)
	}
	return nil
}

// aliasTargets returns the concrete indices behind alias, or none.
func (c *Client) aliasTargets(ctx context.Context, alias string) ([]string, error) {
	var res map[string]json.RawMessage
	err := c.Do(ctx, http.MethodGet, "/_alias/"+url.PathEscape(alias), nil, &res)
	if StatusOf(err) == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get alias %s: %w", alias, err)
	}
	var out []string
	for idx := range res {
		out = append(out, idx)
	}
	return out, nil
}

// Copy copies every document of index from into index to, keeping ids and
// skipping documents that already exist in to (so it can be re-run). It
// replaces the reindex module, which minimal clusters lack. It returns how
// many documents it wrote.
func (c *Client) Copy(ctx context.Context, from, to string) (int, error) {
	body := map[string]any{"size": 500, "sort": []string{"_doc"}, "query": map[string]any{"match_all": map[string]any{}}}
	var page struct {
		ScrollID string `json:"_scroll_id"`
		Hits     struct {
			Hits []struct {
				ID     string          `json:"_id"`
				Source json.RawMessage `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := c.Do(ctx, http.MethodPost, "/"+url.PathEscape(from)+"/_search?scroll=2m", body, &page); err != nil {
		return 0, err
	}
	defer func() {
		if page.ScrollID != "" {
			_ = c.Do(context.WithoutCancel(ctx), http.MethodDelete, "/_search/scroll", map[string]any{"scroll_id": page.ScrollID}, nil)
		}
	}()
	written := 0
	for len(page.Hits.Hits) > 0 {
		var buf bytes.Buffer
		for _, h := range page.Hits.Hits {
			meta, _ := json.Marshal(map[string]any{"create": map[string]any{"_index": to, "_id": h.ID}})
			buf.Write(meta)
			buf.WriteByte('\n')
			buf.Write(h.Source)
			buf.WriteByte('\n')
		}
		res, err := c.Bulk(ctx, buf.Bytes(), "")
		if err != nil {
			return written, err
		}
		for _, it := range res.Items {
			switch {
			case it.Status < 300:
				written++
			case it.Status == http.StatusConflict: // already copied
			default:
				return written, fmt.Errorf("copy %s: %d %s", it.ID, it.Status, it.Error)
			}
		}
		id := page.ScrollID
		page.Hits.Hits = nil
		if err := c.Do(ctx, http.MethodPost, "/_search/scroll", map[string]any{"scroll": "2m", "scroll_id": id}, &page); err != nil {
			return written, err
		}
	}
	return written, nil
}

// Refresh makes recent writes to the named indices (or aliases) searchable.
func (c *Client) Refresh(ctx context.Context, names ...string) error {
	return c.Do(ctx, http.MethodPost, "/"+strings.Join(names, ",")+"/_refresh", nil, nil)
}

// BulkItem is the outcome of one action of a bulk request.
type BulkItem struct {
	ID     string
	Status int
	Error  string // type: reason, empty on success
}

// BulkResult is the outcome of a bulk request, item by item, in order.
type BulkResult struct {
	Items []BulkItem
}

// Bulk sends an NDJSON bulk body. refresh is "", "true" or "wait_for". A
// request-level failure is an error; item-level failures are reported in
// the result, because the caller decides which of them matter (a conflict on
// a "create" is an idempotent re-run, not a failure).
func (c *Client) Bulk(ctx context.Context, ndjson []byte, refresh string) (*BulkResult, error) {
	// filter_path keeps the response to what BulkResult needs; a full
	// response for a large batch costs more to decode than to produce.
	path := "/_bulk?filter_path=items.*._id,items.*.status,items.*.error.type,items.*.error.reason"
	if refresh != "" {
		path += "&refresh=" + refresh
	}
	var res struct {
		Items []map[string]struct {
			ID     string `json:"_id"`
			Status int    `json:"status"`
			Error  *struct {
				Type   string `json:"type"`
				Reason string `json:"reason"`
			} `json:"error"`
		} `json:"items"`
	}
	if err := c.Do(ctx, http.MethodPost, path, ndjson, &res); err != nil {
		return nil, err
	}
	out := &BulkResult{Items: make([]BulkItem, 0, len(res.Items))}
	for _, item := range res.Items {
		for _, r := range item { // exactly one key: index, create, update or delete
			bi := BulkItem{ID: r.ID, Status: r.Status}
			if r.Error != nil {
				bi.Error = r.Error.Type + ": " + r.Error.Reason
			}
			out.Items = append(out.Items, bi)
		}
	}
	return out, nil
}

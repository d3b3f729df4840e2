package agents

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/switchboard-cc/switchboard/es"
)

// indexName is the logical index of the definitions.
const indexName = "agents"

// Index is the definitions index, for es.Client.Ensure. Groups and agents
// share it (few documents, one Load), told apart by kind.
func (d *Directory) Index() es.Index {
	return es.Index{
		Name:     indexName,
		Version:  1,
		Settings: map[string]any{"number_of_shards": 1},
		Mappings: map[string]any{
			"dynamic": false,
			"properties": map[string]any{
				"kind":        map[string]any{"type": "keyword"},
				"id":          map[string]any{"type": "keyword"},
				"name":        map[string]any{"type": "keyword"},
				"description": map[string]any{"type": "text"},
				"uri":         map[string]any{"type": "keyword"},
				"groups":      map[string]any{"type": "keyword"},
				"ha1":         map[string]any{"type": "keyword", "index": false},
				"updated":     map[string]any{"type": "date"},
			},
		},
	}
}

// doc is the stored form of a group (kind "group", id = name) or an agent.
type doc struct {
	Kind        string    `json:"kind"`
	ID          string    `json:"id"`
	Name        string    `json:"name,omitempty"`
	Description string    `json:"description,omitempty"`
	URI         string    `json:"uri,omitempty"`
	Groups      []string  `json:"groups,omitempty"`
	HA1         string    `json:"ha1,omitempty"`
	Updated     time.Time `json:"updated"`
}

const (
	kindGroup = "group"
	kindAgent = "agent"
)

func groupDocID(name string) string { return kindGroup + ":" + name }
func agentDocID(id string) string   { return kindAgent + ":" + id }

func (d *Directory) docPath(id string) string {
	return "/" + d.c.Name(indexName) + "/_doc/" + url.PathEscape(id)
}

// refresh=true on every write: a Load right after one (another replica
// starting, a restart) must see it, and changes are rare enough (an
// administrator's edits) that an immediate refresh costs nothing, where
// wait_for would hold each API call up to the refresh interval.
func (d *Directory) put(ctx context.Context, id string, v doc) error {
	if d.c == nil {
		return nil
	}
	if err := d.c.Do(ctx, http.MethodPut, d.docPath(id)+"?refresh=true", v, nil); err != nil {
		return fmt.Errorf("agents: store %s: %w", id, err)
	}
	return nil
}

func (d *Directory) writeGroup(ctx context.Context, g Group) error {
	return d.put(ctx, groupDocID(g.Name), doc{Kind: kindGroup, ID: g.Name, Description: g.Description, Updated: d.now()})
}

func (d *Directory) writeAgent(ctx context.Context, r *record) error {
	return d.put(ctx, agentDocID(r.ID), doc{Kind: kindAgent, ID: r.ID, Name: r.Name, URI: r.URI, Groups: r.Groups, HA1: r.ha1, Updated: d.now()})
}

func (d *Directory) deleteDoc(ctx context.Context, id string) error {
	if d.c == nil {
		return nil
	}
	err := d.c.Do(ctx, http.MethodDelete, d.docPath(id)+"?refresh=true", nil, nil)
	if err != nil && es.StatusOf(err) != http.StatusNotFound {
		return fmt.Errorf("agents: delete %s: %w", id, err)
	}
	return nil
}

// maxDocs bounds Load's single search; a call centre's agents and groups
// are far fewer.
const maxDocs = 10000

func (d *Directory) loadDocs(ctx context.Context) (map[string]Group, map[string]*record, error) {
	groups, agents := map[string]Group{}, map[string]*record{}
	if d.c == nil {
		return groups, agents, nil
	}
	var res struct {
		Hits struct {
			Total struct {
				Value int `json:"value"`
			} `json:"total"`
			Hits []struct {
				Source doc `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	q := map[string]any{"size": maxDocs, "track_total_hits": true, "sort": []any{map[string]any{"id": "asc"}}}
	if err := d.c.Do(ctx, http.MethodPost, "/"+d.c.Name(indexName)+"/_search", q, &res); err != nil {
		return nil, nil, fmt.Errorf("agents: load: %w", err)
	}
	if res.Hits.Total.Value > maxDocs {
		return nil, nil, fmt.Errorf("agents: load: %d definitions, more than the %d supported", res.Hits.Total.Value, maxDocs)
	}
	for _, h := range res.Hits.Hits {
		s := h.Source
		switch s.Kind {
		case kindGroup:
			groups[s.ID] = Group{Name: s.ID, Description: s.Description}
		case kindAgent:
			agents[s.ID] = &record{Agent: Agent{ID: s.ID, Name: s.Name, URI: s.URI, Groups: slices.Clone(s.Groups)}, ha1: s.HA1}
		default:
			d.log.WarnContext(ctx, "agents: ignoring a stored document of unknown kind", "kind", s.Kind, "id", s.ID)
		}
	}
	return groups, agents, nil
}

package esstore

import "github.com/switchboard-cc/switchboard/es"

// Mapping versions. Raise one after changing its mapping; Ensure then copies
// the documents into a new concrete index behind the alias.
const (
	// 2: embedding (dense_vector), embedding_model, category alternatives,
	// predicted and model_correct, sentiment source.
	ticketsVersion  = 2
	countersVersion = 1
)

// Indices returns the definitions of the tickets and counters indices, for
// es.Client.Ensure.
func (s *Store) Indices() []es.Index {
	settings := func(extra map[string]any) map[string]any {
		m := map[string]any{
			// Ticket volumes per deployment fit one shard easily, and one
			// shard makes terms aggregations exact.
			"number_of_shards":   1,
			"number_of_replicas": s.cfg.Replicas,
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	return []es.Index{
		{
			Name:    TicketsIndex,
			Version: ticketsVersion,
			Settings: settings(map[string]any{
				"analysis": map[string]any{
					"normalizer": map[string]any{
						// Tags and e-mail addresses compare case-insensitively,
						// as Ticket.HasTag does.
						"lower": map[string]any{"type": "custom", "filter": []string{"lowercase"}},
					},
				},
			}),
			Mappings: ticketsMapping(s.cfg.EmbeddingDims),
		},
		{
			Name:     CountersIndex,
			Version:  countersVersion,
			Settings: settings(nil),
			Mappings: map[string]any{
				"dynamic":    false,
				"properties": map[string]any{"value": typ("long")},
			},
		},
	}
}

func typ(t string) map[string]any { return map[string]any{"type": t} }

func props(p map[string]any) map[string]any { return map[string]any{"properties": p} }

// text is a full-text field. The standard analyzer splits Latin text into
// words and Han characters into single characters; the derived field
// search_bigrams adds the bigrams that make Chinese search precise.
func text() map[string]any { return map[string]any{"type": "text", "analyzer": "standard"} }

func ticketsMapping(dims int) map[string]any {
	keyword := typ("keyword")
	date := typ("date")
	lower := map[string]any{"type": "keyword", "normalizer": "lower"}
	m := map[string]any{
		// Not "strict": a field added by a newer release must not make an
		// older replica's writes fail during a rolling upgrade. Unmapped
		// fields stay in _source, unindexed.
		"dynamic": false,
		"properties": map[string]any{
			"id":          keyword,
			"number":      typ("long"),
			"external_id": keyword,
			"channel":     keyword,
			"customer": props(map[string]any{
				"id":    keyword,
				"name":  map[string]any{"type": "text", "analyzer": "standard", "fields": map[string]any{"raw": keyword}},
				"phone": keyword,
				"email": lower,
			}),
			"subject":     text(),
			"description": text(),
			"language":    keyword,
			"category": props(map[string]any{
				"label":         keyword,
				"confidence":    typ("float"),
				"model_version": keyword,
				"source":        keyword,
				"predicted": props(map[string]any{
					"label":         keyword,
					"confidence":    typ("float"),
					"model_version": keyword,
				}),
				// The online accuracy of the category model is the share
				// of true values among tickets a person labelled.
				"model_correct": typ("boolean"),
			}),
			"embedding_model": keyword,
			"priority":        keyword,
			"sentiment": props(map[string]any{
				"label":           keyword,
				"score":           typ("float"),
				"escalation_risk": typ("boolean"),
				"source":          keyword,
			}),
			"status":      keyword,
			"skill_group": keyword,
			"assignee":    keyword,
			"sla": props(map[string]any{
				"policy":                  keyword,
				"first_response_due":      date,
				"resolution_due":          date,
				"first_response_breached": typ("boolean"),
				"resolution_breached":     typ("boolean"),
				"escalation_level":        typ("integer"),
				"escalated_at":            date,
			}),
			"tags":    lower,
			"related": map[string]any{"type": "object", "enabled": false},
			// Comments are a plain object, not nested: search matches any
			// comment's body, and no query needs per-comment conditions.
			"comments": props(map[string]any{
				"id":         keyword,
				"author":     keyword,
				"public":     typ("boolean"),
				"body":       text(),
				"created_at": date,
			}),
			"csat": props(map[string]any{
				"score":   typ("integer"),
				"comment": text(),
				"at":      date,
			}),
			"metrics": props(map[string]any{
				"first_response_seconds": typ("double"),
				"resolution_seconds":     typ("double"),
				"handle_seconds":         typ("double"),
				"public_replies":         typ("integer"),
				"reopens":                typ("integer"),
			}),
			"created_at":        date,
			"updated_at":        date,
			"first_response_at": date,
			"resolved_at":       date,
			"closed_at":         date,
			"status_since":      date,
			// Who did what is searchable (e.g. tickets an agent touched);
			// the values and notes stay in _source only.
			"history": props(map[string]any{
				"at":     date,
				"actor":  keyword,
				"action": keyword,
				"field":  keyword,
			}),

			// Derived fields, written by this package (see doc). A
			// migration copies them as stored; if their computation
			// changes, tickets get the new values when next written.
			"search_bigrams": map[string]any{
				"type": "text", "analyzer": "whitespace",
				// Matched as terms, never as phrases: no positions needed.
				"index_options": "freqs",
			},
			"keyword_terms": map[string]any{
				"type": "text", "analyzer": "whitespace",
				"index_options": "docs", "norms": false,
			},
			"priority_rank": typ("byte"),
			"sla_next_due":  date,
		},
	}
	if dims > 0 {
		// Cosine, not dot_product: an int8-quantised model's vectors are
		// only nearly unit length, which dot_product would reject.
		m["properties"].(map[string]any)["embedding"] = map[string]any{
			"type": "dense_vector", "dims": dims, "index": true, "similarity": "cosine",
		}
	}
	return m
}

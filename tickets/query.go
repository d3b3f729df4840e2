package tickets

import "time"

// Sort orders for Query.Sort. A leading "-" means descending.
const (
	SortCreatedDesc = "-created_at"
	SortCreatedAsc  = "created_at"
	SortUpdatedDesc = "-updated_at"
	SortPriority    = "-priority" // most urgent first, then oldest
	SortRelevance   = "relevance" // best text match first; the default with Text
)

// SortOrders lists every valid Query.Sort value.
func SortOrders() []string {
	return []string{SortCreatedDesc, SortCreatedAsc, SortUpdatedDesc, SortPriority, SortRelevance}
}

// MaxPageSize bounds Query.Size so one request cannot pull the whole index.
const MaxPageSize = 500

// Query selects tickets. Empty fields do not filter. Text is matched against
// subject, description and comments in Chinese and English; it is always
// treated as plain words, never as query syntax.
type Query struct {
	Text        string
	Status      []Status
	Category    []string
	Channel     []Channel
	Priority    []Priority
	Assignee    []string
	SkillGroup  []string
	Tags        []string
	CustomerID  string
	Breached    *bool
	CreatedFrom *time.Time // inclusive
	CreatedTo   *time.Time // exclusive
	// Sort is one of SortOrders; empty means relevance with Text and
	// newest first without.
	Sort string
	Size int // default 20, at most MaxPageSize
	// After is the opaque cursor from a previous Page.Next; it pages with
	// search_after, so deep pages cost what the first one does.
	After string
}

// Page is one page of a search.
type Page struct {
	Total   int64     `json:"total"`
	Tickets []*Ticket `json:"tickets"`
	// Next is the cursor for the following page, empty on the last one.
	Next string `json:"next,omitempty"`
}

// Intervals for StatsQuery.Interval.
const (
	IntervalHour  = "hour"
	IntervalDay   = "day"
	IntervalWeek  = "week"
	IntervalMonth = "month"
)

// StatsQuery selects the tickets that dashboards aggregate: those created in
// [From, To), optionally narrowed by channel and category.
type StatsQuery struct {
	From, To time.Time
	Interval string // IntervalHour … IntervalMonth; default day
	Channel  []Channel
	Category []string
	// TimeZone buckets days in the contact centre's zone, e.g. Asia/Shanghai.
	TimeZone string
}

// Bucket is one interval of ticket volume.
type Bucket struct {
	Start      time.Time        `json:"start"`
	Count      int64            `json:"count"`
	ByChannel  map[string]int64 `json:"by_channel"`
	ByCategory map[string]int64 `json:"by_category"`
}

// Keyword is a term that is unusually frequent among the selected tickets
// compared with all tickets.
type Keyword struct {
	Term  string  `json:"term"`
	Count int64   `json:"count"`
	Score float64 `json:"score"`
}

// Stats are the aggregates behind the dashboards. Rates are fractions in
// [0, 1] and are 0 when their denominator is.
type Stats struct {
	Total      int64            `json:"total"`
	Volume     []Bucket         `json:"volume"`
	ByStatus   map[string]int64 `json:"by_status"`
	ByChannel  map[string]int64 `json:"by_channel"`
	ByCategory map[string]int64 `json:"by_category"`
	ByPriority map[string]int64 `json:"by_priority"`
	// ResolutionRate is resolved or closed tickets over all selected.
	ResolutionRate float64 `json:"resolution_rate"`
	// FirstContactResolution is, among resolved or closed tickets, those
	// resolved with at most one public reply and never reopened.
	FirstContactResolution float64 `json:"first_contact_resolution"`
	// AvgHandleSeconds is the mean time resolved tickets spent open.
	AvgHandleSeconds float64 `json:"avg_handle_seconds"`
	// AvgFirstResponseSeconds is the mean time to the first public reply.
	AvgFirstResponseSeconds float64 `json:"avg_first_response_seconds"`
	// AvgResolutionSeconds is the mean time from creation to resolution.
	AvgResolutionSeconds float64 `json:"avg_resolution_seconds"`
	// CSAT counts ratings by score ("1" … "5").
	CSAT        map[string]int64 `json:"csat"`
	CSATAverage float64          `json:"csat_average"`
	CSATCount   int64            `json:"csat_count"`
	// SLABreachRate is tickets with any breached clock over those with an SLA.
	SLABreachRate float64   `json:"sla_breach_rate"`
	TopKeywords   []Keyword `json:"top_keywords"`
	// CategoryModel is the category model's online accuracy: how often
	// people who labelled a ticket agreed with the model.
	CategoryModel ModelAccuracy `json:"category_model"`
}

// ModelAccuracy compares a model's answers with people's labels.
type ModelAccuracy struct {
	Labelled int64   `json:"labelled"` // tickets a person labelled that a model had classified
	Correct  int64   `json:"correct"`  // of those, the model agreed
	Accuracy float64 `json:"accuracy"` // Correct / Labelled; 0 when none
}

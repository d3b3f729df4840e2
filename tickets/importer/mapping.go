package importer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/switchboard-cc/switchboard/tickets"
)

// Source formats.
const (
	FormatCSV   = "csv"
	FormatJSONL = "jsonl"
)

// Special time formats accepted besides Go layouts: seconds and
// milliseconds since the Unix epoch, which many legacy exports use.
const (
	TimeUnix   = "unix"
	TimeUnixMS = "unix_ms"
)

// Mapping says how a legacy export becomes tickets: which source column
// (CSV) or dotted path (JSONL) feeds which ticket field, and how values are
// transformed on the way. It is usually read from YAML with LoadMapping.
type Mapping struct {
	// Format is csv or jsonl; empty means from the input file's extension.
	Format string     `yaml:"format"`
	CSV    CSVOptions `yaml:"csv"`
	// ID is the source field holding the legacy ticket id. The imported
	// ticket's id is derived from it (see TicketID), which makes a re-run
	// of the same import skip what is already there instead of duplicating.
	ID string `yaml:"id"`
	// SourceSystem names the legacy system (e.g. zendesk); it keeps ids of
	// different systems apart and is noted in each ticket's history.
	SourceSystem string `yaml:"source_system"`
	// Fields maps a target ticket field (see TargetFields) to its source.
	Fields map[string]FieldSpec `yaml:"fields"`
}

// CSVOptions describe a CSV export.
type CSVOptions struct {
	// Delimiter is one character; default ",".
	Delimiter string `yaml:"delimiter"`
	// Header says whether the first record names the columns; default true.
	Header *bool `yaml:"header"`
	// Columns names the columns of a file without a header, in order.
	Columns []string `yaml:"columns"`
}

// FieldSpec is where one ticket field comes from. In YAML it is either a
// plain source name or a mapping with the keys below.
type FieldSpec struct {
	// From is the CSV column, or the dotted path into a JSONL object.
	From string `yaml:"from"`
	// Map translates source values (e.g. "1" → urgent). A value not listed
	// becomes Default when one is given and is kept unchanged otherwise.
	Map map[string]string `yaml:"map"`
	// Default is used when the source value is empty or missing, and, with
	// Map, when the value is not listed in it.
	Default string `yaml:"default"`
	// Split cuts a value into several (tags only), e.g. ";".
	Split string `yaml:"split"`
	// TimeFormat is a Go layout (2006-01-02 15:04:05), unix or unix_ms;
	// default RFC 3339. Time fields only.
	TimeFormat string `yaml:"time_format"`
	// Timezone is the IANA zone of times without an offset; default UTC.
	Timezone string `yaml:"timezone"`
}

var fieldSpecKeys = []string{"from", "map", "default", "split", "time_format", "timezone"}

// UnmarshalYAML accepts a plain source name or a mapping. It checks the
// keys itself because a decoder's KnownFields does not reach custom
// unmarshalers.
func (f *FieldSpec) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		f.From = n.Value
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: expected a source name or a mapping with keys %s", n.Line, strings.Join(fieldSpecKeys, ", "))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; !slices.Contains(fieldSpecKeys, k) {
			return fmt.Errorf("line %d: field %s not found in type importer.FieldSpec (keys: %s)", n.Content[i].Line, k, strings.Join(fieldSpecKeys, ", "))
		}
	}
	type plain FieldSpec // no UnmarshalYAML: avoids recursion
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*f = FieldSpec(p)
	return nil
}

// Target ticket fields a mapping may fill.
const (
	FieldSubject       = "subject"
	FieldDescription   = "description"
	FieldChannel       = "channel"
	FieldCustomerID    = "customer.id"
	FieldCustomerName  = "customer.name"
	FieldCustomerEmail = "customer.email"
	FieldCustomerPhone = "customer.phone"
	FieldPriority      = "priority"
	FieldStatus        = "status"
	FieldCategory      = "category"
	FieldLanguage      = "language"
	FieldTags          = "tags"
	FieldSkillGroup    = "skill_group"
	FieldAssignee      = "assignee"
	FieldCreatedAt     = "created_at"
	FieldUpdatedAt     = "updated_at"
	FieldResolvedAt    = "resolved_at"
	FieldClosedAt      = "closed_at"
	FieldCSATScore     = "csat.score"
	FieldCSATComment   = "csat.comment"
)

// TargetFields lists every field a mapping may fill.
func TargetFields() []string {
	return []string{
		FieldSubject, FieldDescription, FieldChannel,
		FieldCustomerID, FieldCustomerName, FieldCustomerEmail, FieldCustomerPhone,
		FieldPriority, FieldStatus, FieldCategory, FieldLanguage, FieldTags,
		FieldSkillGroup, FieldAssignee,
		FieldCreatedAt, FieldUpdatedAt, FieldResolvedAt, FieldClosedAt,
		FieldCSATScore, FieldCSATComment,
	}
}

func isTimeField(f string) bool {
	return f == FieldCreatedAt || f == FieldUpdatedAt || f == FieldResolvedAt || f == FieldClosedAt
}

// enumValues returns the allowed values of an enumerated field, or nil.
func enumValues(field string) []string {
	var out []string
	switch field {
	case FieldChannel:
		for _, c := range tickets.Channels() {
			out = append(out, string(c))
		}
	case FieldPriority:
		for _, p := range tickets.Priorities() {
			out = append(out, string(p))
		}
	case FieldStatus:
		for _, s := range tickets.Statuses() {
			out = append(out, string(s))
		}
	}
	return out
}

// LoadMapping reads and validates a YAML mapping file.
func LoadMapping(path string) (*Mapping, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("importer: read mapping: %w", err)
	}
	m, err := ParseMapping(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// ParseMapping decodes and validates a YAML mapping. Unknown keys are
// errors, so that a typo cannot silently drop a field from a migration.
func ParseMapping(b []byte) (*Mapping, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var m Mapping
	if err := dec.Decode(&m); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: the mapping is empty", ErrMapping)
		}
		return nil, fmt.Errorf("%w: %w", ErrMapping, err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// MappingError lists every problem of a mapping, so that all can be fixed
// at once. It wraps ErrMapping.
type MappingError struct {
	Problems []string
}

func (e *MappingError) Error() string {
	return "importer: invalid mapping: " + strings.Join(e.Problems, "; ")
}

// Unwrap makes errors.Is(err, ErrMapping) hold.
func (e *MappingError) Unwrap() error { return ErrMapping }

// Validate checks the mapping without looking at any data. It returns a
// *MappingError.
func (m *Mapping) Validate() error {
	_, err := m.compile()
	return err
}

// compile validates the mapping and turns it into the plan a Reader
// follows.
func (m *Mapping) compile() (*plan, error) {
	p := &plan{idPath: splitPath(m.ID), sourceSystem: m.SourceSystem, idFrom: m.ID}
	var probs []string
	add := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }

	switch m.Format {
	case "", FormatCSV, FormatJSONL:
	default:
		add("format: %q is not csv or jsonl", m.Format)
	}
	if strings.TrimSpace(m.ID) == "" {
		add("id: required: name the source field holding the legacy ticket id (re-runs rely on it to skip tickets already imported)")
	}
	if strings.TrimSpace(m.SourceSystem) == "" {
		add("source_system: required (e.g. zendesk); it keeps ids of different legacy systems apart")
	}
	if m.CSV.Delimiter != "" {
		r, size := utf8.DecodeRuneInString(m.CSV.Delimiter)
		if size != len(m.CSV.Delimiter) || r == utf8.RuneError || r == '"' || r == '\r' || r == '\n' {
			add("csv.delimiter: %q must be a single character other than a quote or line break", m.CSV.Delimiter)
		}
	}
	if m.CSV.Header != nil && !*m.CSV.Header && len(m.CSV.Columns) == 0 {
		add("csv.columns: required when csv.header is false, to name the columns")
	}
	if m.CSV.Header != nil && *m.CSV.Header && len(m.CSV.Columns) > 0 {
		add("csv.columns: only for files without a header (csv.header: false)")
	}
	if len(m.Fields) == 0 {
		add("fields: at least subject and one customer field are needed")
	}
	targets := TargetFields()
	names := make([]string, 0, len(m.Fields))
	for name := range m.Fields {
		names = append(names, name)
	}
	slices.Sort(names) // stable error order
	for _, name := range names {
		spec := m.Fields[name]
		if !slices.Contains(targets, name) {
			add("fields.%s: unknown target field (known: %s)", name, strings.Join(targets, ", "))
			continue
		}
		if strings.TrimSpace(spec.From) == "" && spec.Default == "" {
			add("fields.%s: needs from (a source field) or a default", name)
		}
		if allowed := enumValues(name); allowed != nil {
			keys := make([]string, 0, len(spec.Map))
			for k := range spec.Map {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				if !slices.Contains(allowed, spec.Map[k]) {
					add("fields.%s.map: %q → %q: unknown %s (known: %s)", name, k, spec.Map[k], name, strings.Join(allowed, ", "))
				}
			}
			if spec.Default != "" && !slices.Contains(allowed, spec.Default) {
				add("fields.%s.default: unknown %s %q (known: %s)", name, name, spec.Default, strings.Join(allowed, ", "))
			}
		}
		if spec.Split != "" && name != FieldTags {
			add("fields.%s.split: only tags can be split", name)
		}
		if !isTimeField(name) {
			if spec.TimeFormat != "" || spec.Timezone != "" {
				add("fields.%s: time_format and timezone are for created_at, updated_at, resolved_at and closed_at only", name)
			}
		} else {
			if err := checkTimeFormat(spec.TimeFormat); err != nil {
				add("fields.%s.time_format: %v", name, err)
			}
			if spec.Default != "" {
				add("fields.%s.default: time fields have no default", name)
			}
		}
		fp := fieldPlan{target: name, spec: spec, path: splitPath(spec.From), loc: time.UTC}
		if spec.Timezone != "" {
			loc, err := time.LoadLocation(spec.Timezone)
			if err != nil {
				add("fields.%s.timezone: unknown time zone %q", name, spec.Timezone)
			} else {
				fp.loc = loc
			}
		}
		if name == FieldCSATScore && spec.Default != "" {
			if n, err := strconv.Atoi(spec.Default); err != nil || n < 1 || n > 5 {
				add("fields.%s.default: %q is not a score from 1 to 5", name, spec.Default)
			}
		}
		p.fields = append(p.fields, fp)
		p.hasCreated = p.hasCreated || name == FieldCreatedAt
	}
	if len(m.Fields) > 0 {
		if _, ok := m.Fields[FieldSubject]; !ok {
			add("fields.subject: required; every ticket needs a subject")
		}
		if _, ok := m.Fields[FieldChannel]; !ok {
			add("fields.channel: required; map a source field or give a default, e.g. channel: {default: email}")
		}
		hasCustomer := false
		for _, f := range []string{FieldCustomerID, FieldCustomerName, FieldCustomerEmail, FieldCustomerPhone} {
			_, ok := m.Fields[f]
			hasCustomer = hasCustomer || ok
		}
		if !hasCustomer {
			add("fields: map at least one of customer.id, customer.name, customer.email, customer.phone")
		}
	}
	if len(probs) > 0 {
		return nil, &MappingError{Problems: probs}
	}
	return p, nil
}

// checkTimeFormat rejects layouts that cannot carry a date, e.g. a strftime
// pattern such as %Y-%m-%d, which Go would treat as literal text.
func checkTimeFormat(layout string) error {
	switch layout {
	case "", TimeUnix, TimeUnixMS, time.RFC3339, time.RFC3339Nano:
		return nil
	}
	if strings.Contains(layout, "%") {
		return fmt.Errorf("%q looks like a strftime pattern; write a Go layout using the reference time, e.g. 2006-01-02 15:04:05", layout)
	}
	ref := time.Date(2019, time.November, 23, 17, 38, 49, 0, time.UTC)
	got, err := time.Parse(layout, ref.Format(layout))
	if err != nil || got.Year() != ref.Year() || got.Month() != ref.Month() || got.Day() != ref.Day() {
		return fmt.Errorf("%q is not a Go time layout with year, month and day (write the reference time, e.g. 2006-01-02 15:04:05), or unix or unix_ms", layout)
	}
	return nil
}

// formatFor returns the format to read path with: the mapping's, or the
// one its extension names.
func (m *Mapping) formatFor(path string) (string, error) {
	if m.Format != "" {
		return m.Format, nil
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv", ".tsv":
		return FormatCSV, nil
	case ".jsonl", ".ndjson":
		return FormatJSONL, nil
	}
	return "", fmt.Errorf("%w: cannot tell the format of %q from its extension; set format: csv or jsonl", ErrMapping, path)
}

// header reports whether a CSV file starts with a header record.
func (o CSVOptions) header() bool { return o.Header == nil || *o.Header }

func (o CSVOptions) delimiter() rune {
	if o.Delimiter == "" {
		return ','
	}
	r, _ := utf8.DecodeRuneInString(o.Delimiter)
	return r
}

var _ yaml.Unmarshaler = (*FieldSpec)(nil)

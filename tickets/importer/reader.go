package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/switchboard-cc/switchboard/tickets"
)

// Limits on source records. A longer JSONL line is rejected as a row; a CSV
// record longer than MaxRecordBytes (typically an unclosed quote swallowing
// the rest of the file) stops the import, because the reader cannot find
// where the next record starts.
const (
	MaxLineBytes   = 1 << 20
	MaxRecordBytes = 8 << 20
	// maxRawBytes bounds the raw record kept for the rejection report.
	maxRawBytes = 4 << 10
)

// Extras are the parts of an imported ticket that a NewTicket cannot say:
// where it is in its lifecycle and when things happened in the legacy
// system.
type Extras struct {
	// Status is the mapped status; empty when the mapping has none, which
	// imports the ticket as new.
	Status tickets.Status
	// CreatedAt is zero when the mapping has no created_at; the import
	// time is used then.
	CreatedAt  time.Time
	UpdatedAt  time.Time
	ResolvedAt *time.Time
	ClosedAt   *time.Time
	CSAT       *tickets.CSAT
}

// Row is one source record after mapping. It is valid when Violations is
// empty; then Ticket passes NewTicket.Validate and ID is set.
type Row struct {
	// Line is the 1-based line of the source file where the record starts.
	Line int
	// SourceID is the legacy id; ID the ticket id derived from it.
	SourceID string
	ID       string
	Ticket   tickets.NewTicket
	Extras   Extras
	// Raw is the source record of an invalid row (truncated), for the
	// rejection report; empty for valid rows.
	Raw        string
	Violations []tickets.FieldViolation
}

// Valid reports whether the row can be imported.
func (r *Row) Valid() bool { return len(r.Violations) == 0 }

func (r *Row) add(field, format string, args ...any) {
	r.Violations = append(r.Violations, tickets.FieldViolation{Field: field, Message: fmt.Sprintf(format, args...)})
}

// TicketID returns the id an imported ticket gets: a name-based UUID (v5)
// of the source system and the legacy id, so the same legacy ticket always
// maps to the same ticket and a re-run cannot duplicate it.
func TicketID(sourceSystem, sourceID string) string {
	return ticketUUID(sourceSystem, sourceID).String()
}

func ticketUUID(sourceSystem, sourceID string) uuid.UUID {
	return uuid.NewSHA1(idNamespace(), []byte(sourceSystem+":"+sourceID))
}

// idNamespace is the UUID namespace of imported ticket ids. It must never
// change: every re-run relies on it.
func idNamespace() uuid.UUID {
	return uuid.UUID{0x8b, 0x3e, 0x51, 0x0c, 0x2a, 0x6f, 0x4d, 0x1b, 0x9c, 0x47, 0x05, 0xd2, 0x7e, 0x6a, 0x90, 0x13}
}

// plan is a validated mapping, ready to apply.
type plan struct {
	idFrom       string
	idPath       []string
	sourceSystem string
	fields       []fieldPlan
	idCol        int
	hasCreated   bool // a mapped created_at is required in every row
}

type fieldPlan struct {
	target string
	spec   FieldSpec
	path   []string // JSONL: dotted path
	col    int      // CSV: column index, or -1 without a source
	loc    *time.Location
}

func splitPath(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	return strings.Split(s, ".")
}

// Reader reads a legacy export record by record and maps each record to a
// Row. Memory stays bounded by one record, apart from the set of ids seen,
// which catches a legacy id that occurs twice. It is not safe for
// concurrent use.
type Reader struct {
	p      *plan
	format string
	seen   map[uuid.UUID]int // ticket id → line of its first valid row

	// CSV
	cr     *csv.Reader
	budget *budgetReader
	ncols  int
	// JSONL
	br   *bufio.Reader
	line int // last line read
	buf  []byte
}

// NewReader returns a Reader of r in format (csv or jsonl) following m. For
// CSV with a header it reads the header at once, and fails if a column the
// mapping names is missing. Errors wrap ErrMapping or ErrInput.
func NewReader(r io.Reader, m *Mapping, format string) (*Reader, error) {
	p, err := m.compile()
	if err != nil {
		return nil, err
	}
	if format == "" {
		format = m.Format
	}
	rd := &Reader{p: p, format: format, seen: map[uuid.UUID]int{}}
	br := bufio.NewReaderSize(r, 64<<10)
	// A UTF-8 byte order mark (Excel writes one) is not part of the data.
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	switch format {
	case FormatCSV:
		return rd, rd.initCSV(br, m.CSV)
	case FormatJSONL:
		rd.br = br
		return rd, nil
	}
	return nil, fmt.Errorf("%w: format %q is not csv or jsonl", ErrMapping, format)
}

func (rd *Reader) initCSV(r io.Reader, o CSVOptions) error {
	rd.budget = &budgetReader{r: r, left: MaxRecordBytes}
	rd.cr = csv.NewReader(rd.budget)
	rd.cr.Comma = o.delimiter()
	rd.cr.LazyQuotes = false
	columns := o.Columns
	if o.header() {
		h, err := rd.cr.Read()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: the file is empty; a header record was expected", ErrInput)
		}
		if err != nil {
			return fmt.Errorf("%w: header: %w", ErrInput, err)
		}
		columns = h
	}
	rd.ncols = len(columns)
	rd.cr.FieldsPerRecord = -1 // checked here, so the row can be rejected with a clear message
	index := map[string]int{}
	dup := map[string]bool{}
	for i, c := range columns {
		c = strings.TrimSpace(c)
		if _, ok := index[c]; ok {
			dup[c] = true
			continue
		}
		index[c] = i
	}
	var missing []string
	col := func(name string) int {
		if name == "" {
			return -1
		}
		i, ok := index[name]
		switch {
		case !ok:
			missing = append(missing, fmt.Sprintf("%q", name))
		case dup[name]:
			missing = append(missing, fmt.Sprintf("%q (appears twice)", name))
		}
		if !ok {
			return -1
		}
		return i
	}
	rd.p.idCol = col(strings.TrimSpace(rd.p.idFrom))
	for i := range rd.p.fields {
		rd.p.fields[i].col = col(strings.TrimSpace(rd.p.fields[i].spec.From))
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		missing = slices.Compact(missing)
		return fmt.Errorf("%w: the mapping names columns the file lacks: %s (columns: %s)", ErrInput, strings.Join(missing, ", "), strings.Join(columns, ", "))
	}
	return nil
}

// Next returns the next row, valid or not, or io.EOF after the last. Any
// other error means the input cannot be read further (it wraps ErrInput or
// an I/O error).
func (rd *Reader) Next() (*Row, error) {
	if rd.cr != nil {
		return rd.nextCSV()
	}
	return rd.nextJSONL()
}

func (rd *Reader) nextCSV() (*Row, error) {
	rd.budget.left = MaxRecordBytes
	start := rd.cr.InputOffset()
	rec, err := rd.cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) && !errors.Is(err, errRecordTooLong) {
		// The record's bytes are consumed, so reading on is safe.
		row := &Row{Line: pe.StartLine}
		row.add("record", "malformed CSV at line %d, column %d: %v", pe.Line, pe.Column, pe.Err)
		return row, nil
	}
	if err != nil {
		if errors.Is(err, errRecordTooLong) {
			return nil, fmt.Errorf("%w: the record at byte offset %d is longer than %d bytes (an unclosed quote?); fix the file and re-run", ErrInput, start, MaxRecordBytes)
		}
		return nil, fmt.Errorf("importer: read CSV: %w", err)
	}
	line, _ := rd.cr.FieldPos(0)
	row := &Row{Line: line}
	if len(rec) != rd.ncols {
		row.add("record", "has %d fields, expected %d", len(rec), rd.ncols)
	} else {
		rd.apply(row, csvRecord(rec))
	}
	if !row.Valid() {
		// Only rejected rows need their source; re-encoding every row
		// would cost a tenth of the import's CPU.
		row.Raw = csvRaw(rec, rd.cr.Comma)
	}
	return row, nil
}

func (rd *Reader) nextJSONL() (*Row, error) {
	for {
		line, tooLong, err := rd.readLine()
		if err != nil {
			return nil, err
		}
		rd.line++
		if tooLong {
			row := &Row{Line: rd.line, Raw: truncate(string(line[:min(len(line), maxRawBytes+8)]))}
			row.add("record", "line is longer than %d bytes", MaxLineBytes)
			return row, nil
		}
		trimmed := bytes.TrimSpace(line)
		if len(trimmed) == 0 {
			continue
		}
		row := &Row{Line: rd.line}
		rd.applyJSON(row, trimmed)
		if !row.Valid() {
			row.Raw = truncate(string(trimmed[:min(len(trimmed), maxRawBytes+8)]))
		}
		return row, nil
	}
}

// applyJSON decodes one JSON object and maps it onto row.
func (rd *Reader) applyJSON(row *Row, line []byte) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		row.add("record", "invalid JSON: %v", err)
		return
	}
	if obj == nil {
		row.add("record", "is not a JSON object")
		return
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		row.add("record", "invalid JSON: data after the object")
		return
	}
	rd.apply(row, jsonRecord(obj))
}

// readLine returns the next line without its line break. A line over
// MaxLineBytes is skipped to its end and reported as too long, with its
// beginning; memory stays bounded either way.
func (rd *Reader) readLine() (line []byte, tooLong bool, err error) {
	rd.buf = rd.buf[:0]
	for {
		chunk, err := rd.br.ReadSlice('\n')
		if !tooLong {
			if len(rd.buf)+len(chunk) > MaxLineBytes+2 { // +2: the line break
				tooLong = true
				rd.buf = append(rd.buf, chunk[:min(len(chunk), maxRawBytes)]...)
			} else {
				rd.buf = append(rd.buf, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(rd.buf) == 0 && !tooLong {
				return nil, false, io.EOF
			}
			return trimEOL(rd.buf), tooLong, nil
		case err != nil:
			return nil, false, fmt.Errorf("importer: read JSONL: %w", err)
		}
		line := trimEOL(rd.buf)
		if !tooLong && len(line) > MaxLineBytes {
			tooLong = true
		}
		return line, tooLong, nil
	}
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// record is one source record, CSV or JSON.
type record interface {
	// value returns the field's text, or a list (JSON arrays), and a
	// problem with its type. A missing field is empty.
	value(col int, path []string) (s string, list []string, problem string)
}

type csvRecord []string

func (r csvRecord) value(col int, _ []string) (string, []string, string) {
	if col < 0 || col >= len(r) {
		return "", nil, ""
	}
	return r[col], nil, ""
}

type jsonRecord map[string]any

func (r jsonRecord) value(_ int, path []string) (string, []string, string) {
	if len(path) == 0 {
		return "", nil, ""
	}
	var cur any = map[string]any(r)
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return "", nil, ""
		}
		if cur, ok = m[k]; !ok {
			return "", nil, ""
		}
	}
	if l, ok := cur.([]any); ok {
		out := make([]string, 0, len(l))
		for _, x := range l {
			s, ok := scalar(x)
			if !ok {
				return "", nil, "is a list holding a non-scalar value"
			}
			out = append(out, s)
		}
		return "", out, ""
	}
	s, ok := scalar(cur)
	if !ok {
		return "", nil, "is an object, expected a value"
	}
	return s, nil, ""
}

func scalar(x any) (string, bool) {
	switch v := x.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		return strconv.FormatBool(v), true
	case nil:
		return "", true
	}
	return "", false
}

// apply maps rec onto row and validates the result.
func (rd *Reader) apply(row *Row, rec record) {
	p := rd.p
	id, _, problem := rec.value(p.idCol, p.idPath)
	id = strings.TrimSpace(id)
	switch {
	case problem != "":
		row.add("id", "%s %s", p.idFrom, problem)
	case id == "":
		row.add("id", "source field %s is empty; every row needs a legacy id", p.idFrom)
	case !utf8.ValidString(id):
		row.add("id", "must be valid UTF-8")
	case utf8.RuneCountInString(id) > 200:
		row.add("id", "must be at most 200 characters")
	}
	row.SourceID = id
	n := &row.Ticket
	x := &row.Extras
	statusMapped := false
	var csatScore *int
	var csatComment string
	for _, f := range p.fields {
		s, list, problem := rec.value(f.col, f.path)
		if problem != "" {
			row.add(f.target, "%s %s", f.spec.From, problem)
			continue
		}
		if list != nil && f.target != FieldTags {
			row.add(f.target, "%s is a list, expected a single value", f.spec.From)
			continue
		}
		if f.target != FieldDescription {
			s = strings.TrimSpace(s)
		}
		if f.target == FieldTags {
			n.Tags = tagsOf(s, list, f.spec)
			continue
		}
		s = transform(s, f.spec)
		switch f.target {
		case FieldSubject:
			n.Subject = s
		case FieldDescription:
			n.Description = s
		case FieldChannel:
			n.Channel = tickets.Channel(s)
		case FieldCustomerID:
			n.Customer.ID = s
		case FieldCustomerName:
			n.Customer.Name = s
		case FieldCustomerEmail:
			n.Customer.Email = s
		case FieldCustomerPhone:
			n.Customer.Phone = s
		case FieldPriority:
			n.Priority = tickets.Priority(s)
		case FieldStatus:
			statusMapped = true
			x.Status = tickets.Status(s)
		case FieldCategory:
			if s != "" {
				n.Category = &tickets.Category{Label: s, Source: tickets.SourceImport}
			}
		case FieldLanguage:
			n.Language = s
			checkImportText(row, f.target, s, 35)
		case FieldSkillGroup:
			n.SkillGroup = s
			checkImportText(row, f.target, s, 200)
		case FieldAssignee:
			n.Assignee = s
			checkImportText(row, f.target, s, 200)
		case FieldCreatedAt, FieldUpdatedAt, FieldResolvedAt, FieldClosedAt:
			t, ok := parseTime(row, f, s)
			if !ok {
				continue
			}
			switch f.target {
			case FieldCreatedAt:
				x.CreatedAt = t
			case FieldUpdatedAt:
				x.UpdatedAt = t
			case FieldResolvedAt:
				x.ResolvedAt = &t
			case FieldClosedAt:
				x.ClosedAt = &t
			}
		case FieldCSATScore:
			if s == "" {
				continue
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || v != math.Trunc(v) || v < 1 || v > 5 {
				row.add(f.target, "%q is not a score from 1 to 5", truncate(s))
				continue
			}
			score := int(v)
			csatScore = &score
		case FieldCSATComment:
			csatComment = s
			checkImportText(row, f.target, s, 2000)
		}
	}
	if err := n.Validate(); err != nil {
		var ve *tickets.ValidationError
		if errors.As(err, &ve) {
			row.Violations = append(row.Violations, ve.Violations...)
		} else {
			row.add("ticket", "%v", err)
		}
	}
	if statusMapped {
		switch {
		case x.Status == "":
			row.add(FieldStatus, "is empty; give the mapping a default status")
		case !x.Status.Valid():
			row.add(FieldStatus, "unknown status %q; map it to one of new, open, pending, resolved, closed", truncate(string(x.Status)))
		}
	}
	if p.hasCreated && x.CreatedAt.IsZero() && !hasViolation(row, FieldCreatedAt) {
		row.add(FieldCreatedAt, "is empty")
	}
	if !x.CreatedAt.IsZero() {
		if x.ResolvedAt != nil && x.ResolvedAt.Before(x.CreatedAt) {
			row.add(FieldResolvedAt, "is before created_at")
		}
		if x.ClosedAt != nil && x.ClosedAt.Before(x.CreatedAt) {
			row.add(FieldClosedAt, "is before created_at")
		}
		if !x.UpdatedAt.IsZero() && x.UpdatedAt.Before(x.CreatedAt) {
			row.add(FieldUpdatedAt, "is before created_at")
		}
	}
	if x.ResolvedAt != nil && x.ClosedAt != nil && x.ClosedAt.Before(*x.ResolvedAt) {
		row.add(FieldClosedAt, "is before resolved_at")
	}
	if csatScore != nil {
		x.CSAT = &tickets.CSAT{Score: *csatScore, Comment: csatComment}
	} else if csatComment != "" {
		row.add(FieldCSATComment, "is set without a csat.score")
	}
	if row.Valid() {
		u := ticketUUID(p.sourceSystem, id)
		if first, dup := rd.seen[u]; dup {
			row.add("id", "legacy id %q already occurred at line %d", truncate(id), first)
			return
		}
		rd.seen[u] = row.Line
		row.ID = u.String()
		n.ExternalID = id
	}
}

func hasViolation(row *Row, field string) bool {
	return slices.ContainsFunc(row.Violations, func(v tickets.FieldViolation) bool { return v.Field == field })
}

// transform applies a field's default and value map. Map keys match
// exactly first and then case-insensitively, because legacy exports are
// rarely consistent about case.
func transform(s string, spec FieldSpec) string {
	if s == "" {
		return spec.Default
	}
	if len(spec.Map) == 0 {
		return s
	}
	if v, ok := spec.Map[s]; ok {
		return v
	}
	for k, v := range spec.Map {
		if strings.EqualFold(k, s) {
			return v
		}
	}
	if spec.Default != "" {
		return spec.Default
	}
	return s
}

func tagsOf(s string, list []string, spec FieldSpec) []string {
	if list == nil {
		if s == "" {
			s = spec.Default
		}
		if s == "" {
			return nil
		}
		if spec.Split != "" {
			list = strings.Split(s, spec.Split)
		} else {
			list = []string{s}
		}
	}
	var out []string
	for _, t := range list {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if len(spec.Map) > 0 {
			t = transform(t, FieldSpec{Map: spec.Map})
		}
		out = append(out, t)
	}
	return out
}

func checkImportText(row *Row, field, s string, max int) {
	switch {
	case !utf8.ValidString(s):
		row.add(field, "must be valid UTF-8")
	case utf8.RuneCountInString(s) > max:
		row.add(field, "must be at most %d characters", max)
	}
}

// parseTime reads a time field; an empty value is no time, not an error.
func parseTime(row *Row, f fieldPlan, s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	var t time.Time
	var err error
	switch f.spec.TimeFormat {
	case TimeUnix, TimeUnixMS:
		var n int64
		n, err = strconv.ParseInt(s, 10, 64)
		if err == nil {
			if f.spec.TimeFormat == TimeUnix {
				t = time.Unix(n, 0)
			} else {
				t = time.UnixMilli(n)
			}
		}
	case "":
		t, err = time.Parse(time.RFC3339, s)
	default:
		t, err = time.ParseInLocation(f.spec.TimeFormat, s, f.loc)
	}
	if err != nil {
		format := f.spec.TimeFormat
		if format == "" {
			format = "RFC 3339"
		}
		row.add(f.target, "%q does not match the time format %s", truncate(s), format)
		return time.Time{}, false
	}
	// A year outside this range is a wrong format (e.g. milliseconds read
	// as seconds), not a real ticket.
	if y := t.Year(); y < 1970 || y > 2999 {
		row.add(f.target, "%q is out of range (year %d)", truncate(s), y)
		return time.Time{}, false
	}
	return t.UTC(), true
}

func csvRaw(rec []string, comma rune) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Comma = comma
	_ = w.Write(rec)
	w.Flush()
	return truncate(strings.TrimRight(b.String(), "\n"))
}

// truncate shortens s for reports and messages, at a rune boundary.
func truncate(s string) string {
	if len(s) <= maxRawBytes {
		return s
	}
	cut := maxRawBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// budgetReader fails once more than left bytes are read, which bounds how
// much one CSV record may consume.
type budgetReader struct {
	r    io.Reader
	left int64
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errRecordTooLong
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

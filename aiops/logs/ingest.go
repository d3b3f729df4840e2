// Package logs provides log ingestion for AIOps: services send JSON lines
// with ECS-style fields, each line is checked, given the template id of
// its message by the log-template miner, and bulk-indexed into the daily
// log indices the server's own logs go to (es/eslog's "logs" alias), so
// error bursts can be counted per service and template.
//
// Bad input never fails a batch: each line is accepted or rejected on its
// own, and the result counts the rejections by reason.
package logs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboard-cc/switchboard/es"
)

// Miner assigns a log message its template.
type Miner interface {
	Mine(message string) (id, template string)
}

// Indexer writes bulk requests; *es.Client is one.
type Indexer interface {
	Bulk(ctx context.Context, ndjson []byte, refresh string) (*es.BulkResult, error)
	Name(logical string) string
}

// Config bounds ingestion.
type Config struct {
	// MaxLine is the longest line accepted (1 MiB); longer ones are
	// rejected and skipped up to their end.
	MaxLine int
	// MaxSkew is how far in the future a timestamp may be (5 min): clocks
	// drift, but a line from next week would sit at the head of every
	// dashboard.
	MaxSkew time.Duration
	// BatchLines is how many lines go to Elasticsearch in one bulk (1,000).
	BatchLines int
	// MaxErrors is how many rejected lines are described in a Result (20).
	MaxErrors int
}

func (c Config) withDefaults() Config {
	if c.MaxLine <= 0 {
		c.MaxLine = 1 << 20
	}
	if c.MaxSkew <= 0 {
		c.MaxSkew = 5 * time.Minute
	}
	if c.BatchLines <= 0 {
		c.BatchLines = 1000
	}
	if c.MaxErrors <= 0 {
		c.MaxErrors = 20
	}
	return c
}

// Rejection reasons.
const (
	ReasonNotJSON    = "not_json"
	ReasonTooLong    = "too_long"
	ReasonNoMessage  = "no_message"
	ReasonFuture     = "future_timestamp"
	ReasonBadTime    = "bad_timestamp"
	ReasonIndexError = "index_error"
)

// Result is what one ingestion did.
type Result struct {
	Accepted int            `json:"accepted"`
	Rejected int            `json:"rejected"`
	Reasons  map[string]int `json:"reasons,omitempty"`
	// Repaired counts accepted lines whose invalid UTF-8 was replaced.
	Repaired int         `json:"repaired"`
	Errors   []LineError `json:"errors,omitempty"`
}

// LineError describes one rejected line.
type LineError struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
}

func (r *Result) reject(max, line int, reason, detail string) {
	r.Rejected++
	if r.Reasons == nil {
		r.Reasons = map[string]int{}
	}
	r.Reasons[reason]++
	if len(r.Errors) < max {
		r.Errors = append(r.Errors, LineError{Line: line, Reason: reason, Detail: detail})
	}
}

// Defaults fill fields a line leaves out (e.g. the service a shipper
// reads the file of).
type Defaults struct {
	Service string
	Host    string
}

// Ingester ingests log lines.
type Ingester struct {
	cfg   Config
	es    Indexer
	miner Miner
	now   func() time.Time
}

// New returns an Ingester; miner may be nil (no template ids).
func New(idx Indexer, miner Miner, cfg Config) *Ingester {
	return &Ingester{cfg: cfg.withDefaults(), es: idx, miner: miner, now: time.Now}
}

// line is an incoming line: ECS names, flattened or nested.
type line struct {
	Timestamp json.RawMessage `json:"@timestamp"`
	Message   string          `json:"message"`
	Level     string          `json:"log.level"`
	Service   string          `json:"service.name"`
	Host      string          `json:"host.name"`
	TraceID   string          `json:"trace.id"`
	Log       *struct {
		Level string `json:"level"`
	} `json:"log"`
	ServiceObj *struct {
		Name string `json:"name"`
	} `json:"service"`
	HostObj *struct {
		Name string `json:"name"`
	} `json:"host"`
	Labels map[string]any `json:"labels"`
}

// doc is what is stored, in the mapping of the logs indices.
type doc struct {
	Timestamp  string         `json:"@timestamp"`
	Message    string         `json:"message"`
	Log        *docLevel      `json:"log,omitempty"`
	Service    *docName       `json:"service,omitempty"`
	Host       *docName       `json:"host,omitempty"`
	TemplateID string         `json:"template_id,omitempty"`
	TraceID    string         `json:"trace_id,omitempty"`
	Labels     map[string]any `json:"labels,omitempty"`
	Event      docEvent       `json:"event"`
	Agent      string         `json:"ingest_agent"`
}

type docLevel struct {
	Level string `json:"level"`
}
type docName struct {
	Name string `json:"name"`
}
type docEvent struct {
	Dataset string `json:"dataset"`
}

// Ingest reads JSON lines from r until EOF and indexes the good ones.
func (in *Ingester) Ingest(ctx context.Context, r io.Reader, def Defaults) (Result, error) {
	res := Result{}
	br := newReader(r)
	var batch bytes.Buffer
	var batchLines []int
	flush := func() error {
		if len(batchLines) == 0 {
			return nil
		}
		out, err := in.es.Bulk(ctx, batch.Bytes(), "")
		if err != nil {
			return fmt.Errorf("logs: bulk: %w", err)
		}
		for i, it := range out.Items {
			if it.Error != "" || it.Status >= 300 {
				res.Accepted--
				n := 0
				if i < len(batchLines) {
					n = batchLines[i]
				}
				res.reject(in.cfg.MaxErrors, n, ReasonIndexError, it.Error)
			}
		}
		batch.Reset()
		batchLines = batchLines[:0]
		return nil
	}
	for n := 1; ; n++ {
		raw, tooLong, err := readLine(br, in.cfg.MaxLine)
		if len(raw) > 0 || tooLong {
			switch {
			case tooLong:
				res.reject(in.cfg.MaxErrors, n, ReasonTooLong, fmt.Sprintf("over %d bytes", in.cfg.MaxLine))
			default:
				if d, ok := in.parse(&res, n, raw, def); ok {
					b, merr := json.Marshal(d)
					if merr != nil {
						res.reject(in.cfg.MaxErrors, n, ReasonNotJSON, merr.Error())
						break
					}
					day := d.Timestamp[:10]
					index := in.es.Name("logs") + "-" + strings.ReplaceAll(day, "-", ".")
					fmt.Fprintf(&batch, `{"create":{"_index":%q}}`+"\n", index)
					batch.Write(b)
					batch.WriteByte('\n')
					batchLines = append(batchLines, n)
					res.Accepted++
				}
			}
			if len(batchLines) >= in.cfg.BatchLines {
				if ferr := flush(); ferr != nil {
					return res, ferr
				}
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, fmt.Errorf("logs: read: %w", err)
		}
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
	}
	return res, flush()
}

func newReader(r io.Reader) *bufio.Reader { return bufio.NewReaderSize(r, 64<<10) }

// readLine reads one line without its newline; a line over max is
// consumed to its end and reported as too long, never buffered whole.
func readLine(br *bufio.Reader, max int) ([]byte, bool, error) {
	var out []byte
	tooLong := false
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(out)+len(chunk) > max+1 { // +1: the newline
				tooLong, out = true, nil
			} else {
				out = append(out, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		out = bytes.TrimRight(out, "\r\n")
		if tooLong {
			return nil, true, err
		}
		return out, false, err
	}
}

func (in *Ingester) parse(res *Result, n int, raw []byte, def Defaults) (doc, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return doc{}, false
	}
	repaired := false
	if !utf8.Valid(raw) {
		raw = bytes.ToValidUTF8(raw, []byte("\uFFFD"))
		repaired = true
	}
	var l line
	if raw[0] != '{' || json.Unmarshal(raw, &l) != nil {
		res.reject(in.cfg.MaxErrors, n, ReasonNotJSON, clip(string(raw), 80))
		return doc{}, false
	}
	if strings.TrimSpace(l.Message) == "" {
		res.reject(in.cfg.MaxErrors, n, ReasonNoMessage, "")
		return doc{}, false
	}
	now := in.now().UTC()
	ts := now
	if len(l.Timestamp) > 0 && string(l.Timestamp) != "null" {
		t, err := parseTime(l.Timestamp)
		if err != nil {
			res.reject(in.cfg.MaxErrors, n, ReasonBadTime, err.Error())
			return doc{}, false
		}
		if t.Sub(now) > in.cfg.MaxSkew {
			res.reject(in.cfg.MaxErrors, n, ReasonFuture, t.Format(time.RFC3339))
			return doc{}, false
		}
		ts = t.UTC()
	}
	d := doc{Timestamp: ts.Format(time.RFC3339Nano), Message: l.Message, TraceID: l.TraceID, Labels: l.Labels,
		Event: docEvent{Dataset: "ingest"}, Agent: "switchboard-logs"}
	level := firstOf(l.Level, func() string {
		if l.Log != nil {
			return l.Log.Level
		}
		return ""
	}())
	if level != "" {
		d.Log = &docLevel{Level: strings.ToUpper(level)}
	}
	if s := firstOf(l.Service, nameOf(l.ServiceObj), def.Service); s != "" {
		d.Service = &docName{Name: s}
	}
	if h := firstOf(l.Host, nameOf(l.HostObj), def.Host); h != "" {
		d.Host = &docName{Name: h}
	}
	if in.miner != nil {
		d.TemplateID, _ = in.miner.Mine(l.Message)
	}
	if repaired {
		res.Repaired++
	}
	return d, true
}

func nameOf(o *struct {
	Name string `json:"name"`
}) string {
	if o == nil {
		return ""
	}
	return o.Name
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// parseTime reads an RFC 3339 string or epoch milliseconds.
func parseTime(raw json.RawMessage) (time.Time, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t, nil
			}
		}
		return time.Time{}, fmt.Errorf("@timestamp %q is not RFC 3339", clip(s, 40))
	}
	var ms float64
	if json.Unmarshal(raw, &ms) == nil && ms > 0 {
		return time.UnixMilli(int64(ms)), nil
	}
	return time.Time{}, errors.New("@timestamp is neither a string nor epoch milliseconds")
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

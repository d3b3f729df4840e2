// Package importer migrates historical tickets from legacy systems: it reads
// a CSV or JSONL export, maps each record to a ticket as a YAML Mapping
// says, rejects invalid rows into a report instead of failing, and stores
// the rest in batches. Only cmd/switchboard (the `switchboard import`
// command) is expected to import it.
//
// Imports are idempotent: a ticket's id is derived from the legacy system
// and id (TicketID), and tickets are created, never overwritten, so running
// the same import again skips what is already stored and resumes an import
// that stopped half-way (Elasticsearch outage, Ctrl-C). Ticket numbers are
// reserved per batch before storing, so a re-run leaves gaps in the
// numbering where tickets turned out to be present already.
//
// SLA: imported tickets get due times from the SLAPolicy in Deps, computed
// from their legacy creation time. Breach flags are not computed for
// tickets imported as resolved or closed, since their response history is
// unknown; tickets imported as new, open or pending whose due times have
// passed are overdue in fact, and the SLA monitor flags them on its next
// pass.
package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/switchboard-cc/switchboard/tickets"
)

// Errors callers branch on.
var (
	// ErrMapping: the mapping is invalid or does not fit the input;
	// nothing was imported.
	ErrMapping = errors.New("importer: invalid mapping")
	// ErrInput: the input cannot be read as the mapping says (no header, a
	// column missing, a runaway CSV record).
	ErrInput = errors.New("importer: unreadable input")
	// ErrIncomplete: the import stopped part-way; an *IncompleteError says
	// how far it got. Re-running the same import resumes it.
	ErrIncomplete = errors.New("importer: import incomplete")

	// errRecordTooLong stops a CSV record that would not end; Next turns
	// it into an ErrInput with the record's offset.
	errRecordTooLong = errors.New("record too long")
)

// Builder turns a validated NewTicket into a ticket numbered number, with
// status new, a creation history entry and SLA due times. *tickets.Service
// implements it.
type Builder interface {
	Build(actor string, n tickets.NewTicket, number int64) *tickets.Ticket
}

// Sequencer reserves ticket numbers; the importer takes a block per batch
// from the "ticket" sequence. tickets/esstore implements it.
type Sequencer interface {
	Reserve(ctx context.Context, name string, n int64) (int64, error)
}

// Writer stores new tickets in bulk. It returns one error per ticket, in
// order: nil when created, one wrapping tickets.ErrConflict when the id
// exists already (an earlier run imported it), one wrapping
// tickets.ErrUnavailable when worth retrying (e.g. a full write queue).
// The second result is a request-level failure; one wrapping
// tickets.ErrUnavailable is retried. tickets/esstore implements it; it must
// be safe for concurrent use.
type Writer interface {
	CreateMany(ctx context.Context, ts []*tickets.Ticket) ([]error, error)
}

// SLAPolicy recomputes a ticket's SLA due times from its creation time;
// the importer calls it after setting the legacy times. It should be the
// policy the Service uses.
type SLAPolicy interface {
	Apply(t *tickets.Ticket)
}

// Embedder computes the sentence vectors of many texts in one call, so that
// imported history takes part in similar-ticket search and serves as the
// labelled evidence behind new classifications. The NLU service
// implements it.
type Embedder interface {
	Embed(ctx context.Context, texts []string) (vecs [][]float32, model string, err error)
}

// Deps are Run's collaborators. Builder, Sequencer and Writer are required
// unless the run is a dry run; the others may be nil.
type Deps struct {
	Builder   Builder
	Sequencer Sequencer
	Writer    Writer
	// Embedder, when set, embeds each batch before it is stored. Its
	// failure never fails the import: the batch is stored without vectors
	// and the summary counts them.
	Embedder Embedder
	// SLA recomputes due times from the legacy creation time. Without it
	// imported tickets carry no due times, because those the Builder
	// computed count from the import, not from when the ticket was opened.
	SLA    SLAPolicy
	Logger *slog.Logger
	Now    func() time.Time
}

// RunConfig describes one import.
type RunConfig struct {
	// Mapping, when set, wins over MappingPath (a YAML file).
	Mapping     *Mapping
	MappingPath string
	// InputPath is the CSV or JSONL export; "-" reads standard input (the
	// mapping must then name the format).
	InputPath string
	// RejectsPath receives the rejection report (CSV: row, field, message,
	// raw). Default: InputPath + ".rejects.csv". It is written on every
	// run, with only its header when nothing was rejected.
	RejectsPath string
	// DryRun parses and validates everything and writes the rejection
	// report, but stores nothing and reserves no numbers.
	DryRun bool
	// BatchSize is how many tickets go into one bulk request; default 1000.
	BatchSize int
	// Writers is how many batches are stored concurrently; default 3. One
	// more than two keeps Elasticsearch busy while writers encode their
	// next batch.
	Writers int
	// RetryFor is how long a batch is retried while storage is unavailable
	// before the import stops; default 2 minutes.
	RetryFor time.Duration
	// Actor is recorded in each ticket's history; default "import".
	Actor string
	// Progress receives a progress bar (only when it is a terminal, or
	// ForceProgress is set, so CI logs stay clean) and the one-line summary.
	// Nil means silent.
	Progress      io.Writer
	ForceProgress bool
}

// Defaults for RunConfig.
const (
	DefaultBatchSize = 1000
	DefaultWriters   = 3
	DefaultRetryFor  = 2 * time.Minute
	DefaultActor     = "import"
)

func (c *RunConfig) defaults() {
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.Writers == 0 {
		c.Writers = DefaultWriters
	}
	if c.RetryFor == 0 {
		c.RetryFor = DefaultRetryFor
	}
	if c.Actor == "" {
		c.Actor = DefaultActor
	}
	if c.RejectsPath == "" {
		c.RejectsPath = c.InputPath + ".rejects.csv"
		if c.InputPath == "-" {
			c.RejectsPath = "rejects.csv"
		}
	}
}

// Validate checks the configuration, after defaults are applied.
func (c RunConfig) Validate() error {
	switch {
	case c.Mapping == nil && c.MappingPath == "":
		return errors.New("importer: a mapping is required")
	case c.InputPath == "":
		return errors.New("importer: an input file is required")
	case c.BatchSize < 1 || c.BatchSize > 10000:
		return fmt.Errorf("importer: batch size must be 1 to 10000, got %d", c.BatchSize)
	case c.Writers < 1 || c.Writers > 16:
		return fmt.Errorf("importer: writers must be 1 to 16, got %d", c.Writers)
	case c.RetryFor < 0:
		return errors.New("importer: RetryFor must not be negative")
	case c.RejectsPath == c.InputPath:
		return errors.New("importer: the rejection report would overwrite the input")
	}
	return nil
}

// Summary is what an import did. A request whose answer was lost (an
// outage) and that is retried finds its tickets stored: they count as
// AlreadyPresent, so only the sum Imported+AlreadyPresent is exact.
type Summary struct {
	// Rows is how many source records were read.
	Rows int64 `json:"rows"`
	// Valid rows passed validation.
	Valid int64 `json:"valid"`
	// Imported tickets were created by this run.
	Imported int64 `json:"imported"`
	// AlreadyPresent tickets existed already, from an earlier run.
	AlreadyPresent int64 `json:"already_present"`
	// Rejected rows are in the rejection report: invalid, or refused by
	// storage.
	Rejected int64 `json:"rejected"`
	// NotEmbedded tickets were stored without a sentence vector because
	// the embedding model failed (only counted when one is configured).
	NotEmbedded int64 `json:"not_embedded,omitempty"`
	// Batches stored (in a dry run: that would have been sent).
	Batches     int64         `json:"batches"`
	Duration    time.Duration `json:"duration"`
	DryRun      bool          `json:"dry_run,omitempty"`
	RejectsPath string        `json:"rejects_path"`
}

// String is the one-line summary Run prints.
func (s Summary) String() string {
	rate := 0.0
	if s.Duration > 0 {
		rate = float64(s.Rows) / s.Duration.Seconds()
	}
	rejects := ""
	if s.Rejected > 0 {
		rejects = " (see " + s.RejectsPath + ")"
	}
	d := s.Duration.Round(time.Millisecond)
	if s.DryRun {
		return fmt.Sprintf("dry run: %d rows: %d valid, %d rejected%s; nothing stored; %s (%.0f rows/s)",
			s.Rows, s.Valid, s.Rejected, rejects, d, rate)
	}
	noVec := ""
	if s.NotEmbedded > 0 {
		noVec = fmt.Sprintf(", %d without embedding", s.NotEmbedded)
	}
	return fmt.Sprintf("import: %d rows: %d imported, %d already present, %d rejected%s%s; %d batches in %s (%.0f rows/s)",
		s.Rows, s.Imported, s.AlreadyPresent, s.Rejected, rejects, noVec, s.Batches, d, rate)
}

// IncompleteError reports an import that stopped part-way. Committed
// tickets are stored (created now or earlier); re-running the same import
// skips them and imports the rest.
type IncompleteError struct {
	Committed int64 // tickets confirmed stored
	Read      int64 // source rows read
	Err       error // why it stopped
}

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("importer: import stopped after %d of %d rows read were committed: %v; "+
		"re-running the same command is safe and resumes the import: ticket ids derive from the legacy ids, "+
		"so tickets already stored are skipped, not duplicated", e.Committed, e.Read, e.Err)
}

// Unwrap makes errors.Is hold for ErrIncomplete and for the cause.
func (e *IncompleteError) Unwrap() []error { return []error{ErrIncomplete, e.Err} }

// Run imports cfg.InputPath and returns what it did. Invalid rows do not
// fail the run; they go into the rejection report. A storage outage is
// retried for cfg.RetryFor; if it lasts longer, Run stops with an
// *IncompleteError, and the Summary so far.
func Run(ctx context.Context, cfg RunConfig, d Deps) (Summary, error) {
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return Summary{}, err
	}
	if !cfg.DryRun && (d.Builder == nil || d.Sequencer == nil || d.Writer == nil) {
		return Summary{}, errors.New("importer: Builder, Sequencer and Writer are required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	m := cfg.Mapping
	if m == nil {
		var err error
		if m, err = LoadMapping(cfg.MappingPath); err != nil {
			return Summary{}, err
		}
	}
	format, err := m.formatFor(cfg.InputPath)
	if err != nil {
		return Summary{}, err
	}
	in, size, err := openInput(cfg.InputPath)
	if err != nil {
		return Summary{}, err
	}
	defer in.Close()

	bar := newProgress(cfg, size)
	rd, err := NewReader(progressReader{r: in, bar: bar}, m, format)
	if err != nil {
		return Summary{}, err
	}
	rep, err := createReport(cfg.RejectsPath)
	if err != nil {
		return Summary{}, err
	}
	r := &run{cfg: cfg, d: d, m: m, rep: rep, stop: make(chan struct{}), start: d.Now()}
	r.sum.DryRun = cfg.DryRun
	r.sum.RejectsPath = cfg.RejectsPath
	runErr := r.pipeline(ctx, rd)
	if err := rep.close(); err != nil && runErr == nil {
		runErr = err
	}
	if bar != nil {
		_ = bar.Finish()
		_ = bar.Clear()
	}
	sum := r.summary()
	if cfg.Progress != nil {
		fmt.Fprintln(cfg.Progress, sum.String())
	}
	return sum, runErr
}

func openInput(path string) (io.ReadCloser, int64, error) {
	if path == "-" {
		return io.NopCloser(os.Stdin), -1, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("importer: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("importer: %w", err)
	}
	return f, st.Size(), nil
}

// run is one import in progress.
type run struct {
	cfg   RunConfig
	d     Deps
	m     *Mapping
	rep   *report
	start time.Time

	mu      sync.Mutex
	sum     Summary
	failErr error
	stop    chan struct{} // closed when a writer gives up
	once    sync.Once
}

func (r *run) summary() Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.sum
	s.Duration = r.d.Now().Sub(r.start)
	return s
}

func (r *run) count(f func(s *Summary)) {
	r.mu.Lock()
	f(&r.sum)
	r.mu.Unlock()
}

func (r *run) fail(err error) {
	r.mu.Lock()
	if r.failErr == nil {
		r.failErr = err
	}
	r.mu.Unlock()
	r.once.Do(func() { close(r.stop) })
}

// pipeline overlaps parsing with storing: one goroutine parses and
// validates, cfg.Writers goroutines store batches, so the bulk requests
// keep Elasticsearch busy while the next batch is parsed.
func (r *run) pipeline(ctx context.Context, rd *Reader) error {
	batches := make(chan []*Row, r.cfg.Writers)
	var wg sync.WaitGroup
	if !r.cfg.DryRun {
		for range r.cfg.Writers {
			wg.Go(func() {
				for b := range batches {
					select {
					case <-r.stop:
						continue // drain, so the parser never blocks
					default:
					}
					if err := r.store(ctx, b); err != nil {
						r.fail(err)
					}
				}
			})
		}
	}
	parseErr := r.parse(ctx, rd, batches)
	close(batches)
	wg.Wait()

	r.mu.Lock()
	err := r.failErr
	committed := r.sum.Imported + r.sum.AlreadyPresent
	read := r.sum.Rows
	r.mu.Unlock()
	if err == nil {
		err = parseErr
	}
	if err == nil {
		return nil
	}
	if r.cfg.DryRun {
		return err
	}
	return &IncompleteError{Committed: committed, Read: read, Err: err}
}

// parse reads every row, reports the invalid ones and sends the valid ones
// in batches. It stops early when a writer has given up or ctx ends.
func (r *run) parse(ctx context.Context, rd *Reader, out chan<- []*Row) error {
	batch := make([]*Row, 0, r.cfg.BatchSize)
	send := func() bool {
		if len(batch) == 0 {
			return true
		}
		if r.cfg.DryRun {
			r.count(func(s *Summary) { s.Batches++ })
			batch = batch[:0]
			return true
		}
		select {
		case out <- batch:
		case <-r.stop:
			return false
		case <-ctx.Done():
			return false
		}
		batch = make([]*Row, 0, r.cfg.BatchSize)
		return true
	}
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			send()
			return err
		}
		if !row.Valid() {
			if err := r.rep.add(row.Line, row.Raw, row.Violations); err != nil {
				return err
			}
			r.count(func(s *Summary) { s.Rows++; s.Rejected++ })
			continue
		}
		r.count(func(s *Summary) { s.Rows++; s.Valid++ })
		batch = append(batch, row)
		if len(batch) == r.cfg.BatchSize && !send() {
			return ctx.Err() // nil after a writer failure: that error wins
		}
	}
	if !send() {
		return ctx.Err()
	}
	return nil
}

// embed attaches sentence vectors to ts, in chunks the models batch well.
func (r *run) embed(ctx context.Context, ts []*tickets.Ticket) {
	if r.d.Embedder == nil {
		return
	}
	const chunk = 64
	for start := 0; start < len(ts); start += chunk {
		part := ts[start:min(start+chunk, len(ts))]
		texts := make([]string, len(part))
		for i, t := range part {
			texts[i] = tickets.AnalysisText(t)
		}
		vecs, model, err := r.d.Embedder.Embed(ctx, texts)
		if err != nil || len(vecs) != len(part) {
			r.d.Logger.WarnContext(ctx, "import: embedding failed; tickets stored without vectors", "tickets", len(part), "err", err)
			r.count(func(s *Summary) { s.NotEmbedded += int64(len(part)) })
			continue
		}
		for i, t := range part {
			t.Embedding, t.EmbeddingModel = vecs[i], model
		}
	}
}

// store reserves numbers for a batch, builds its tickets and creates them,
// retrying while storage is unavailable.
func (r *run) store(ctx context.Context, rows []*Row) error {
	var first int64
	err := r.retry(ctx, "reserve ticket numbers", func() (bool, error) {
		var err error
		first, err = r.d.Sequencer.Reserve(ctx, "ticket", int64(len(rows)))
		return false, err
	})
	if err != nil {
		return err
	}
	now := r.d.Now().UTC()
	pending := make([]*tickets.Ticket, len(rows))
	pendingRows := rows
	for i, row := range rows {
		pending[i] = r.build(row, first+int64(i), now)
	}
	r.embed(ctx, pending)
	err = r.retry(ctx, "create tickets", func() (bool, error) {
		res, err := r.d.Writer.CreateMany(ctx, pending)
		if err != nil {
			return false, err
		}
		if len(res) != len(pending) {
			return false, fmt.Errorf("storage answered %d results for %d tickets", len(res), len(pending))
		}
		var again []*tickets.Ticket
		var againRows []*Row
		var imported, present, rejected int64
		var lastErr error
		for i, e := range res {
			switch {
			case e == nil:
				imported++
			case errors.Is(e, tickets.ErrConflict):
				present++
			case errors.Is(e, tickets.ErrUnavailable):
				again = append(again, pending[i])
				againRows = append(againRows, pendingRows[i])
				lastErr = e
			default:
				rejected++
				row := pendingRows[i]
				msg := fmt.Sprintf("legacy id %s refused by storage: %v", row.SourceID, e)
				if err := r.rep.add(row.Line, "", []tickets.FieldViolation{{Field: "record", Message: msg}}); err != nil {
					return false, err
				}
			}
		}
		r.count(func(s *Summary) {
			s.Imported += imported
			s.AlreadyPresent += present
			s.Rejected += rejected
			s.Valid -= rejected
		})
		progressed := len(again) < len(pending)
		pending, pendingRows = again, againRows
		if len(pending) > 0 {
			return progressed, fmt.Errorf("%d tickets not stored: %w", len(pending), lastErr)
		}
		return true, nil
	})
	if err == nil {
		r.count(func(s *Summary) { s.Batches++ })
	}
	return err
}

// retry calls f until it succeeds, fails for a reason retrying cannot fix,
// or storage has been unavailable for cfg.RetryFor. The window restarts
// whenever f makes progress, so a long import survives several short
// outages.
func (r *run) retry(ctx context.Context, what string, f func() (progressed bool, err error)) error {
	var since time.Time
	wait := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		progressed, err := f()
		if err == nil {
			return nil
		}
		if !errors.Is(err, tickets.ErrUnavailable) || ctx.Err() != nil {
			return fmt.Errorf("importer: %s: %w", what, err)
		}
		now := r.d.Now()
		if since.IsZero() || progressed {
			since = now
		}
		if now.Sub(since) >= r.cfg.RetryFor {
			return fmt.Errorf("importer: %s: storage unavailable for %s (%d attempts): %w", what, r.cfg.RetryFor, attempt, err)
		}
		r.d.Logger.WarnContext(ctx, "storage unavailable; retrying", "component", "importer", "op", what, "attempt", attempt, "err", err)
		sleep := wait/2 + rand.N(wait/2+1)                // jitter: writers do not retry in lockstep
		sleep = min(sleep, r.cfg.RetryFor-now.Sub(since)) // a last attempt at the deadline
		wait = min(wait*2, 5*time.Second)
		t := time.NewTimer(sleep)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("importer: %s: %w", what, ctx.Err())
		case <-r.stop:
			t.Stop()
			return fmt.Errorf("importer: %s: %w", what, err)
		}
	}
}

// build makes the ticket for a valid row: the Builder's ticket, with the
// derived id and the legacy status, times and rating.
func (r *run) build(row *Row, number int64, now time.Time) *tickets.Ticket {
	return Build(r.d.Builder, r.d.SLA, r.cfg.Actor, r.m.SourceSystem, row, number, now)
}

// Build turns a valid Row into the ticket to store: b builds it as a new
// ticket, then Build sets the id derived from the legacy id, the legacy
// status and times, the rating, and a history entry saying it was imported
// at now; sla (may be nil) recomputes the due times from the legacy
// creation time. Run uses it; it is exported for tools that store tickets
// themselves.
func Build(b Builder, sla SLAPolicy, actor, sourceSystem string, row *Row, number int64, now time.Time) *tickets.Ticket {
	t := b.Build(actor, row.Ticket, number)
	x := row.Extras
	t.ID = row.ID
	t.ExternalID = row.SourceID
	if !x.CreatedAt.IsZero() {
		t.CreatedAt = x.CreatedAt.UTC()
	}
	status := x.Status
	if status == "" {
		status = tickets.StatusNew
	}
	resolved, closed := x.ResolvedAt, x.ClosedAt
	latest := func(ts ...*time.Time) time.Time {
		l := t.CreatedAt
		for _, x := range ts {
			if x != nil && x.After(l) {
				l = *x
			}
		}
		return l
	}
	var updated *time.Time
	if !x.UpdatedAt.IsZero() {
		updated = &x.UpdatedAt
	}
	switch status {
	case tickets.StatusResolved:
		closed = nil
		if resolved == nil {
			at := latest(updated)
			resolved = &at
		}
	case tickets.StatusClosed:
		if closed == nil {
			at := latest(resolved, updated)
			closed = &at
		}
		if resolved == nil { // as the Service does when closing straight from new
			resolved = closed
		}
	default:
		// An unfinished ticket with a resolution time was reopened; the
		// Service clears the time on reopen, so the import does too.
		resolved, closed = nil, nil
	}
	t.Status = status
	t.ResolvedAt, t.ClosedAt = utcPtr(resolved), utcPtr(closed)
	t.UpdatedAt = latest(updated, resolved, closed).UTC()
	switch status {
	case tickets.StatusNew:
		t.StatusSince = t.CreatedAt
	case tickets.StatusResolved:
		t.StatusSince = *t.ResolvedAt
	case tickets.StatusClosed:
		t.StatusSince = *t.ClosedAt
	default:
		t.StatusSince = t.UpdatedAt
	}
	if x.ResolvedAt != nil && t.ResolvedAt != nil {
		secs := t.ResolvedAt.Sub(t.CreatedAt).Seconds()
		t.Metrics.ResolutionSeconds = &secs
	}
	if x.CSAT != nil {
		c := *x.CSAT
		if c.At.IsZero() {
			c.At = t.UpdatedAt
			if t.ResolvedAt != nil {
				c.At = *t.ResolvedAt
			}
		}
		t.CSAT = &c
	}
	if t.Category != nil {
		t.Category.Source = tickets.SourceImport
	}
	for i := range t.History {
		if t.History[i].Action == "created" {
			t.History[i].At = t.CreatedAt
		}
	}
	imported := tickets.Change{At: now.UTC(), Actor: actor, Action: "imported", Note: sourceSystem}
	if status != tickets.StatusNew {
		imported.Field, imported.From, imported.To = "status", string(tickets.StatusNew), string(status)
	}
	t.History = append(t.History, imported)
	if sla != nil {
		sla.Apply(t)
	} else {
		t.SLA.FirstResponseDue, t.SLA.ResolutionDue = nil, nil
	}
	return t
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// newProgress returns a progress bar over the input's bytes, or nil when
// progress is not wanted: not a terminal (a CI log) and not forced.
func newProgress(cfg RunConfig, size int64) *progressbar.ProgressBar {
	if cfg.Progress == nil || !cfg.ForceProgress && !isTerminal(cfg.Progress) {
		return nil
	}
	desc := "importing"
	if cfg.DryRun {
		desc = "checking"
	}
	return progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(cfg.Progress),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionClearOnFinish(),
	)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressReader advances the bar by the bytes the parser consumes.
type progressReader struct {
	r   io.Reader
	bar *progressbar.ProgressBar
}

func (p progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if p.bar != nil && n > 0 {
		_ = p.bar.Add(n)
	}
	return n, err
}

// Interface guards.
var (
	_ error = (*IncompleteError)(nil)
	_ error = (*MappingError)(nil)
)

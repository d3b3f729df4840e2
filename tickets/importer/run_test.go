package importer_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/es"
	"github.com/switchboard-cc/switchboard/es/estest"
	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/importer"
)

// copyTestdata copies testdata files into a temporary directory, so that
// rejection reports are written there.
func copyTestdata(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readReport(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("rejection report: %v", err)
	}
	return recs
}

func TestRunRejectionReport(t *testing.T) {
	tests := []struct {
		input, mapping string
		want           importer.Summary
		// rows are the report's row and field columns, in order.
		rows [][2]string
		raw  map[string]string // row → a substring of its raw column
	}{
		{
			input: "zendesk.csv", mapping: "zendesk-mapping.yaml",
			want: importer.Summary{Rows: 5, Valid: 3, Rejected: 2, Batches: 1, DryRun: true},
			rows: [][2]string{{"7", "subject"}, {"7", "resolved_at"}, {"8", "customer.email"}, {"8", "status"}},
			raw:  map[string]string{"7": "1004,,no subject here", "8": "emma.example.com"},
		},
		{
			input: "helpdesk.jsonl", mapping: "helpdesk-mapping.yaml",
			want: importer.Summary{Rows: 4, Valid: 2, Rejected: 2, Batches: 1, DryRun: true},
			rows: [][2]string{{"3", "record"}, {"4", "customer"}},
			raw:  map[string]string{"3": `"title": "broken line"`, "4": `"No customer"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			dir := copyTestdata(t, tt.input, tt.mapping)
			var out bytes.Buffer
			sum, err := importer.Run(context.Background(), importer.RunConfig{
				MappingPath: filepath.Join(dir, tt.mapping),
				InputPath:   filepath.Join(dir, tt.input),
				DryRun:      true,
				Progress:    &out,
			}, importer.Deps{}) // no storage at all: a dry run must not need it
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			tt.want.RejectsPath = filepath.Join(dir, tt.input) + ".rejects.csv"
			sum.Duration = 0
			if sum != tt.want {
				t.Errorf("summary %+v\nwant    %+v", sum, tt.want)
			}
			if !strings.HasPrefix(out.String(), "dry run: ") || strings.Count(out.String(), "\n") != 1 {
				t.Errorf("output %q, want one summary line", out.String())
			}
			recs := readReport(t, tt.want.RejectsPath)
			if !slices.Equal(recs[0], []string{"row", "field", "message", "raw"}) {
				t.Fatalf("report header %q", recs[0])
			}
			var rows [][2]string
			for _, r := range recs[1:] {
				rows = append(rows, [2]string{r[0], r[1]})
				if r[2] == "" {
					t.Errorf("row %s %s has no message", r[0], r[1])
				}
				if want := tt.raw[r[0]]; !strings.Contains(r[3], want) {
					t.Errorf("row %s raw %q lacks %q", r[0], r[3], want)
				}
			}
			if !slices.Equal(rows, tt.rows) {
				t.Errorf("report rows %q, want %q", rows, tt.rows)
			}
		})
	}
}

func TestRunConfigErrors(t *testing.T) {
	dir := copyTestdata(t, "zendesk.csv", "zendesk-mapping.yaml")
	mapping := filepath.Join(dir, "zendesk-mapping.yaml")
	input := filepath.Join(dir, "zendesk.csv")
	tests := []struct {
		name string
		cfg  importer.RunConfig
		want string
	}{
		{"no mapping", importer.RunConfig{InputPath: input}, "a mapping is required"},
		{"no input", importer.RunConfig{MappingPath: mapping}, "an input file is required"},
		{"missing input", importer.RunConfig{MappingPath: mapping, InputPath: filepath.Join(dir, "nope.csv"), DryRun: true}, "no such file"},
		{"unknown extension", importer.RunConfig{MappingPath: mapping, InputPath: mapping, DryRun: true}, "cannot tell the format"},
		{"missing column", importer.RunConfig{MappingPath: "testdata/generated-mapping.yaml", InputPath: input, DryRun: true}, `lacks: "agent"`},
		{"no storage", importer.RunConfig{MappingPath: mapping, InputPath: input}, "Builder, Sequencer and Writer are required"},
		{"batch too big", importer.RunConfig{MappingPath: mapping, InputPath: input, BatchSize: 1 << 20}, "batch size"},
		{"report over input", importer.RunConfig{MappingPath: mapping, InputPath: input, RejectsPath: input}, "overwrite the input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := importer.Run(context.Background(), tt.cfg, importer.Deps{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Run: %v, want %q", err, tt.want)
			}
		})
	}
}

func TestRunProgress(t *testing.T) {
	input := filepath.Join(t.TempDir(), "tickets.csv")
	var data bytes.Buffer
	if err := importer.GenerateCSV(&data, 500, 1); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(input, data.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, force := range []bool{false, true} {
		t.Run(fmt.Sprint("force=", force), func(t *testing.T) {
			var out bytes.Buffer
			_, err := importer.Run(context.Background(), importer.RunConfig{
				MappingPath:   "testdata/generated-mapping.yaml",
				InputPath:     input,
				DryRun:        true,
				Progress:      &out,
				ForceProgress: force,
			}, importer.Deps{})
			if err != nil {
				t.Fatal(err)
			}
			// A buffer is no terminal: only the summary, unless forced.
			bar := strings.Contains(out.String(), "checking")
			summary := out.String()[strings.LastIndex(out.String(), "\r")+1:]
			if bar != force || !strings.HasPrefix(summary, "dry run: 500 rows: 500 valid, 0 rejected;") || strings.Count(summary, "\n") != 1 {
				t.Errorf("force=%v: output %q", force, out.String())
			}
		})
	}
}

// countingDeps records every call into storage.
type countingDeps struct {
	importer.Writer
	importer.Sequencer
	creates, reserves atomic.Int64
}

func (c *countingDeps) CreateMany(ctx context.Context, ts []*tickets.Ticket) ([]error, error) {
	c.creates.Add(1)
	return c.Writer.CreateMany(ctx, ts)
}

func (c *countingDeps) Reserve(ctx context.Context, name string, n int64) (int64, error) {
	c.reserves.Add(1)
	return c.Sequencer.Reserve(ctx, name, n)
}

func TestRunDryRunStoresNothing(t *testing.T) {
	c := estest.Client(t)
	b := newBackend(t, c, c)
	dir := copyTestdata(t, "zendesk.csv", "zendesk-mapping.yaml")
	cd := &countingDeps{Writer: b.deps.Writer, Sequencer: b.deps.Sequencer}
	deps := b.deps
	deps.Writer, deps.Sequencer = cd, cd
	sum, err := importer.Run(context.Background(), importer.RunConfig{
		MappingPath: filepath.Join(dir, "zendesk-mapping.yaml"),
		InputPath:   filepath.Join(dir, "zendesk.csv"),
		DryRun:      true,
	}, deps)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Valid != 3 || sum.Imported != 0 {
		t.Errorf("summary %+v", sum)
	}
	if cd.creates.Load() != 0 || cd.reserves.Load() != 0 {
		t.Errorf("dry run called storage: %d creates, %d reserves", cd.creates.Load(), cd.reserves.Load())
	}
	if docs, _ := b.counts(t); docs != 0 {
		t.Errorf("dry run stored %d tickets", docs)
	}
}

// dueIn is an SLA policy for tests: first response due an hour after
// creation.
type dueIn struct{}

func (dueIn) Apply(t *tickets.Ticket) {
	due := t.CreatedAt.Add(time.Hour)
	t.SLA.Policy, t.SLA.FirstResponseDue = "test", &due
}

func TestRunImportsIntoElasticsearch(t *testing.T) {
	c := estest.Client(t)
	b := newBackend(t, c, c)
	dir := copyTestdata(t, "zendesk.csv", "zendesk-mapping.yaml")
	deps := b.deps
	deps.SLA = dueIn{}
	cfg := importer.RunConfig{
		MappingPath: filepath.Join(dir, "zendesk-mapping.yaml"),
		InputPath:   filepath.Join(dir, "zendesk.csv"),
		Actor:       "migration",
	}
	sum, err := importer.Run(context.Background(), cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Imported != 3 || sum.Rejected != 2 || sum.AlreadyPresent != 0 {
		t.Fatalf("summary %+v", sum)
	}
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	t.Run("resolved", func(t *testing.T) {
		tk := b.get(t, importer.TicketID("zendesk", "1001"))
		created, resolved := at("2023-03-01T01:15:00Z"), at("2023-03-01T03:40:00Z")
		switch {
		case tk.ExternalID != "1001" || tk.Number < 1:
			t.Errorf("external id %q, number %d", tk.ExternalID, tk.Number)
		case tk.Status != tickets.StatusResolved || tk.ResolvedAt == nil || !tk.ResolvedAt.Equal(resolved) || tk.ClosedAt != nil:
			t.Errorf("status %s resolved %v closed %v", tk.Status, tk.ResolvedAt, tk.ClosedAt)
		case !tk.CreatedAt.Equal(created) || !tk.UpdatedAt.Equal(resolved) || !tk.StatusSince.Equal(resolved):
			t.Errorf("created %v updated %v status since %v", tk.CreatedAt, tk.UpdatedAt, tk.StatusSince)
		case tk.Channel != tickets.ChannelVoice || tk.Priority != tickets.PriorityHigh || !slices.Equal(tk.Tags, []string{"退款", "vip"}):
			t.Errorf("channel %s priority %s tags %q", tk.Channel, tk.Priority, tk.Tags)
		case tk.Category == nil || tk.Category.Label != "refund" || tk.Category.Source != tickets.SourceImport:
			t.Errorf("category %+v", tk.Category)
		case tk.CSAT == nil || tk.CSAT.Score != 5 || !tk.CSAT.At.Equal(resolved):
			t.Errorf("csat %+v", tk.CSAT)
		case tk.Metrics.ResolutionSeconds == nil || *tk.Metrics.ResolutionSeconds != resolved.Sub(created).Seconds():
			t.Errorf("resolution seconds %v", tk.Metrics.ResolutionSeconds)
		case tk.SLA.FirstResponseDue == nil || !tk.SLA.FirstResponseDue.Equal(created.Add(time.Hour)):
			t.Errorf("SLA %+v not computed from the legacy creation time", tk.SLA)
		}
		if len(tk.History) != 2 || tk.History[0].Action != "created" || !tk.History[0].At.Equal(created) ||
			tk.History[1].Action != "imported" || tk.History[1].Actor != "migration" || tk.History[1].Note != "zendesk" ||
			tk.History[1].To != "resolved" {
			t.Errorf("history %+v", tk.History)
		}
	})
	t.Run("closed without closed_at", func(t *testing.T) {
		tk := b.get(t, importer.TicketID("zendesk", "1002"))
		resolved := at("2023-03-03T02:05:00Z")
		if tk.Status != tickets.StatusClosed || tk.ClosedAt == nil || !tk.ClosedAt.Equal(resolved) || !tk.ResolvedAt.Equal(resolved) {
			t.Errorf("status %s resolved %v closed %v", tk.Status, tk.ResolvedAt, tk.ClosedAt)
		}
		if !strings.Contains(tk.Description, "\ntracking for order 99812") || tk.Subject != "Package not delivered, tracking stuck" {
			t.Errorf("subject %q description %q", tk.Subject, tk.Description)
		}
	})
	t.Run("open", func(t *testing.T) {
		tk := b.get(t, importer.TicketID("zendesk", "1003"))
		created := at("2023-03-05T00:30:00Z")
		if tk.Status != tickets.StatusOpen || tk.ResolvedAt != nil || !tk.StatusSince.Equal(created) || tk.Customer.Phone != "+86 139 1234 5678" {
			t.Errorf("%+v", tk)
		}
	})
	t.Run("re-run", func(t *testing.T) {
		sum, err := importer.Run(context.Background(), cfg, deps)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Imported != 0 || sum.AlreadyPresent != 3 || sum.Rejected != 2 {
			t.Errorf("summary %+v", sum)
		}
		if docs, distinct := b.counts(t); docs != 3 || distinct != 3 {
			t.Errorf("%d tickets, %d distinct external ids; want 3", docs, distinct)
		}
	})
}

// TestRunResumesAfterOutage is the reliability contract: Elasticsearch goes
// away in the middle of an import, the run stops with a resumable error,
// and re-running it after Elasticsearch is back completes the import with
// no ticket lost or duplicated.
func TestRunResumesAfterOutage(t *testing.T) {
	c := estest.Client(t)
	p := startProxy(t, estest.URL(t))
	pc, err := es.New(es.Config{URLs: []string{p.url()}, Prefix: c.Prefix(), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b := newBackend(t, c, pc)

	dir := t.TempDir()
	input := filepath.Join(dir, "tickets.csv")
	var data bytes.Buffer
	const n = 5000
	if err := importer.GenerateCSV(&data, n, 42); err != nil {
		t.Fatal(err)
	}
	// Three invalid rows, which must be rejected on both runs.
	data.WriteString("BAD-1,,no subject,web,Ann,,,,1,open,x,en,,g,a,2023-01-02 10:00:00,,\n")
	data.WriteString("BAD-2,Bad email,b,web,Ann,not-an-email,,,1,open,x,en,,g,a,2023-01-02 10:00:00,,\n")
	data.WriteString("ZD-0000007,Duplicate id,b,web,Ann,,,,1,open,x,en,,g,a,2023-01-02 10:00:00,,\n")
	if err := os.WriteFile(input, data.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cut := &cutAfter{Writer: b.deps.Writer, after: 3, cut: p.down}
	deps := b.deps
	deps.Writer = cut
	cfg := importer.RunConfig{
		MappingPath: "testdata/generated-mapping.yaml",
		InputPath:   input,
		BatchSize:   250,
		RetryFor:    time.Second,
	}

	first, err := importer.Run(context.Background(), cfg, deps)
	var ie *importer.IncompleteError
	if !errors.As(err, &ie) || !errors.Is(err, importer.ErrIncomplete) || !errors.Is(err, tickets.ErrUnavailable) {
		t.Fatalf("first run: %v; want an *IncompleteError wrapping ErrUnavailable", err)
	}
	if !strings.Contains(err.Error(), "re-running the same command is safe") || ie.Committed != first.Imported+first.AlreadyPresent {
		t.Errorf("first run error %q, committed %d, summary %+v", err, ie.Committed, first)
	}
	if first.Imported == 0 || first.Imported >= n {
		t.Fatalf("first run imported %d of %d; the outage should stop it part-way", first.Imported, n)
	}
	t.Logf("first run: %v", first)

	p.up(t)
	second, err := importer.Run(context.Background(), cfg, deps)
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	t.Logf("second run: %v", second)
	if second.AlreadyPresent < first.Imported || second.Imported+second.AlreadyPresent != n || second.Rejected != 3 {
		t.Errorf("second run %+v after first %+v; want every one of %d rows imported or already present", second, first, n)
	}
	if docs, distinct := b.counts(t); docs != n || distinct != n {
		t.Errorf("Elasticsearch holds %d tickets with %d distinct external ids; want %d of each", docs, distinct, n)
	}
}

// cutAfter calls cut once the given number of batches has been stored.
type cutAfter struct {
	importer.Writer
	after int64
	calls atomic.Int64
	cut   func()
}

func (w *cutAfter) CreateMany(ctx context.Context, ts []*tickets.Ticket) ([]error, error) {
	res, err := w.Writer.CreateMany(ctx, ts)
	if w.calls.Add(1) == w.after {
		w.cut()
	}
	return res, err
}

// proxy is a loopback TCP proxy to Elasticsearch that a test can take down
// (refusing and cutting every connection, as a stopped node does) and
// bring back on the same address.
type proxy struct {
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	p := &proxy{target: strings.TrimPrefix(strings.TrimPrefix(target, "http://"), "https://"), addr: "127.0.0.1:0", conns: map[net.Conn]struct{}{}}
	p.target = strings.TrimSuffix(p.target, "/")
	p.up(t)
	t.Cleanup(func() {
		p.down()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) url() string { return "http://" + p.addr }

func (p *proxy) up(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", p.target)
			if err != nil {
				in.Close()
				continue
			}
			if !p.track(in, out) {
				return
			}
			p.wg.Go(func() { pipe(in, out) })
			p.wg.Go(func() { pipe(out, in) })
		}
	})
}

// track registers a connection pair, or closes it if the proxy went down
// meanwhile.
func (p *proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}

func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// faultyWriter injects storage faults in front of the real store: fail
// decides, per call, whether the request fails and which items are
// answered as unavailable.
type faultyWriter struct {
	importer.Writer
	calls atomic.Int64
	fail  func(call int64) (request error, unavailable []int)
}

func (w *faultyWriter) CreateMany(ctx context.Context, ts []*tickets.Ticket) ([]error, error) {
	reqErr, items := w.fail(w.calls.Add(1))
	if reqErr != nil {
		return nil, reqErr
	}
	keep := make([]*tickets.Ticket, 0, len(ts))
	for i, t := range ts {
		if !slices.Contains(items, i) {
			keep = append(keep, t)
		}
	}
	res, err := w.Writer.CreateMany(ctx, keep)
	if err != nil {
		return nil, err
	}
	out := make([]error, len(ts))
	for i, k := 0, 0; i < len(ts); i++ {
		if slices.Contains(items, i) {
			out[i] = fmt.Errorf("item %d: %w", i, tickets.ErrUnavailable)
			continue
		}
		out[i] = res[k]
		k++
	}
	return out, nil
}

func TestRunRetries(t *testing.T) {
	outage := fmt.Errorf("connection refused: %w", tickets.ErrUnavailable)
	tests := []struct {
		name     string
		fail     func(call int64) (error, []int)
		wantErr  error // nil: the import completes
		imported int64
	}{
		{
			name: "a failed request is retried",
			fail: func(call int64) (error, []int) {
				if call == 1 {
					return outage, nil
				}
				return nil, nil
			},
			imported: 3,
		},
		{
			name: "items refused for overload are retried alone",
			fail: func(call int64) (error, []int) {
				if call <= 2 {
					return nil, []int{0}
				}
				return nil, nil
			},
			imported: 3,
		},
		{
			name:    "an error retrying cannot fix stops at once",
			fail:    func(int64) (error, []int) { return errors.New("400 mapper_parsing_exception"), nil },
			wantErr: importer.ErrIncomplete,
		},
		{
			name:    "a lasting outage stops after RetryFor",
			fail:    func(int64) (error, []int) { return outage, nil },
			wantErr: tickets.ErrUnavailable,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := estest.Client(t)
			b := newBackend(t, c, c)
			dir := copyTestdata(t, "zendesk.csv", "zendesk-mapping.yaml")
			deps := b.deps
			deps.Writer = &faultyWriter{Writer: b.deps.Writer, fail: tt.fail}
			start := time.Now()
			sum, err := importer.Run(context.Background(), importer.RunConfig{
				MappingPath: filepath.Join(dir, "zendesk-mapping.yaml"),
				InputPath:   filepath.Join(dir, "zendesk.csv"),
				RetryFor:    500 * time.Millisecond,
			}, deps)
			if tt.wantErr == nil {
				if err != nil || sum.Imported != tt.imported {
					t.Fatalf("Run: %v, %+v; want %d imported", err, sum, tt.imported)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || !errors.Is(err, importer.ErrIncomplete) {
				t.Fatalf("Run: %v; want %v", err, tt.wantErr)
			}
			if !errors.Is(err, tickets.ErrUnavailable) && time.Since(start) > 400*time.Millisecond {
				t.Errorf("a permanent error was retried for %v", time.Since(start))
			}
		})
	}
}

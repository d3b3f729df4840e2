package importer_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/importer"
)

// FuzzParseCSV feeds arbitrary bytes through the CSV reader and the
// generated mapping: it must not panic or hang, and every row must be
// either valid (a NewTicket that validates and builds) or rejected with
// at least one violation.
//
//	go test ./tickets/importer -run '^$' -fuzz FuzzParseCSV -fuzztime 1m
func FuzzParseCSV(f *testing.F) {
	var gen bytes.Buffer
	if err := importer.GenerateCSV(&gen, 5, 1); err != nil {
		f.Fatal(err)
	}
	f.Add(gen.Bytes())
	header, _, _ := bytes.Cut(gen.Bytes(), []byte("\n"))
	for _, rec := range []string{
		"",
		`ZD-1,"a,b","multi` + "\n" + `line",phone,王芳,a@example.com,+86 1,1,solved,refund,lang,"x;;y",g,a,2023-01-02 10:00:00,2023-01-01 10:00:00,6`,
		`ZD-2,bare "quote,b,web,n,e,p,i,9,closed,c,zh,t,g,a,2023-01-02 10:00:00,,`,
		"ZD-3,\xff\xfe,b,web,n,,,,1,open,\xff,zh,,,,2023-01-02 10:00:00,,",
		`ZD-4,"unterminated`,
		"ZD-5,too,few",
	} {
		f.Add(append(append(bytes.Clone(header), '\n'), rec...))
	}
	f.Add([]byte("\xef\xbb\xbf"))
	m, err := importer.LoadMapping("testdata/generated-mapping.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		readChecked(t, m, importer.FormatCSV, data)
	})
}

// FuzzParseJSONL is FuzzParseCSV for JSON lines and nested paths.
//
//	go test ./tickets/importer -run '^$' -fuzz FuzzParseJSONL -fuzztime 1m
func FuzzParseJSONL(f *testing.F) {
	example, err := os.ReadFile("testdata/helpdesk.jsonl")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	for _, line := range bytes.Split(example, []byte("\n")) {
		f.Add(line)
	}
	for _, s := range []string{
		`{"id": 1e400, "title": "x", "customer": {"id": [1, {"a": 2}]}}`,
		`{"id": "1", "title": "t", "customer": {"name": "n"}, "state": "done", "finished": -99999999999, "created": "2024-05-01T09:00:00Z"}`,
		`{"id": "2", "title": "t", "customer": {"name": "n"}, "state": "archived", "labels": "a", "rating": {"score": 4.5}}`,
		"\r\n\r\n{}\r\n[]\r\n\"s\"\r\nnull\r\n",
		`{"a":{"b":{"c":{"d":{"e":{}}}}}}`,
	} {
		f.Add([]byte(s))
	}
	m, err := importer.LoadMapping("testdata/helpdesk-mapping.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		readChecked(t, m, importer.FormatJSONL, data)
	})
}

// readChecked reads data to the end and checks every row.
func readChecked(t *testing.T, m *importer.Mapping, format string, data []byte) {
	rd, err := importer.NewReader(bytes.NewReader(data), m, format)
	if err != nil {
		if !errors.Is(err, importer.ErrInput) {
			t.Fatalf("NewReader: %v, want nil or ErrInput", err)
		}
		return
	}
	b := stubBuilder(t)
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	lastLine := 0
	lines := bytes.Count(data, []byte("\n")) + 1
	for i := 0; ; i++ {
		if i > lines {
			t.Fatalf("more rows (%d) than lines (%d): the reader is not making progress", i, lines)
		}
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			return // input unreadable beyond this point: Run stops with the error
		}
		if row.Line <= lastLine {
			t.Fatalf("row at line %d follows line %d", row.Line, lastLine)
		}
		lastLine = row.Line
		if !row.Valid() {
			for _, v := range row.Violations {
				if v.Field == "" || v.Message == "" {
					t.Fatalf("empty violation %+v", v)
				}
			}
			continue
		}
		if err := row.Ticket.Validate(); err != nil {
			t.Fatalf("valid row %d does not validate: %v", row.Line, err)
		}
		if row.ID == "" || row.SourceID == "" {
			t.Fatalf("valid row %d has no id", row.Line)
		}
		tk := importer.Build(b, nil, "fuzz", m.SourceSystem, row, 1, now)
		if !tk.Status.Valid() || tk.UpdatedAt.Before(tk.CreatedAt) || tk.ID != row.ID {
			t.Fatalf("built ticket is inconsistent: %+v", tk)
		}
		if (tk.Status == tickets.StatusResolved || tk.Status == tickets.StatusClosed) && tk.ResolvedAt == nil {
			t.Fatalf("%s ticket without resolved_at", tk.Status)
		}
	}
}

// stubBuilder is a real Service used only for Build, which touches no
// storage.
func stubBuilder(t testing.TB) importer.Builder {
	svc, err := tickets.New(tickets.DefaultConfig(), tickets.Deps{
		Store:     noStore{},
		Sequencer: noSequencer{},
		NewID:     func() string { return "id" },
		Now:       func() time.Time { return time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// noStore and noSequencer satisfy tickets.New for tests that only Build.
type noStore struct{ tickets.Store }

type noSequencer struct{}

func (noSequencer) Reserve(context.Context, string, int64) (int64, error) {
	return 0, errors.New("not for this test")
}

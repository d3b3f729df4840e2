package importer_test

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/tickets"
	"github.com/switchboard-cc/switchboard/tickets/importer"
)

const csvMapping = `
id: id
source_system: legacy
fields:
  subject: title
  description: body
  channel: {from: via, map: {phone: voice, web: chat}, default: email}
  customer.name: name
  customer.email: email
  status: {from: state, map: {solved: resolved, closed: closed, open: open}, default: new}
  created_at: {from: created, time_format: "2006-01-02 15:04:05", timezone: Asia/Shanghai}
  resolved_at: {from: solved, time_format: "2006-01-02 15:04:05", timezone: Asia/Shanghai}
  tags: {from: labels, split: ";"}
  csat.score: sat
`

const csvHeader = "id,title,body,via,name,email,state,created,solved,labels,sat\n"

// got is what a test expects of one row.
type got struct {
	line    int
	subject string
	fields  []string // violated fields; none means valid
}

func readAll(t *testing.T, mapping, format, input string) []*importer.Row {
	t.Helper()
	m, err := importer.ParseMapping([]byte(mapping))
	if err != nil {
		t.Fatalf("mapping: %v", err)
	}
	rd, err := importer.NewReader(strings.NewReader(input), m, format)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var rows []*importer.Row
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return rows
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		rows = append(rows, row)
	}
}

func check(t *testing.T, rows []*importer.Row, want []got) {
	t.Helper()
	if len(rows) != len(want) {
		for _, r := range rows {
			t.Logf("row %d: %q %v", r.Line, r.Ticket.Subject, r.Violations)
		}
		t.Fatalf("got %d rows, want %d", len(rows), len(want))
	}
	for i, w := range want {
		r := rows[i]
		var fields []string
		for _, v := range r.Violations {
			fields = append(fields, v.Field)
		}
		if r.Line != w.line || !slices.Equal(fields, w.fields) || (r.Valid() && r.Ticket.Subject != w.subject) {
			t.Errorf("row %d: line %d, subject %q, violations %v; want line %d, subject %q, violated %v",
				i, r.Line, r.Ticket.Subject, r.Violations, w.line, w.subject, w.fields)
		}
		if r.Valid() {
			if err := r.Ticket.Validate(); err != nil {
				t.Errorf("row %d is valid but its ticket is not: %v", i, err)
			}
			if r.ID != importer.TicketID("legacy", r.SourceID) || r.Ticket.ExternalID != r.SourceID {
				t.Errorf("row %d: id %q external %q for source id %q", i, r.ID, r.Ticket.ExternalID, r.SourceID)
			}
		}
	}
}

func TestReadCSV(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []got
	}{
		{
			name: "quoted commas, quotes and line breaks",
			input: csvHeader +
				`1,"Refund, please","Hi,` + "\n" + `my ""order"" is late",web,John,john@example.com,solved,2023-01-02 10:00:00,2023-01-02 12:00:00,a;b,5` + "\n" +
				`2,Second,,phone,Mary,,open,2023-01-03 10:00:00,,,` + "\n",
			want: []got{{line: 2, subject: "Refund, please"}, {line: 4, subject: "Second"}},
		},
		{
			name:  "Chinese text",
			input: csvHeader + "7,退款还没到账,订单 482913 的退款一周了还没到账，请帮忙查一下。,phone,王芳,,solved,2023-03-01 09:15:00,2023-03-01 11:40:00,退款;vip,4\n",
			want:  []got{{line: 2, subject: "退款还没到账"}},
		},
		{
			name:  "byte order mark",
			input: "\xef\xbb\xbf" + csvHeader + "1,With BOM,,web,Ann,,new,2023-01-02 10:00:00,,,\n",
			want:  []got{{line: 2, subject: "With BOM"}},
		},
		{
			name: "CRLF line ends",
			input: strings.ReplaceAll(csvHeader+"1,First,,web,Ann,,new,2023-01-02 10:00:00,,,\n"+
				"2,Second,\"two\nlines\",web,Bob,,new,2023-01-02 10:00:00,,,\n3,Third,,web,Cy,,new,2023-01-02 10:00:00,,,\n", "\n", "\r\n"),
			want: []got{{line: 2, subject: "First"}, {line: 3, subject: "Second"}, {line: 5, subject: "Third"}},
		},
		{
			name: "wrong field count, bare quote, then a good row",
			input: csvHeader + "1,Too few,web\n" +
				`2,Bare "quote,,web,Ann,,new,2023-01-02 10:00:00,,,` + "\n" +
				"3,Fine,,web,Ann,,new,2023-01-02 10:00:00,,,\n",
			want: []got{{line: 2, fields: []string{"record"}}, {line: 3, fields: []string{"record"}}, {line: 4, subject: "Fine"}},
		},
		{
			name: "every violation of a row is reported",
			input: csvHeader +
				"1,,,fax,,not-an-email,escalated,2023-01-02 10:00:00,2023-01-01 10:00:00,,9\n",
			// fax and escalated are not in the maps, so they become the defaults.
			want: []got{{line: 2, fields: []string{"csat.score", "subject", "customer.email", "resolved_at"}}},
		},
		{
			name: "bad times",
			input: csvHeader +
				"1,Bad created,,web,Ann,,new,02/01/2023,,,\n" +
				"2,No created,,web,Ann,,new,,,,\n" +
				"3,Ok,,web,Ann,,new,2023-01-02 10:00:00,,,\n",
			want: []got{{line: 2, fields: []string{"created_at"}}, {line: 3, fields: []string{"created_at"}}, {line: 4, subject: "Ok"}},
		},
		{
			name: "missing and duplicate legacy ids",
			input: csvHeader +
				"1,First,,web,Ann,,new,2023-01-02 10:00:00,,,\n" +
				",No id,,web,Ann,,new,2023-01-02 10:00:00,,,\n" +
				"1,Again,,web,Ann,,new,2023-01-02 10:00:00,,,\n",
			want: []got{{line: 2, subject: "First"}, {line: 3, fields: []string{"id"}}, {line: 4, fields: []string{"id"}}},
		},
		{
			name:  "header only",
			input: csvHeader,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, readAll(t, csvMapping, "csv", tt.input), tt.want)
		})
	}
}

func TestReadCSVMapsValues(t *testing.T) {
	rows := readAll(t, csvMapping, "csv", csvHeader+
		`42,Refund,"body, with comma",Phone,王芳,wf@example.com,Solved,2023-03-01 09:15:00,2023-03-01 11:40:00, 退款 ;;vip ,4`+"\n")
	check(t, rows, []got{{line: 2, subject: "Refund"}})
	r := rows[0]
	shanghai := time.FixedZone("CST", 8*3600)
	if r.Ticket.Channel != tickets.ChannelVoice {
		t.Errorf("channel %q, want voice (case-insensitive map)", r.Ticket.Channel)
	}
	if r.Extras.Status != tickets.StatusResolved {
		t.Errorf("status %q, want resolved", r.Extras.Status)
	}
	if want := time.Date(2023, 3, 1, 9, 15, 0, 0, shanghai); !r.Extras.CreatedAt.Equal(want) {
		t.Errorf("created %v, want %v", r.Extras.CreatedAt, want)
	}
	if want := time.Date(2023, 3, 1, 11, 40, 0, 0, shanghai); r.Extras.ResolvedAt == nil || !r.Extras.ResolvedAt.Equal(want) {
		t.Errorf("resolved %v, want %v", r.Extras.ResolvedAt, want)
	}
	if !slices.Equal(r.Ticket.Tags, []string{"退款", "vip"}) {
		t.Errorf("tags %q", r.Ticket.Tags)
	}
	if r.Extras.CSAT == nil || r.Extras.CSAT.Score != 4 {
		t.Errorf("csat %+v", r.Extras.CSAT)
	}
	if r.Ticket.Description != "body, with comma" || r.Ticket.Customer.Name != "王芳" || r.SourceID != "42" {
		t.Errorf("ticket %+v", r.Ticket)
	}
}

func TestNewReaderErrors(t *testing.T) {
	tests := []struct {
		name, mapping, format, input string
		want                         error
		msg                          string
	}{
		{name: "empty file", mapping: csvMapping, format: "csv", input: "", want: importer.ErrInput, msg: "header record was expected"},
		{name: "missing column", mapping: csvMapping, format: "csv", input: "id,title,body\n", want: importer.ErrInput, msg: `"created"`},
		{name: "bad format", mapping: csvMapping, format: "xml", want: importer.ErrMapping, msg: "xml"},
		{name: "invalid mapping", mapping: "id: x\n", format: "csv", want: importer.ErrMapping, msg: "source_system"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m importer.Mapping
			if err := yamlInto(tt.mapping, &m); err != nil {
				t.Fatal(err)
			}
			_, err := importer.NewReader(strings.NewReader(tt.input), &m, tt.format)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("NewReader: %v; want %v with %q", err, tt.want, tt.msg)
			}
		})
	}
}

func TestReadCSVWithoutHeader(t *testing.T) {
	const mapping = `
id: a
source_system: legacy
csv: {header: false, columns: [a, b, c], delimiter: "\t"}
fields:
  subject: b
  customer.phone: c
  channel: {default: voice}
`
	rows := readAll(t, mapping, "csv", "1\tHello, world\t+86 138 0000 0000\n2\tBad phone\tcall me\n")
	check(t, rows, []got{{line: 1, subject: "Hello, world"}, {line: 2, fields: []string{"customer.phone"}}})
}

func TestReadCSVRunawayQuote(t *testing.T) {
	m, err := importer.ParseMapping([]byte(csvMapping))
	if err != nil {
		t.Fatal(err)
	}
	input := csvHeader + `1,"never closed,` + strings.Repeat("x", importer.MaxRecordBytes+100<<10)
	rd, err := importer.NewReader(strings.NewReader(input), m, "csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rd.Next(); !errors.Is(err, importer.ErrInput) {
		t.Fatalf("Next: %v, want ErrInput", err)
	}
}

const jsonlMapping = `
id: id
source_system: legacy
fields:
  subject: title
  description: content.text
  channel: {from: source, map: {call: voice, im: chat}, default: email}
  customer.id: customer.id
  customer.email: customer.contact.email
  status: {from: state, map: {done: resolved}}
  created_at: created
  resolved_at: {from: finished, time_format: unix}
  tags: labels
  csat.score: rating.score
  csat.comment: rating.comment
`

func TestReadJSONL(t *testing.T) {
	long := `{"id": 9, "title": "` + strings.Repeat("长", importer.MaxLineBytes/3+1) + `"}`
	tests := []struct {
		name  string
		input string
		want  []got
	}{
		{
			name: "nested paths, numbers and arrays",
			input: `{"id": 1, "title": "订单没收到", "content": {"text": "快递显示已签收"}, "source": "call", "customer": {"id": "C-1", "contact": {"email": "a@example.com"}}, "state": "done", "labels": ["物流", "vip"], "created": "2024-05-01T09:00:00+08:00", "finished": 1714550400, "rating": {"score": 4, "comment": "快"}}` + "\n" +
				`{"id": "2", "title": "Second", "customer": {"id": 77}, "state": "done", "created": "2024-05-01T09:00:00Z"}` + "\n",
			want: []got{{line: 1, subject: "订单没收到"}, {line: 2, subject: "Second"}},
		},
		{
			name: "invalid JSON lines are rows, blank lines are skipped",
			input: `{"id": 1, "title": "ok", "customer": {"id": "c"}, "state": "done", "created": "2024-05-01T09:00:00Z"}` + "\n" +
				`{"id": 2, "title": ` + "\n" +
				"\n" +
				`[1, 2]` + "\n" +
				`null` + "\n" +
				`{"id": 3} {"id": 4}` + "\n" +
				`{"id": 5, "title": "ok too", "customer": {"id": "c"}, "state": "done", "created": "2024-05-01T09:00:00Z"}`,
			want: []got{{line: 1, subject: "ok"}, {line: 2, fields: []string{"record"}}, {line: 4, fields: []string{"record"}},
				{line: 5, fields: []string{"record"}}, {line: 6, fields: []string{"record"}}, {line: 7, subject: "ok too"}},
		},
		{
			name: "over-long line is a row, and reading goes on",
			input: long + "\n" +
				`{"id": 1, "title": "after", "customer": {"id": "c"}, "state": "done", "created": "2024-05-01T09:00:00Z"}` + "\r\n" +
				long,
			want: []got{{line: 1, fields: []string{"record"}}, {line: 2, subject: "after"}, {line: 3, fields: []string{"record"}}},
		},
		{
			name: "wrong types and missing values",
			input: `{"id": {"x": 1}, "title": ["a"], "customer": {"id": "c"}, "state": "archived", "created": "yesterday", "rating": {"comment": "no score"}}` + "\n" +
				`{"title": "no id", "customer": {"id": "c"}, "state": "done", "created": "2024-05-01T09:00:00Z", "finished": 1}` + "\n",
			want: []got{
				{line: 1, fields: []string{"id", "created_at", "subject", "subject", "status", "csat.comment"}},
				{line: 2, fields: []string{"id", "resolved_at"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, readAll(t, jsonlMapping, "jsonl", tt.input), tt.want)
		})
	}
}

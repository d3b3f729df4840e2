package importer_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchboard-cc/switchboard/tickets/importer"
)

// minimal is a valid mapping that the cases below break one way at a time.
const minimal = `
id: ticket_id
source_system: zendesk
fields:
  subject: title
  channel: {default: email}
  customer.name: name
`

func TestParseMapping(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // substrings of the error; none means valid
	}{
		{name: "minimal", yaml: minimal},
		{name: "full", yaml: minimal + `
  description: body
  priority: {from: prio, map: {"1": urgent, "2": high}, default: normal}
  status: {from: state, map: {solved: resolved, closed: closed}}
  created_at: {from: created, time_format: "2006-01-02 15:04:05", timezone: Asia/Shanghai}
  resolved_at: {from: solved, time_format: unix_ms}
  closed_at: closed
  tags: {from: labels, split: ";"}
  csat.score: sat
`},
		{name: "empty", yaml: ``, want: []string{"the mapping is empty"}},
		{name: "missing id", yaml: strings.Replace(minimal, "id: ticket_id", "", 1),
			want: []string{"id: required"}},
		{name: "missing source system", yaml: strings.Replace(minimal, "source_system: zendesk", "", 1),
			want: []string{"source_system: required"}},
		{name: "unknown top-level key", yaml: minimal + "batch: 10\n",
			want: []string{"field batch not found"}},
		{name: "unknown key in a field", yaml: minimal + "  language: {from: lang, fallback: zh}\n",
			want: []string{"field fallback not found", "keys: from, map"}},
		{name: "unknown target field", yaml: minimal + "  customer.vip: vip\n",
			want: []string{"fields.customer.vip: unknown target field"}},
		{name: "unknown status in map", yaml: minimal + "  status: {from: state, map: {solved: done, open: open}}\n",
			want: []string{`fields.status.map: "solved" → "done": unknown status`}},
		{name: "unknown priority default", yaml: minimal + "  priority: {from: p, default: critical}\n",
			want: []string{`fields.priority.default: unknown priority "critical"`}},
		{name: "unknown channel in map", yaml: strings.Replace(minimal, "channel: {default: email}", "channel: {from: via, map: {fax: fax}}", 1),
			want: []string{`fields.channel.map: "fax" → "fax": unknown channel`}},
		{name: "strftime time format", yaml: minimal + "  created_at: {from: c, time_format: \"%Y-%m-%d\"}\n",
			want: []string{"fields.created_at.time_format", "strftime"}},
		{name: "time format without a date", yaml: minimal + "  created_at: {from: c, time_format: \"15:04\"}\n",
			want: []string{"fields.created_at.time_format", "not a Go time layout"}},
		{name: "unknown time zone", yaml: minimal + "  created_at: {from: c, timezone: Mars/Olympus}\n",
			want: []string{`fields.created_at.timezone: unknown time zone "Mars/Olympus"`}},
		{name: "time format on a text field", yaml: minimal + "  language: {from: l, time_format: unix}\n",
			want: []string{"fields.language: time_format and timezone are for"}},
		{name: "split on a text field", yaml: minimal + "  assignee: {from: a, split: \",\"}\n",
			want: []string{"fields.assignee.split: only tags"}},
		{name: "no source and no default", yaml: minimal + "  assignee: {map: {a: b}}\n",
			want: []string{"fields.assignee: needs from"}},
		{name: "bad csat default", yaml: minimal + "  csat.score: {from: s, default: \"9\"}\n",
			want: []string{"fields.csat.score.default"}},
		{name: "bad format", yaml: minimal + "format: xml\n", want: []string{`format: "xml"`}},
		{name: "bad delimiter", yaml: minimal + "csv: {delimiter: \";;\"}\n", want: []string{"csv.delimiter"}},
		{name: "no header without columns", yaml: minimal + "csv: {header: false}\n", want: []string{"csv.columns: required"}},
		{name: "no subject, channel or customer", yaml: "id: x\nsource_system: s\nfields:\n  language: lang\n",
			want: []string{"fields.subject: required", "fields.channel: required", "at least one of customer.id"}},
		{name: "every problem at once", yaml: "fields:\n  subject: s\n  channel: c\n  customer.id: c\n  status: {from: s, default: done}\n",
			want: []string{"id: required", "source_system: required", "fields.status.default"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := importer.ParseMapping([]byte(tt.yaml))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("ParseMapping: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseMapping succeeded, want an error with %q", tt.want)
			}
			if !errors.Is(err, importer.ErrMapping) {
				t.Errorf("error %v does not wrap ErrMapping", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestLoadMappingTestdata(t *testing.T) {
	for _, f := range []string{"generated-mapping.yaml", "zendesk-mapping.yaml", "helpdesk-mapping.yaml"} {
		if _, err := importer.LoadMapping("testdata/" + f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

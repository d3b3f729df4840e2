package logs

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/es/eslog"
	"github.com/switchboard-cc/switchboard/es/estest"
)

type minerFunc func(string) (string, string)

func (f minerFunc) Mine(m string) (string, string) { return f(m) }

func TestIngest(t *testing.T) {
	c := estest.Client(t)
	ctx := context.Background()
	if err := eslog.New(c, eslog.Config{Service: "test"}).Setup(ctx); err != nil {
		t.Fatal(err)
	}
	miner := minerFunc(func(m string) (string, string) {
		if strings.HasPrefix(m, "upstream timeout") {
			return "T1", "upstream timeout after <*>"
		}
		return "T0", m
	})
	in := New(c, miner, Config{MaxLine: 1 << 20, BatchLines: 3})
	now := time.Now().UTC()
	in.now = func() time.Time { return now }
	ts := now.Add(-time.Minute).Format(time.RFC3339)
	input := strings.Join([]string{
		fmt.Sprintf(`{"@timestamp":%q,"message":"upstream timeout after 3000ms","log.level":"error","service.name":"payment-gw"}`, ts),
		fmt.Sprintf(`{"@timestamp":%q,"message":"order created","log":{"level":"info"},"service":{"name":"checkout"},"host":{"name":"web-1"}}`, ts),
		`{"message":"no timestamp: now is used"}`,
		`this is not json`,
		`{"@timestamp":"2026-13-45","message":"bad time"}`,
		fmt.Sprintf(`{"@timestamp":%q,"message":"from the future"}`, now.Add(24*time.Hour).Format(time.RFC3339)),
		`{"@timestamp":` + fmt.Sprint(now.Add(-time.Hour).UnixMilli()) + `,"message":"epoch millis"}`,
		`{"message":""}`,
		"",
		`{"message":"` + strings.Repeat("x", 2<<20) + `"}`,
		"{\"message\":\"bad utf-8 \xff\xfe here\",\"service.name\":\"search\"}",
		`{"message":"last line without newline"}`,
	}, "\n")
	res, err := in.Ingest(ctx, strings.NewReader(input), Defaults{Service: "shipper-default"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{ReasonNotJSON: 1, ReasonBadTime: 1, ReasonFuture: 1, ReasonNoMessage: 1, ReasonTooLong: 1}
	if res.Accepted != 6 || res.Rejected != 5 || res.Repaired != 1 {
		t.Errorf("result %+v, want 6 accepted, 5 rejected, 1 repaired", res)
	}
	for k, v := range want {
		if res.Reasons[k] != v {
			t.Errorf("reason %s: %d, want %d (%+v)", k, res.Reasons[k], v, res.Reasons)
		}
	}
	if err := c.Refresh(ctx, c.Name("logs")+"-*"); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Hits struct {
			Hits []struct {
				Source doc `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := c.Do(ctx, http.MethodPost, "/"+c.Name("logs")+"/_search", map[string]any{"size": 20}, &out); err != nil {
		t.Fatal(err)
	}
	got := map[string]doc{}
	for _, h := range out.Hits.Hits {
		got[h.Source.Message[:min(len(h.Source.Message), 16)]] = h.Source
	}
	if len(got) != 6 {
		t.Fatalf("%d stored, want 6: %v", len(got), got)
	}
	pay := got["upstream timeout"]
	if pay.TemplateID != "T1" || pay.Service == nil || pay.Service.Name != "payment-gw" || pay.Log == nil || pay.Log.Level != "ERROR" {
		t.Errorf("stored %+v", pay)
	}
	if d := got["order created"]; d.Host == nil || d.Host.Name != "web-1" || d.Service.Name != "checkout" {
		t.Errorf("nested ECS fields: %+v", d)
	}
	if d := got["no timestamp: no"]; d.Service == nil || d.Service.Name != "shipper-default" {
		t.Errorf("defaults not applied: %+v", d)
	}
	if d := got["bad utf-8 \ufffd he"]; d.Message != "bad utf-8 \ufffd here" || d.Service.Name != "search" {
		t.Errorf("repaired line: %+v", d)
	}
}

func TestReadLine(t *testing.T) {
	in := strings.NewReader("short\n" + strings.Repeat("y", 300) + "\nnext\nend")
	br := newReader(in)
	var got []string
	for {
		l, long, err := readLine(br, 100)
		switch {
		case long:
			got = append(got, "LONG")
		case l != nil:
			got = append(got, string(l))
		}
		if err != nil {
			break
		}
	}
	if strings.Join(got, ",") != "short,LONG,next,end" {
		t.Errorf("lines %q", got)
	}
}

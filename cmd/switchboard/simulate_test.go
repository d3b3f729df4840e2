package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-cc/switchboard/aiops/alert"
	"github.com/switchboard-cc/switchboard/es/estest"
	"github.com/switchboard-cc/switchboard/nlu/ort/orttest"
)

// TestSimulateOutage runs `switchboard simulate` against the test cluster:
// two days of traffic with the payment-gateway outage on the second. A
// volume anomaly must be alerted within 10 simulated minutes of the start,
// an incident must name the gateway's log template as its top cause, the
// webhook receiver (a third-party system) must get those alerts with their
// evidence, nothing else may fire, and the logs and alerts must be in
// Elasticsearch.
func TestSimulateOutage(t *testing.T) {
	esURL := estest.URL(t)
	prefix := estest.Prefix(t)
	c := mustClient(t, esURL, prefix)
	t.Cleanup(func() { estest.Cleanup(t, c) })

	var mu sync.Mutex
	var got []alert.Notification
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var n alert.Notification
		if json.Unmarshal(b, &n) == nil {
			mu.Lock()
			got = append(got, n)
			mu.Unlock()
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()

	out := &syncBuffer{}
	code := run(context.Background(), []string{"simulate", "--days", "2", "--outage-day", "2", "--store", "--json",
		"--es-url", esURL, "--index-prefix", prefix, "--webhook", rcv.URL,
		"--models-dir", shippedModels, "--onnxruntime-lib", orttest.Library(t)}, nil, out, io.Discard)
	if code != 0 {
		t.Fatalf("simulate exited %d:\n%s", code, out)
	}
	var rep simReport
	if err := json.Unmarshal([]byte(out.String()), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	if !rep.Embeddings {
		t.Error("tickets were not embedded: the clustering measured is not the production one")
	}
	// Chinese tickets get no vector from the English encoder and cluster
	// on terms; every outage ticket, in either language, must be in an
	// incident.
	if rep.OutageRecall < 0.99 {
		t.Errorf("%.0f%% of the outage's tickets in an incident, want all", 100*rep.OutageRecall)
	}
	if rep.FirstAnomaly == nil || *rep.FirstAnomaly > 10 {
		t.Errorf("first anomaly alert at %v minutes from the outage's start, want within 10", rep.FirstAnomaly)
	}
	if rep.FirstIncident == nil || !strings.HasPrefix(rep.TopCause, "payment-gw/") {
		t.Errorf("incident at %v minutes, top cause %q; want one caused by payment-gw", rep.FirstIncident, rep.TopCause)
	}
	if rep.FalseAlarms != 0 {
		t.Errorf("%d false alarms: %+v", rep.FalseAlarms, rep.Alerts)
	}
	mu.Lock()
	var incident *alert.Alert
	for i, n := range got {
		if n.Alert.Source == alert.SourceIncident {
			incident = &got[i].Alert
		}
	}
	mu.Unlock()
	if incident == nil || incident.Evidence == nil || len(incident.Evidence.Candidates) == 0 ||
		!strings.HasPrefix(incident.Evidence.Candidates[0].Value, "payment-gw/") || len(incident.Evidence.Samples) == 0 {
		t.Errorf("webhook got %d notifications; incident %+v: want the gateway as the top candidate with sample lines", len(got), incident)
	}
	for _, idx := range []string{c.Name("logs") + "-*", c.Name("alerts"), c.Name("incidents")} {
		if err := c.Refresh(context.Background(), idx); err != nil {
			t.Fatal(err)
		}
		var cnt struct {
			Count int `json:"count"`
		}
		if err := c.Do(context.Background(), http.MethodGet, "/"+idx+"/_count", nil, &cnt); err != nil {
			t.Fatal(err)
		}
		want := map[string]int{c.Name("logs") + "-*": rep.Logs, c.Name("alerts"): len(rep.Alerts), c.Name("incidents"): rep.Incidents}[idx]
		if cnt.Count != want {
			t.Errorf("%s holds %d documents, want %d", idx, cnt.Count, want)
		}
	}
	t.Logf("anomaly %+.1f min, incident %+.1f min, ARI %.3f, NMI %.3f, outage tickets in an incident %.0f%%",
		*rep.FirstAnomaly, *rep.FirstIncident, rep.ClusterARI, rep.ClusterNMI, 100*rep.OutageRecall)
}

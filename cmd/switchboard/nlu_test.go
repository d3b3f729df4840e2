package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/es/estest"
	"github.com/switchboard-cc/switchboard/nlu/ort/orttest"
)

// shippedModels is the repository's models directory: the tests run the
// models the product ships, not stand-ins.
var shippedModels = filepath.Join("..", "..", "models")

// TestServeWithShippedModels runs `switchboard serve` on the shipped models
// and checks what an agent and an integration see: tickets classified,
// scored and embedded on creation; an angry customer raised and tagged;
// the evidence behind a classification (similar labelled tickets); an
// agent's correction counted in the online accuracy; and the NLU endpoints.
func TestServeWithShippedModels(t *testing.T) {
	lib := orttest.Library(t)
	if _, err := os.Stat(filepath.Join(shippedModels, "manifest.json")); err != nil {
		t.Fatalf("no shipped models (run make models): %v", err)
	}
	esURL := estest.URL(t)
	prefix := estest.Prefix(t)
	t.Cleanup(func() { estest.Cleanup(t, mustClient(t, esURL, prefix)) })

	addr := freeAddr(t)
	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"serve", "--es-url", esURL, "--index-prefix", prefix, "--addr", addr,
			"--log-level", "warn", "--models-dir", shippedModels, "--onnxruntime-lib", lib}, nil, out, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d:\n%s", code, out)
		}
	})
	deadline := time.Now().Add(90 * time.Second)
	for !strings.Contains(out.String(), "Switchboard is running") {
		if time.Now().After(deadline) {
			t.Fatalf("server did not start; output:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	base := "http://" + addr
	waitHTTP(t, base+"/readyz")
	m := regexp.MustCompile(`client_secret: (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no admin secret:\n%s", out)
	}
	tok := token(t, base, "admin", m[1])

	type ticket struct {
		ID       string   `json:"id"`
		Priority string   `json:"priority"`
		Tags     []string `json:"tags"`
		Category *struct {
			Label        string  `json:"label"`
			Confidence   float64 `json:"confidence"`
			Source       string  `json:"source"`
			ModelVersion string  `json:"model_version"`
			Alternatives []struct {
				Label string  `json:"label"`
				Score float64 `json:"score"`
			} `json:"alternatives"`
			ModelCorrect *bool `json:"model_correct"`
		} `json:"category"`
		Sentiment *struct {
			Label          string `json:"label"`
			EscalationRisk bool   `json:"escalation_risk"`
		} `json:"sentiment"`
		EmbeddingModel string `json:"embedding_model"`
		Embedding      any    `json:"embedding"`
	}
	create := func(subject, description string, extra string) ticket {
		t.Helper()
		body := fmt.Sprintf(`{"channel":"email","customer":{"email":"c@example.com"},"subject":%q,"description":%q%s}`, subject, description, extra)
		res := do(t, http.MethodPost, base+"/api/v1/tickets", tok, body)
		if res.status != http.StatusCreated {
			t.Fatalf("create: %d %s", res.status, res.body)
		}
		var tk ticket
		mustJSON(t, res.body, &tk)
		return tk
	}

	// Clear requests in both languages land in their category.
	tests := []struct {
		subject, description, want string
	}{
		{"我的包裹三天了还没到", "快递单号查不到物流信息，什么时候能送到？", "logistics"},
		{"Parcel still not delivered", "My order was supposed to arrive last week and tracking has not moved since.", "logistics"},
		{"申请退货退款", "收到的衣服尺码不对，想退货，钱什么时候退回来？", "returns_refunds"},
		{"Can't log in to my account", "I reset my password twice but the app still says the login failed.", "account_login"},
	}
	var first ticket
	for i, tc := range tests {
		tk := create(tc.subject, tc.description, "")
		if tk.Category == nil || tk.Category.Label != tc.want {
			t.Errorf("%q: category %+v, want %s", tc.subject, tk.Category, tc.want)
			continue
		}
		c := tk.Category
		if c.Source != "auto" && c.Source != "needs_review" || c.ModelVersion == "" || len(c.Alternatives) == 0 || c.Alternatives[0].Label != c.Label {
			t.Errorf("%q: category %+v: want a model's answer with alternatives, the winner first", tc.subject, c)
		}
		if tk.Sentiment == nil || tk.EmbeddingModel == "" || tk.Embedding != nil {
			t.Errorf("%q: sentiment %+v, embedding model %q, embedding in JSON %v", tc.subject, tk.Sentiment, tk.EmbeddingModel, tk.Embedding != nil)
		}
		if i == 0 {
			first = tk
		}
	}

	// An abusive customer is flagged: escalation risk, one priority up.
	angry := create("This is the third time I am calling, absolutely unacceptable!!!",
		"Your useless service lost my order again. I am furious, fix it now or I will report you and never buy here again!", `,"priority":"normal"`)
	if angry.Sentiment == nil || angry.Sentiment.Label != "negative" || !angry.Sentiment.EscalationRisk {
		t.Errorf("angry customer: sentiment %+v, want negative with escalation risk", angry.Sentiment)
	} else if angry.Priority != "high" || !strings.Contains(strings.Join(angry.Tags, ","), "escalation-risk") {
		t.Errorf("angry customer: priority %s tags %v, want high and escalation-risk", angry.Priority, angry.Tags)
	}

	// An agent's correction becomes a label, and the online accuracy
	// counts it; the labelled ticket is then evidence for similar ones.
	if r := do(t, http.MethodPatch, base+"/api/v1/tickets/"+first.ID, tok, `{"category":{"label":"complaint"}}`); r.status != http.StatusOK {
		t.Fatalf("patch category: %d %s", r.status, r.body)
	}
	var patched ticket
	mustJSON(t, do(t, http.MethodGet, base+"/api/v1/tickets/"+first.ID, tok, "").body, &patched)
	if patched.Category == nil || patched.Category.Source != "agent" || patched.Category.ModelCorrect == nil || *patched.Category.ModelCorrect {
		t.Fatalf("after the agent's correction: %+v, want source agent, model_correct false", patched.Category)
	}
	time.Sleep(1100 * time.Millisecond) // the store does not wait for refreshes
	from := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	to := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	var stats struct {
		CategoryModel struct {
			Labelled int64   `json:"labelled"`
			Accuracy float64 `json:"accuracy"`
		} `json:"category_model"`
	}
	mustJSON(t, do(t, http.MethodGet, base+"/api/v1/stats?from="+from+"&to="+to, tok, "").body, &stats)
	if stats.CategoryModel.Labelled != 1 || stats.CategoryModel.Accuracy != 0 {
		t.Errorf("category_model %+v, want 1 labelled, accuracy 0", stats.CategoryModel)
	}
	var similar struct {
		Similar []struct {
			TicketID string  `json:"ticket_id"`
			Score    float64 `json:"score"`
		} `json:"similar"`
	}
	res := do(t, http.MethodGet, base+"/api/v1/tickets/"+first.ID+"/similar?k=3", tok, "")
	mustJSON(t, res.body, &similar)
	if res.status != http.StatusOK || len(similar.Similar) == 0 || similar.Similar[0].TicketID == first.ID {
		t.Errorf("similar: %d %s", res.status, res.body)
	}
	res = do(t, http.MethodPost, base+"/api/v1/nlu/classify", tok, `{"text":"where is my parcel, it has not arrived"}`)
	var cls struct {
		Label     string `json:"label"`
		Neighbors []struct {
			TicketID string `json:"ticket_id"`
			Source   string `json:"source"`
		} `json:"neighbors"`
	}
	mustJSON(t, res.body, &cls)
	if res.status != http.StatusOK || cls.Label != "logistics" || len(cls.Neighbors) != 1 || cls.Neighbors[0].TicketID != first.ID {
		t.Errorf("classify with evidence: %d %s; want logistics and the one agent-labelled ticket", res.status, res.body)
	}

	// Imported history is embedded as it is imported, so its labels back
	// the classifications of new tickets.
	in := filepath.Join(t.TempDir(), "history.jsonl")
	hist := `{"id":"h1","customer":"Li Na","subject":"Refund not received","description":"I returned the blender two weeks ago and the refund has still not reached my card.","category":"returns_refunds","created_at":"2026-10-01T09:00:00Z"}
{"id":"h2","customer":"王芳","subject":"退款一直没到账","description":"退货已经签收了，钱还没退回来","category":"returns_refunds","created_at":"2026-10-02T09:00:00Z"}
`
	if err := os.WriteFile(in, []byte(hist), 0o600); err != nil {
		t.Fatal(err)
	}
	var importOut strings.Builder
	if code := run(context.Background(), []string{"import", "--es-url", esURL, "--index-prefix", prefix, "--quiet",
		"--mapping", filepath.Join("..", "..", "deploy", "demo", "labelled-mapping.yaml"),
		"--models-dir", shippedModels, "--onnxruntime-lib", lib, in}, nil, &importOut, io.Discard); code != 0 || !strings.Contains(importOut.String(), "2 imported") {
		t.Fatalf("import exited %d: %s", code, importOut.String())
	}
	time.Sleep(1100 * time.Millisecond)
	res = do(t, http.MethodPost, base+"/api/v1/nlu/classify", tok, `{"text":"my refund for the returned item has not arrived yet"}`)
	mustJSON(t, res.body, &cls)
	imported := 0
	for _, n := range cls.Neighbors {
		if n.Source == "import" {
			imported++
		}
	}
	if res.status != http.StatusOK || imported == 0 {
		t.Errorf("classify after importing labelled history: %d %s; want imported tickets among the neighbors", res.status, res.body)
	}

	// The NLU endpoints, including bad input.
	for _, tc := range []struct {
		path, body string
		want       int
	}{
		{"/api/v1/nlu/intent", `{"text":"i want to talk to a real person"}`, http.StatusOK},
		{"/api/v1/nlu/intent", `{"text":"what's the weather like in paris tomorrow"}`, http.StatusOK},
		{"/api/v1/nlu/sentiment", `{"text":"谢谢，问题解决了，服务很好"}`, http.StatusOK},
		{"/api/v1/nlu/embed", `{"texts":["refund please","退款"]}`, http.StatusOK},
		{"/api/v1/nlu/classify", `{"text":"   "}`, http.StatusBadRequest},
		{"/api/v1/nlu/classify", `{"text":"😀😀😀"}`, http.StatusOK},
		{"/api/v1/nlu/classify", `{"text":` + jsonString(strings.Repeat("長", 70000)) + `}`, http.StatusRequestEntityTooLarge},
	} {
		if r := do(t, http.MethodPost, base+tc.path, tok, tc.body); r.status != tc.want {
			t.Errorf("POST %s %.60s: %d %s, want %d", tc.path, tc.body, r.status, r.body, tc.want)
		}
	}
	var intent struct {
		Label      string `json:"label"`
		OutOfScope bool   `json:"out_of_scope"`
	}
	mustJSON(t, do(t, http.MethodPost, base+"/api/v1/nlu/intent", tok, `{"text":"i want to talk to a real person"}`).body, &intent)
	if intent.Label != "talk_to_human" {
		t.Errorf("intent %+v, want talk_to_human", intent)
	}
	mustJSON(t, do(t, http.MethodPost, base+"/api/v1/nlu/intent", tok, `{"text":"can you book me a flight to tokyo next friday"}`).body, &intent)
	if !intent.OutOfScope {
		t.Errorf("flight booking: %+v, want out of scope", intent)
	}

	// Speech recognition of a recording: the manifest names the ASR
	// model; until training/ has written it, the server runs without it
	// and the route says so.
	wav, err := os.ReadFile(filepath.Join("..", "..", "nlu", "asr", "testdata", "zh_parcel.wav"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/asr", bytes.NewReader(wav))
	req.Header.Set("Content-Type", "audio/wav")
	req.Header.Set("Authorization", "Bearer "+tok)
	hres, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(hres.Body)
	hres.Body.Close()
	_, statErr := os.Stat(filepath.Join(shippedModels, "asr", "2026-11-24.1", "model.onnx"))
	switch {
	case statErr == nil:
		var tr struct {
			Text string `json:"text"`
		}
		if hres.StatusCode != http.StatusOK || json.Unmarshal(body, &tr) != nil || !strings.Contains(tr.Text, "快递") {
			t.Errorf("POST /api/v1/asr: %d %s, want a transcript containing 快递", hres.StatusCode, body)
		}
	case hres.StatusCode != http.StatusServiceUnavailable || hres.Header.Get("Retry-After") == "":
		t.Errorf("POST /api/v1/asr without the model: %d %s, want 503 with Retry-After", hres.StatusCode, body)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

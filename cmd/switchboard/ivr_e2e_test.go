package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/es/estest"
	"github.com/switchboard-cc/switchboard/ivr/calls"
	"github.com/switchboard-cc/switchboard/ivr/prompt"
	"github.com/switchboard-cc/switchboard/nlu/audio"
	"github.com/switchboard-cc/switchboard/nlu/ort/orttest"
)

// sippBinary returns sipp, or skips; under SWITCHBOARD_REQUIRE_SIPP (make
// test) a missing sipp fails.
func sippBinary(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("sipp")
	if err != nil {
		if os.Getenv("SWITCHBOARD_REQUIRE_SIPP") != "" {
			t.Fatalf("sipp not found and SWITCHBOARD_REQUIRE_SIPP is set: %v", err)
		}
		t.Skip("sipp not on PATH; `make test` installs sip-tester and runs this test")
	}
	return p
}

// speechSynth returns the espeak-ng synthesiser the test callers speak with.
func speechSynth(t *testing.T) *prompt.Synth {
	t.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		if os.Getenv("SWITCHBOARD_REQUIRE_ESPEAK") != "" {
			t.Fatalf("espeak-ng not found and SWITCHBOARD_REQUIRE_ESPEAK is set: %v", err)
		}
		t.Skip("espeak-ng not on PATH; `make test` installs it")
	}
	s, err := prompt.NewSynth(prompt.DefaultSynthConfig())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func freeUDP(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// writeULawWAV writes 8 kHz samples as a µ-law WAV, the format SIPp's
// rtp_stream sends as PCMU.
func writeULawWAV(t *testing.T, path string, samples []float32) {
	t.Helper()
	data := audio.EncodeULaw(nil, samples)
	var b bytes.Buffer
	le := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(4 + 26 + 12 + 8 + len(data)))
	b.WriteString("WAVEfmt ")
	le(uint32(18))
	le(uint16(7)) // WAVE_FORMAT_MULAW
	le(uint16(1))
	le(uint32(8000))
	le(uint32(8000))
	le(uint16(1))
	le(uint16(8))
	le(uint16(0))
	b.WriteString("fact")
	le(uint32(4))
	le(uint32(len(data)))
	b.WriteString("data")
	le(uint32(len(data)))
	b.Write(data)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func silence(d time.Duration) []float32 { return make([]float32, int(d.Seconds()*8000)) }

// callerAudio is what a test caller says: each part is a text to speak or
// a pause.
type callerAudio []any

func (a callerAudio) render(t *testing.T, ctx context.Context, s *prompt.Synth) []float32 {
	var out []float32
	for _, p := range a {
		switch v := p.(type) {
		case string:
			speech, err := s.Synthesize(ctx, "zh", v)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, speech...)
		case time.Duration:
			out = append(out, silence(v)...)
		}
	}
	return out
}

// TestIVRCalls runs `switchboard serve --ivr` on the shipped models and
// the demo flow, and calls it with SIPp: one real SIP peer per scenario,
// all at once, each checked by what SIPp saw (REFER, BYE, 488) and by the
// call record, ticket and recording the server stored.
func TestIVRCalls(t *testing.T) {
	sipp := sippBinary(t)
	synth := speechSynth(t)
	lib := orttest.Library(t)
	esURL := estest.URL(t)
	prefix := estest.Prefix(t)
	t.Cleanup(func() { estest.Cleanup(t, mustClient(t, esURL, prefix)) })
	ctx := t.Context()

	// The order system the flow's lookup calls: a third-party system.
	orders := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/orders/1234567890" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"status_text":"运输中","delivery":{"eta_date":"十一月二十六日"}}`))
	}))
	defer orders.Close()

	dir := t.TempDir()
	// The demo flow with short waits, so that the no-input and queue
	// scenarios take seconds rather than minutes.
	src, err := os.ReadFile(filepath.Join("..", "..", "ivr", "flows", "ecommerce.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fl := strings.ReplaceAll(string(src), "max_wait: 3m", "max_wait: 2s")
	fl = strings.ReplaceAll(fl, "timeout: 6s", "timeout: 3s")
	flowPath := filepath.Join(dir, "flow.yaml")
	if err := os.WriteFile(flowPath, []byte(fl), 0o644); err != nil {
		t.Fatal(err)
	}
	sipPort := freeUDP(t)
	agentPort := freeUDP(t)
	cfg := fmt.Sprintf(`ivr:
  enabled: true
  flow: %s
  sip: {addr: "127.0.0.1:%d", rtp_timeout: 20s}
  prompts_dir: %s
  recordings: {dir: %s, retention: 24h}
  systems:
    orders: {url: %q}
  agents:
    groups: [general, logistics, returns]
    seed:
      - {id: "2001", name: Li, uri: "sip:2001@127.0.0.1:5999", groups: [logistics], state: available}
      - {id: "2002", name: Wang, uri: "sip:2002@127.0.0.1:5999", groups: [general], state: available}
      - {id: "2003", name: Zhao, uri: "sip:2003@127.0.0.1:5999", groups: [general], state: available}
      - {id: "2005", name: Sun, uri: "sip:2005@127.0.0.1:%d", groups: [logistics]}
`, flowPath, sipPort, filepath.Join(dir, "prompts"), filepath.Join(dir, "rec"), orders.URL, agentPort)
	cfgPath := filepath.Join(dir, "switchboard.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}

	addr := freeAddr(t)
	out := &syncBuffer{}
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		done <- run(sctx, []string{"serve", "--config", cfgPath, "--es-url", esURL, "--index-prefix", prefix, "--addr", addr,
			"--log-level", "warn", "--models-dir", shippedModels, "--onnxruntime-lib", lib}, nil, out, io.Discard)
	}()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("serve exited %d:\n%s", code, out)
			}
		}
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(3 * time.Minute)
	for !strings.Contains(out.String(), "Switchboard is running") {
		if time.Now().After(deadline) {
			t.Fatalf("server did not start; output:\n%s", out)
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d:\n%s", code, out)
		case <-time.After(50 * time.Millisecond):
		}
	}
	base := "http://" + addr
	waitHTTP(t, base+"/readyz")
	m := regexp.MustCompile(`client_secret: (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no admin secret:\n%s", out)
	}
	tok := token(t, base, "admin", m[1])

	type scenario struct {
		caller string // the From user, which finds the call record
		file   string
		audio  callerAudio
		wav    string // where the scenario reads audio from
	}
	scenarios := []scenario{
		{caller: "speech", file: "speech_transfer.xml", audio: callerAudio{"我的快递三天了还没到", 40 * time.Second}},
		{caller: "dtmf", file: "dtmf_order.xml", audio: callerAudio{60 * time.Second}},
		{caller: "spoken", file: "spoken_order.xml", audio: callerAudio{"一二三四五六七八九零", 40 * time.Second}},
		{caller: "silent", file: "silent_transfer.xml", audio: callerAudio{90 * time.Second}},
		{caller: "nomatch", file: "no_match_transfer.xml", audio: callerAudio{
			1500 * time.Millisecond, "今天天气怎么样", 6 * time.Second, "今天天气怎么样", 6 * time.Second, "今天天气怎么样", 60 * time.Second}},
		{caller: "queue", file: "queue_callback.xml", audio: callerAudio{60 * time.Second}},
		{caller: "hangup", file: "hangup_mid_prompt.xml", audio: callerAudio{10 * time.Second}},
		{caller: "g729", file: "uac_488.xml", audio: nil},
	}
	// sippRun starts one SIPp for a scenario, in its own directory with its
	// audio; failures are reported when it ends, its log lines kept.
	var wg sync.WaitGroup
	sippLogs := make(map[string]string)
	var logMu sync.Mutex
	sippRun := func(sc scenario, extra ...string) {
		sdir := filepath.Join(dir, "sipp-"+sc.caller)
		if err := os.MkdirAll(sdir, 0o755); err != nil {
			t.Fatal(err)
		}
		scen, err := os.ReadFile(filepath.Join("testdata", "ivr", sc.file))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sdir, sc.file), scen, 0o644); err != nil {
			t.Fatal(err)
		}
		if sc.wav == "" {
			sc.wav = "caller.wav"
		}
		if sc.audio != nil {
			writeULawWAV(t, filepath.Join(sdir, sc.wav), sc.audio.render(t, ctx, synth))
		}
		args := append([]string{"-sf", sc.file, "-t", "u1", "-m", "1", "-l", "1",
			"-i", "127.0.0.1", "-mi", "127.0.0.1", "-mp", strconv.Itoa(freeUDP(t)),
			"-timeout", "150s", "-timeout_error", "-trace_err", "-trace_logs", "-nostdin"}, extra...)
		if bytes.Contains(scen, []byte("[$caller]")) {
			args = append(args, "-set", "caller", sc.caller)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, 170*time.Second)
			defer cancel()
			cmd := exec.CommandContext(cctx, sipp, args...)
			cmd.Dir = sdir
			var o bytes.Buffer
			cmd.Stdout, cmd.Stderr = &o, &o
			err := cmd.Run()
			logs, _ := filepath.Glob(filepath.Join(sdir, "*_logs.log"))
			for _, l := range logs {
				b, _ := os.ReadFile(l)
				logMu.Lock()
				sippLogs[sc.caller] += string(b)
				logMu.Unlock()
			}
			if err != nil {
				errs, _ := filepath.Glob(filepath.Join(sdir, "*errors.log"))
				for _, l := range errs {
					b, _ := os.ReadFile(l)
					t.Logf("%s %s:\n%s", sc.caller, filepath.Base(l), b)
				}
				t.Errorf("%s: sipp: %v\n%s", sc.caller, err, tail(o.String(), 2000))
			}
		}()
	}
	server := fmt.Sprintf("127.0.0.1:%d", sipPort)
	for _, sc := range scenarios {
		sippRun(sc, server, "-p", strconv.Itoa(freeUDP(t)))
	}
	wg.Wait()

	// Second wave: a caller whose phone refuses REFER is bridged to the
	// logistics agent 2005 (a SIPp phone), made available through the
	// agents API now that 2001 is busy with the first wave's transfer.
	if r := do(t, http.MethodPut, base+"/api/v1/agents/2005/state", tok, `{"state":"available"}`); r.status != http.StatusOK {
		t.Fatalf("agent state: %d %s", r.status, r.body)
	}
	agentSc := scenario{caller: "agent", file: "uas_agent.xml", wav: "agent.wav", audio: callerAudio{"您好，物流专员为您服务", 30 * time.Second}}
	sippRun(agentSc, "-p", strconv.Itoa(agentPort))
	time.Sleep(500 * time.Millisecond) // the agent's SIPp listening
	sippRun(scenario{caller: "refused", file: "refer_refused.xml", wav: "caller.wav", audio: callerAudio{60 * time.Second}}, server, "-p", strconv.Itoa(freeUDP(t)))
	wg.Wait()

	// The records: every answered call has one, found by its caller.
	es := mustClient(t, esURL, prefix)
	if err := es.Refresh(ctx, es.Name("calls")); err != nil {
		t.Fatal(err)
	}
	var page struct {
		Calls []calls.Record `json:"calls"`
		Total int            `json:"total"`
	}
	res := do(t, http.MethodGet, base+"/api/v1/calls?size=100", tok, "")
	if res.status != http.StatusOK {
		t.Fatalf("calls: %d %s", res.status, res.body)
	}
	mustJSON(t, res.body, &page)
	byCaller := map[string]calls.Record{}
	for _, r := range page.Calls {
		byCaller[sipUser(r.Caller)] = r
	}
	if _, ok := byCaller["g729"]; ok || page.Total != len(scenarios) {
		t.Errorf("%d call records, want %d (every answered call, not the 488)", page.Total, len(scenarios))
	}
	path := func(r calls.Record) []string {
		var p []string
		for _, s := range r.Path {
			p = append(p, s.Node)
		}
		return p
	}
	check := func(name string, want calls.Outcome, nodes ...string) calls.Record {
		t.Helper()
		r, ok := byCaller[name]
		if !ok {
			t.Errorf("%s: no call record", name)
			return r
		}
		p := path(r)
		t.Logf("%s: outcome %s, reason %s, path %v, recognitions %+v", name, r.Outcome, r.EndReason, p, r.Recognitions)
		if r.Outcome != want {
			t.Errorf("%s: outcome %q, want %q", name, r.Outcome, want)
		}
		for _, n := range nodes {
			if !slices.Contains(p, n) {
				t.Errorf("%s: path %v does not visit %s", name, p, n)
			}
		}
		if r.Ended == nil || r.DurationMS <= 0 {
			t.Errorf("%s: not ended: %+v", name, r)
		}
		return r
	}

	// Intent jump by speech, over the welcome prompt.
	speech := check("speech", calls.Transferred, "menu", "delay_ticket", "to_logistics")
	if len(speech.Recognitions) > 0 {
		rg := speech.Recognitions[0]
		if rg.Intent != "delivery_delay" || rg.Result != "matched" || !rg.BargeIn || rg.LatencyMS <= 0 {
			t.Errorf("speech: first recognition %+v: want delivery_delay, matched, barge-in, a latency", rg)
		}
	}
	if tr := speech.Transfer; tr == nil || tr.Target != "sip:2001@127.0.0.1:5999" || tr.Result != "accepted" {
		t.Errorf("speech: transfer %+v, want accepted to agent 2001", speech.Transfer)
	}
	if !strings.Contains(sippLogs["speech"], "REFER-TO sip:2001@127.0.0.1:5999") {
		t.Errorf("speech: SIPp did not log the REFER target:\n%s", sippLogs["speech"])
	}
	if len(speech.TicketIDs) == 1 {
		var tk struct {
			Description string         `json:"description"`
			Channel     string         `json:"channel"`
			Related     map[string]any `json:"related"`
			Category    *struct {
				Label string `json:"label"`
			} `json:"category"`
		}
		r := do(t, http.MethodGet, base+"/api/v1/tickets/"+speech.TicketIDs[0], tok, "")
		mustJSON(t, r.body, &tk)
		// (Its skill group is logistics when filed; the automation rules
		// may move it, e.g. complaints to senior agents.)
		said := ""
		if len(speech.Recognitions) > 0 {
			said = speech.Recognitions[0].Text
		}
		if tk.Channel != "voice" || tk.Related["call_id"] != speech.ID || tk.Category == nil || tk.Category.Label == "" ||
			said == "" || !strings.Contains(tk.Description, "transcript:\n"+said) {
			t.Errorf("speech: ticket %+v: want a voice ticket linked to the call, with an NLU category and the transcript", tk)
		}
	} else {
		t.Errorf("speech: tickets %v, want one", speech.TicketIDs)
	}

	// DTMF only.
	dtmf := check("dtmf", calls.SelfServed, "ask_order_no", "order_lookup", "order_answer", "anything_else", "bye")
	var keys []string
	for _, k := range dtmf.DTMF {
		keys = append(keys, k.Digits)
	}
	// The number ends at its tenth digit; the # after it is dropped.
	if !slices.Equal(keys, []string{"1", "1234567890", "2"}) {
		t.Errorf("dtmf: keys %q, want 1, 1234567890, 2", keys)
	}
	if dtmf.EndReason != "bot_hangup" {
		t.Errorf("dtmf: end %q, want bot_hangup", dtmf.EndReason)
	}

	// The order number, spoken.
	spoken := check("spoken", calls.SelfServed, "ask_order_no", "order_answer")
	found := false
	for _, rg := range spoken.Recognitions {
		if rg.Node == "ask_order_no" && rg.Slot == "order_no" && rg.Result == "matched" {
			found = true
		}
	}
	if !found {
		t.Errorf("spoken: no order number recognised: %+v", spoken.Recognitions)
	}

	// Silence and nonsense: reprompts, then an agent.
	for _, name := range []string{"silent", "nomatch"} {
		r := check(name, calls.Transferred, "menu", "to_general")
		want := map[string]string{"silent": "no_input", "nomatch": "no_match"}[name]
		n := 0
		for _, rg := range r.Recognitions {
			if rg.Node == "menu" && rg.Result == want {
				n++
			}
		}
		if n != 3 {
			t.Errorf("%s: %d %s recognitions at the menu, want 3 (two reprompts, then the agent)", name, n, want)
		}
	}

	// No agent free: queue, then a callback ticket.
	queue := check("queue", calls.Ticketed, "refund_menu", "to_returns", "callback", "bye")
	if tr := queue.Transfer; tr == nil || tr.Result != "no_agent" || tr.QueueWaitMS < 2000 {
		t.Errorf("queue: transfer %+v, want no_agent after 2 s in the queue", queue.Transfer)
	}

	// REFER refused: bridged through the IVR, the agent freed afterwards.
	refused := check("refused", calls.Transferred, "delay_ticket", "to_logistics")
	if tr := refused.Transfer; tr == nil || tr.Method != "bridge" || tr.Agent != "2005" || tr.Result != "accepted" {
		t.Errorf("refused: transfer %+v, want a bridge to agent 2005", refused.Transfer)
	}
	var logistics struct {
		Agents []struct {
			ID, State string
		} `json:"agents"`
	}
	mustJSON(t, do(t, http.MethodGet, base+"/api/v1/agents?group=logistics", tok, "").body, &logistics)
	for _, a := range logistics.Agents {
		// 2001 took the first wave's REFER and stays busy until they say
		// otherwise; 2005's bridged call ended under our eyes.
		if want := map[string]string{"2001": "busy", "2005": "available"}[a.ID]; a.State != want {
			t.Errorf("agent %s is %q after the calls, want %q", a.ID, a.State, want)
		}
	}
	if len(logistics.Agents) != 2 {
		t.Errorf("logistics agents %+v, want 2001 and 2005", logistics.Agents)
	}

	// Hung up mid-prompt.
	hang := check("hangup", calls.Abandoned, "menu")
	if hang.EndReason != "caller_hangup" {
		t.Errorf("hangup: end %q, want caller_hangup", hang.EndReason)
	}

	// The recording: both directions, served to an allowed role and audited.
	if rec := dtmf.Recording; rec == nil || rec.Seconds < 5 {
		t.Errorf("dtmf: recording %+v, want several seconds", dtmf.Recording)
	} else {
		r := do(t, http.MethodGet, base+rec.URL, tok, "")
		if r.status != http.StatusOK {
			t.Fatalf("recording: %d %s", r.status, r.body)
		}
		w, err := audio.DecodeWAV(bytes.NewReader(r.body))
		if err != nil || w.Channels != 2 || w.SampleRate != 8000 {
			t.Errorf("recording: %v %+v, want stereo 8 kHz", err, w.WAVHeader)
		}
		if err := es.Refresh(ctx, es.Name("recording-audit")); err != nil {
			t.Fatal(err)
		}
		a := do(t, http.MethodGet, base+"/api/v1/recordings/audit?call_id="+dtmf.ID, tok, "")
		var audit struct {
			Entries []struct {
				Actor, Result string
			} `json:"entries"`
		}
		mustJSON(t, a.body, &audit)
		if len(audit.Entries) != 1 || audit.Entries[0].Result != "served" || audit.Entries[0].Actor == "" {
			t.Errorf("recording audit %+v, want one served entry with its actor", audit.Entries)
		}
	}
	var lat []int64
	for _, r := range page.Calls {
		for _, rg := range r.Recognitions {
			if rg.LatencyMS > 0 {
				lat = append(lat, rg.LatencyMS)
			}
		}
	}
	t.Logf("turn latencies (ms): %v", lat)
}

// sipUser is the user part of a SIP URI.
func sipUser(uri string) string {
	u := strings.TrimPrefix(strings.Trim(uri, "<>"), "sip:")
	u, _, _ = strings.Cut(u, "@")
	return u
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

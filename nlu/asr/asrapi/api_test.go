package asrapi_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/nlu/asr/asrapi"
	"github.com/switchboard-cc/switchboard/nlu/vad/vadtest"
	"github.com/switchboard-cc/switchboard/web/auth"
)

// TestAuthorization: no token is 401, a role without nlu:read 403, and
// every other role gets its transcript.
func TestAuthorization(t *testing.T) {
	e := newEnv(t, options{})
	wav := readFile(t, speech8k)
	for _, r := range e.api.Routes() {
		if r.Method != http.MethodPost || r.Path != asrapi.PathASR || r.Scope != auth.ScopeNLURead {
			t.Errorf("route %+v, want POST %s with %s", r, asrapi.PathASR, auth.ScopeNLURead)
		}
		if res := e.post("", "", raw("audio/wav", wav)); res.code != http.StatusUnauthorized {
			t.Errorf("without a token: %s, want 401", res)
		}
		for _, role := range auth.Roles() {
			res := e.post(role, "", raw("audio/wav", wav))
			switch {
			case !role.Has(r.Scope):
				if p := res.problem(t); res.code != http.StatusForbidden || p.Extensions["required_scope"] != r.Scope {
					t.Errorf("as %s (no %s): %s, want 403 naming the scope", role, r.Scope, res)
				}
			case res.code != http.StatusOK:
				t.Errorf("as %s: %s, want 200", role, res)
			}
		}
	}
}

// TestUploads sends every kind of body: WAV files raw and in forms, at the
// model's rate and another, cut short, too long, too large, and things
// that are not WAV files at all.
func TestUploads(t *testing.T) {
	e := newEnv(t, options{})
	short := newEnv(t, options{cfg: func(c *asrapi.Config) { c.MaxDuration = 500 * time.Millisecond }})
	tight := newEnv(t, options{cfg: func(c *asrapi.Config) { c.MaxBodyBytes = 16 << 10 }})
	wav8, wav16 := readFile(t, speech8k), readFile(t, speech16k)
	text := []byte("Dear customer, this is not audio.\n")
	tests := []struct {
		name   string
		env    *env
		upload upload
		code   int
		rate   int    // 200: the sample rate reported
		want   string // 200: a warning containing it; otherwise the problem's detail or title contains it
	}{
		{name: "raw audio/wav", upload: raw("audio/wav", wav8), code: 200, rate: 8000},
		{name: "raw audio/x-wav", upload: raw("audio/x-wav", wav8), code: 200, rate: 8000},
		{name: "raw audio/wave", upload: raw("audio/wave", wav8), code: 200, rate: 8000},
		{name: "raw octet-stream", upload: raw("application/octet-stream", wav8), code: 200, rate: 8000},
		{name: "raw without Content-Type", upload: raw("", wav8), code: 200, rate: 8000},
		{name: "multipart", upload: form(t, "audio", wav8), code: 200, rate: 8000},
		{name: "16 kHz is resampled", upload: raw("audio/wav", wav16), code: 200, rate: 16000},
		{name: "16 kHz multipart", upload: form(t, "audio", wav16), code: 200, rate: 16000},
		{name: "truncated", upload: raw("audio/wav", wav8[:len(wav8)-1001]), code: 200, rate: 8000, want: "truncated WAV"},
		{name: "text file", upload: raw("text/plain", text), code: 415, want: "Content-Type"},
		{name: "text file as audio/wav", upload: raw("audio/wav", text), code: 415, want: "Not a WAV file"},
		{name: "text file in a form", upload: form(t, "audio", text), code: 415, want: "Not a WAV file"},
		{name: "form urlencoded", upload: raw("application/x-www-form-urlencoded", wav8), code: 415},
		{name: "bad Content-Type", upload: raw("audio/wav; =", wav8), code: 415},
		{name: "empty body", upload: raw("audio/wav", nil), code: 400, want: "empty"},
		{name: "form without audio", upload: form(t, "file", wav8), code: 400, want: `"file"`},
		{name: "multipart without boundary", upload: raw("multipart/form-data", wav8), code: 400, want: "boundary"},
		{name: "WAV without fmt chunk", upload: raw("audio/wav", []byte("RIFF\x04\x00\x00\x00WAVEdata\x00\x00\x00\x00")), code: 400, want: "Malformed WAV file"},
		{name: "ADPCM", upload: raw("audio/wav", wavHeader(2, 4, 8000)), code: 415, want: "Unsupported WAV format"},
		{name: "too long", env: short, upload: raw("audio/wav", wav8), code: 413, want: "Recording too long"},
		{name: "too large", env: tight, upload: raw("audio/wav", wav8), code: 413, want: "exceeds"},
		{name: "too large, no Content-Length", env: tight, upload: upload{"audio/wav", struct{ io.Reader }{bytes.NewReader(wav8)}}, code: 413, want: "exceeds"},
		{name: "too large in a form", env: tight, upload: form(t, "audio", wav8), code: 413, want: "exceeds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := tc.env
			if env == nil {
				env = e
			}
			res := env.post(auth.RoleAgent, "", tc.upload)
			if res.code != tc.code {
				t.Fatalf("%s, want %d", res, tc.code)
			}
			if tc.code != http.StatusOK {
				p := res.problem(t)
				if !strings.Contains(p.Detail+" "+p.Title, tc.want) {
					t.Errorf("problem %+v does not say %q", p, tc.want)
				}
				return
			}
			tr := res.transcript(t)
			checkTranscript(t, tr, tc.rate)
			if tc.want == "" && len(tr.Warnings) > 0 || tc.want != "" && (len(tr.Warnings) != 1 || !strings.Contains(tr.Warnings[0], tc.want)) {
				t.Errorf("warnings %q, want one saying %q", tr.Warnings, tc.want)
			}
		})
	}
}

// checkTranscript checks what every transcript of the test speech holds.
func checkTranscript(t *testing.T, tr asrapi.Transcript, rate int) {
	t.Helper()
	if tr.Model != "tiny" || tr.SampleRate != rate || tr.DurationS < 0.5 || tr.DurationS > 2 || tr.ProcessingMs <= 0 || tr.RTF <= 0 {
		t.Errorf("transcript %+v", tr)
	}
	if len(tr.Segments) == 0 {
		t.Fatalf("no segments for speech: %+v", tr)
	}
	var texts []string
	for _, s := range tr.Segments {
		texts = append(texts, s.Text)
		if s.Text == "" || s.End <= s.Start || s.Confidence < 0 || s.Confidence > 1 || len(s.Words) == 0 {
			t.Errorf("segment %+v", s)
		}
	}
	if tr.Text != strings.Join(texts, " ") {
		t.Errorf("text %q, segments %q", tr.Text, texts)
	}
}

// wavHeader is a WAV file of format tag format with a second of zero data.
func wavHeader(format, bits uint16, rate uint32) []byte {
	var b bytes.Buffer
	data := int(rate) * int(bits) / 8
	le := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(36 + data))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(format)
	le(uint16(1))
	le(rate)
	le(rate * uint32(bits) / 8)
	le(bits / 8)
	le(bits)
	b.WriteString("data")
	le(uint32(data))
	b.Write(make([]byte, data))
	return b.Bytes()
}

// TestQuery steers the decoder through the query string: grammars and
// phrases that work, and every kind of bad parameter, which is refused
// before the upload is read.
func TestQuery(t *testing.T) {
	e := newEnv(t, options{})
	wav := readFile(t, speech8k)
	tests := []struct {
		query string
		code  int
		field string // 400: the field named
		want  string // 400: the detail says it; 200: a warning says it
	}{
		{query: "digits=4", code: 200},
		{query: "digits=2-6", code: 200},
		{query: "one_of=yes,no,好的", code: 200},
		{query: "phrase=快递&phrase=hello&boost=2.5", code: 200},
		{query: "beam=1", code: 200},
		{query: "beam=16&vad=false", code: 200},
		{query: "vad=true", code: 200},
		{query: "digits=abc", code: 400, field: "digits"},
		{query: "digits=4-", code: 400, field: "digits"},
		{query: "digits=0", code: 400, want: "digits"},
		{query: "digits=6-3", code: 400, want: "digits"},
		{query: "digits=40", code: 400, want: "digits"},
		{query: "digits=4&digits=5", code: 400, field: "digits"},
		{query: "digits=4&one_of=yes,no", code: 400, want: "give one"},
		{query: "one_of=,", code: 400, field: "one_of"},
		{query: "phrase=", code: 400, want: "empty phrase"},
		{query: "phrase=" + strings.Repeat("长", 65), code: 400, want: "more than 64"},
		{query: "phrase=退款", code: 400, want: "退款"},
		{query: "one_of=是的,退款", code: 400, want: "退款"},
		{query: "boost=x", code: 400, field: "boost"},
		{query: "boost=11", code: 400, want: "boost"},
		{query: "beam=x", code: 400, field: "beam"},
		{query: "beam=65", code: 400, want: "beam"},
		{query: "vad=maybe", code: 400, field: "vad"},
		{query: "language=zh", code: 400, field: "language"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			res := e.post(auth.RoleAgent, tc.query, raw("audio/wav", wav))
			if res.code != tc.code {
				t.Fatalf("%s, want %d", res, tc.code)
			}
			if tc.code == http.StatusOK {
				tr := res.transcript(t)
				if len(tr.Warnings) > 0 {
					t.Errorf("warnings %q", tr.Warnings)
				}
				return
			}
			p := res.problem(t)
			if tc.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != tc.field) {
				t.Errorf("problem %+v, want one error for %s", p, tc.field)
			}
			if !strings.Contains(p.Detail, tc.want) {
				t.Errorf("detail %q does not say %q", p.Detail, tc.want)
			}
		})
	}
}

// TestGrammarFields: with a grammar every segment says whether it fitted
// and, when it did, the value it read.
func TestGrammarFields(t *testing.T) {
	e := newEnv(t, options{})
	tr := e.post(auth.RoleAgent, "digits=1-8", raw("audio/wav", readFile(t, speech8k))).transcript(t)
	for _, s := range tr.Segments {
		if s.GrammarMatched && (s.Slot == "" || strings.Trim(s.Slot, "0123456789") != "") {
			t.Errorf("matched segment %+v has slot %q, want digits", s, s.Slot)
		}
	}
}

// TestWithoutVAD: a server without a VAD model cuts the recording every
// 30 s and says so.
func TestWithoutVAD(t *testing.T) {
	e := newEnv(t, options{noVAD: true})
	wav := readFile(t, speech8k)
	tr := e.post(auth.RoleAgent, "", raw("audio/wav", wav)).transcript(t)
	checkTranscript(t, tr, 8000)
	if len(tr.Warnings) != 1 || !strings.Contains(tr.Warnings[0], "no VAD model") {
		t.Errorf("warnings %q, want one about the VAD", tr.Warnings)
	}
	if tr := e.post(auth.RoleAgent, "vad=false", raw("audio/wav", wav)).transcript(t); len(tr.Warnings) != 0 {
		t.Errorf("vad=false: warnings %q", tr.Warnings)
	}
}

// TestNoModel: without a recognizer the route answers 503 with
// Retry-After, and still refuses bad requests as the client's fault.
func TestNoModel(t *testing.T) {
	e := newEnv(t, options{noModel: true, noVAD: true})
	res := e.post(auth.RoleAgent, "", raw("audio/wav", readFile(t, speech8k)))
	p := res.problem(t)
	if res.code != http.StatusServiceUnavailable || res.header.Get("Retry-After") != "5" || !strings.Contains(p.Detail, "no speech recognition model") {
		t.Errorf("%s (Retry-After %q), want 503 saying there is no model", res, res.header.Get("Retry-After"))
	}
	if res := e.post(auth.RoleAgent, "digits=x", raw("audio/wav", nil)); res.code != http.StatusBadRequest {
		t.Errorf("bad query: %s, want 400", res)
	}
	if res := e.post("", "", raw("audio/wav", nil)); res.code != http.StatusUnauthorized {
		t.Errorf("no token: %s, want 401", res)
	}
}

// TestBusy: past MaxPending requests, more are answered 503 at once
// rather than piling up recordings in memory; the one inside finishes.
func TestBusy(t *testing.T) {
	e := newEnv(t, options{cfg: func(c *asrapi.Config) { c.MaxConcurrent, c.MaxPending = 1, 1 }})
	wav := readFile(t, speech8k)
	pr, pw := io.Pipe()
	first := make(chan *response, 1)
	go func() { first <- e.post(auth.RoleAgent, "", upload{"audio/wav", pr}) }()

	// The first request holds its place while its upload trickles in.
	if _, err := pw.Write(wav[:100]); err != nil {
		t.Fatal(err)
	}
	res := e.post(auth.RoleAgent, "", raw("audio/wav", wav))
	if res.code != http.StatusServiceUnavailable || res.header.Get("Retry-After") == "" {
		t.Fatalf("second request while the first uploads: %s, want 503 with Retry-After", res)
	}
	if p := res.problem(t); !strings.Contains(p.Detail, "in progress") {
		t.Errorf("detail %q", p.Detail)
	}
	if _, err := pw.Write(wav[100:]); err != nil {
		t.Fatal(err)
	}
	_ = pw.Close()
	checkTranscript(t, (<-first).transcript(t), 8000)
	if res := e.post(auth.RoleAgent, "", raw("audio/wav", wav)); res.code != http.StatusOK {
		t.Errorf("after the first finished: %s", res)
	}
}

// TestSilence: silence and an empty recording give no segments, not an
// error.
func TestSilence(t *testing.T) {
	e := newEnv(t, options{})
	for name, n := range map[string]int{"empty": 0, "two seconds": 16000} {
		t.Run(name, func(t *testing.T) {
			res := e.post(auth.RoleAgent, "", raw("audio/wav", pcm16(8000, make([]float32, n))))
			tr := res.transcript(t)
			if len(tr.Segments) != 0 || tr.Text != "" || tr.Segments == nil || tr.Warnings == nil {
				t.Errorf("transcript %+v, want empty segments and warnings", tr)
			}
		})
	}
}

// pcm16 encodes samples as a 16-bit PCM mono WAV file.
func pcm16(rate uint32, samples []float32) []byte {
	b := wavHeader(1, 16, rate)[:44]
	binary.LittleEndian.PutUint32(b[4:], uint32(36+2*len(samples)))
	binary.LittleEndian.PutUint32(b[40:], uint32(2*len(samples)))
	for _, s := range samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(int16(math.Round(float64(s)*32767))))
	}
	return b
}

// TestShippedModel transcribes real speech with the model the product
// ships, once training/ has put it in models/asr.
func TestShippedModel(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "models", "asr", "2026-11-24.1")
	if _, err := os.Stat(filepath.Join(dir, "model.onnx")); err != nil {
		if vadtest.Required() || !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("shipped ASR model: %v", err)
		}
		t.Skipf("shipped ASR model not trained yet (%v); training/ writes it, and SWITCHBOARD_REQUIRE_MODELS=1 makes this a failure", err)
	}
	e := newEnv(t, options{modelOf: dir})
	// "我的快递三天了还没到" in a voice the model never trained on
	tr := e.post(auth.RoleAgent, "", form(t, "audio", readFile(t, filepath.Join("..", "testdata", "zh_parcel.wav")))).transcript(t)
	if !strings.Contains(tr.Text, "快递") || tr.Model != "2026-11-24.1" {
		t.Errorf("transcript %+v, want the text to contain 快递", tr)
	}
}

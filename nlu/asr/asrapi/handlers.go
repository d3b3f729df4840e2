package asrapi

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchboard-cc/switchboard/nlu/asr"
	"github.com/switchboard-cc/switchboard/nlu/audio"
	"github.com/switchboard-cc/switchboard/web/problem"
)

// mappings turn audio's and asr's error kinds into statuses; this is the
// only place they meet HTTP.
//
// A body that is not a WAV file at all is 415, like any body the route
// cannot read as a WAV file, whatever its Content-Type claimed; a WAV file
// whose header is broken is the client's malformed request, 400.
func mappings() problem.Mapper {
	return problem.Mapper{
		{Err: audio.ErrNotWAV, Status: http.StatusUnsupportedMediaType, Title: "Not a WAV file"},
		{Err: audio.ErrUnsupported, Status: http.StatusUnsupportedMediaType, Title: "Unsupported WAV format"},
		{Err: audio.ErrTooLong, Status: http.StatusRequestEntityTooLarge, Title: "Recording too long"},
		{Err: audio.ErrInvalid, Status: http.StatusBadRequest, Title: "Malformed WAV file"},
		{Err: asr.ErrExpect, Status: http.StatusBadRequest, Title: "Unusable expectation"},
		{Err: asr.ErrNoModel, Status: http.StatusServiceUnavailable, Title: "No speech recognition model"},
		{Err: errBusy, Status: http.StatusServiceUnavailable, Title: "Too many transcriptions"},
		{Err: context.DeadlineExceeded, Status: http.StatusServiceUnavailable},
		{Err: context.Canceled, Status: http.StatusServiceUnavailable},
	}
}

// fail answers err as a problem; server-side failures are attached to the
// gin context for the access log, and the client sees a generic detail.
func (a *API) fail(c *gin.Context, err error) {
	p := mappings().Problem(err)
	if p.Status == http.StatusServiceUnavailable {
		c.Header("Retry-After", strconv.Itoa(int(a.cfg.RetryAfter.Seconds())))
		if errors.Is(err, asr.ErrNoModel) || errors.Is(err, errBusy) {
			// Configuration and load, not secrets: they tell the
			// operator what to deploy and the client why to wait.
			p.Detail = err.Error()
		}
	}
	if p.Status >= 500 && !errors.Is(err, context.Canceled) {
		_ = c.Error(err)
	}
	problem.Write(c, p)
}

// Transcript is the answer to an upload.
type Transcript struct {
	// Model is the recognizer's version.
	Model string `json:"model"`
	// SampleRate is the upload's rate; other rates than the model's are
	// resampled.
	SampleRate int     `json:"sample_rate"`
	DurationS  float64 `json:"duration_s"`
	// Text is every segment's text, joined by a space.
	Text string `json:"text"`
	// Segments are the utterances, in order; silence gives none.
	Segments []asr.Result `json:"segments"`
	// ProcessingMs is the recognition's wall time (not the upload's or
	// the wait for a turn), and RTF that over the recording's duration.
	ProcessingMs float64 `json:"processing_ms"`
	RTF          float64 `json:"rtf"`
	// Warnings say what the server did with an imperfect upload that it
	// still transcribed, e.g. a file cut short.
	Warnings []string `json:"warnings"`
}

// Query parameters of POST /api/v1/asr.
const (
	paramDigits = "digits"
	paramOneOf  = "one_of"
	paramPhrase = "phrase"
	paramBoost  = "boost"
	paramBeam   = "beam"
	paramVAD    = "vad"
)

// request is what the query asks of the decoder.
type request struct {
	expect asr.Expect
	vad    bool
}

// parseQuery reads the query parameters, answering 400 with every bad one
// named.
func parseQuery(c *gin.Context) (request, bool) {
	req := request{vad: true}
	var fields []problem.FieldError
	bad := func(k, msg string) { fields = append(fields, problem.FieldError{Field: k, Message: msg}) }
	for k, vs := range c.Request.URL.Query() {
		if k == paramPhrase {
			req.expect.Phrases = vs
			continue
		}
		if len(vs) != 1 {
			bad(k, "must be given once")
			continue
		}
		v := vs[0]
		switch k {
		case paramDigits:
			d, err := parseDigits(v)
			if err != nil {
				bad(k, "must be N or MIN-MAX, e.g. 11 or 4-12")
			}
			req.expect.Digits = d
		case paramOneOf:
			for p := range strings.SplitSeq(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					req.expect.OneOf = append(req.expect.OneOf, p)
				}
			}
			if len(req.expect.OneOf) == 0 {
				bad(k, "must list comma-separated phrases")
			}
		case paramBoost:
			f, err := strconv.ParseFloat(v, 32)
			if err != nil {
				bad(k, "must be a number")
			}
			req.expect.Boost = float32(f)
		case paramBeam:
			n, err := strconv.Atoi(v)
			if err != nil {
				bad(k, "must be an integer")
			}
			req.expect.Beam = n
		case paramVAD:
			b, err := strconv.ParseBool(v)
			if err != nil {
				bad(k, "must be true or false")
			}
			req.vad = b
		default:
			bad(k, "unknown parameter")
		}
	}
	if len(fields) > 0 {
		slices.SortFunc(fields, func(x, y problem.FieldError) int { return strings.Compare(x.Field, y.Field) })
		problem.Write(c, problem.BadRequest("invalid query parameters", fields...))
		return req, false
	}
	// The shape is checked here, before the upload is read; whether the
	// model's tokens can spell the phrases is known only to the model.
	if err := req.expect.Validate(); err != nil {
		p := problem.BadRequest(err.Error())
		p.Title = "Unusable expectation"
		problem.Write(c, p)
		return req, false
	}
	return req, true
}

// parseDigits reads "N" or "MIN-MAX".
func parseDigits(s string) (*asr.DigitRange, error) {
	lo, hi, found := strings.Cut(s, "-")
	a, err := strconv.Atoi(strings.TrimSpace(lo))
	if err != nil {
		return nil, err
	}
	b := a
	if found {
		if b, err = strconv.Atoi(strings.TrimSpace(hi)); err != nil {
			return nil, err
		}
	}
	return &asr.DigitRange{Min: a, Max: b}, nil
}

// rawTypes are the media types of a WAV file sent as the whole body.
var rawTypes = []string{"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave", "application/octet-stream"}

func (a *API) transcribe(c *gin.Context) {
	req, ok := parseQuery(c)
	if !ok {
		return
	}
	if a.d.Recognizer == nil {
		a.fail(c, fmt.Errorf("%w: the server has no speech recognition model (docs/asr.md)", asr.ErrNoModel))
		return
	}
	// Inside the handler, a request holds its recording in memory; past
	// MaxPending, waiting would only pile them up.
	select {
	case a.pending <- struct{}{}:
		defer func() { <-a.pending }()
	default:
		a.fail(c, fmt.Errorf("%w: %d requests are in progress", errBusy, a.cfg.MaxPending))
		return
	}
	body := &countingReader{r: cmp.Or[io.Reader](c.Request.Body, http.NoBody)}
	w, err := a.readUpload(c, body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(body.err, &tooLarge):
			// The audio reader may report the cut as a malformed file;
			// the cause is the limit.
			problem.Write(c, problem.PayloadTooLarge(fmt.Sprintf("request body exceeds %d bytes", tooLarge.Limit)))
		case errors.Is(err, audio.ErrNotWAV) && body.n == 0:
			problem.Write(c, problem.BadRequest("request body is empty"))
		default:
			a.fail(c, err)
		}
		return
	}
	if w == nil {
		return // readUpload answered
	}

	var warnings []string
	if w.Truncated {
		warnings = append(warnings, fmt.Sprintf("truncated WAV: the data ends before the %d bytes its header declares; the %.2f s received were transcribed", w.DataSize, w.Duration().Seconds()))
	}
	if w.Clamped {
		warnings = append(warnings, "float samples outside [-1, 1] were clamped")
	}
	opts := asr.TranscribeOptions{Expect: req.expect}
	if req.vad && a.d.VAD != nil {
		opts.Stream.VAD = a.d.VAD
	} else if req.vad {
		warnings = append(warnings, "no VAD model is loaded: the recording was cut every 30 s, not at pauses")
	}

	ctx := c.Request.Context()
	if err := a.turns.acquire(ctx, a.cfg.QueueTimeout); err != nil {
		a.fail(c, err)
		return
	}
	start := time.Now()
	segs, err := a.d.Recognizer.Transcribe(ctx, w.Samples, w.SampleRate, opts)
	took := time.Since(start)
	a.turns.release()
	if err != nil {
		a.fail(c, err)
		return
	}

	out := Transcript{
		Model: a.d.Recognizer.Info().Version, SampleRate: w.SampleRate,
		DurationS: w.Duration().Seconds(), Segments: segs,
		ProcessingMs: float64(took.Microseconds()) / 1000,
		Warnings:     warnings,
	}
	if out.Segments == nil {
		out.Segments = []asr.Result{}
	}
	if out.Warnings == nil {
		out.Warnings = []string{}
	}
	texts := make([]string, len(segs))
	for i, s := range segs {
		texts[i] = s.Text
	}
	out.Text = strings.Join(texts, " ")
	if out.DurationS > 0 {
		out.RTF = took.Seconds() / out.DurationS
	}
	c.JSON(http.StatusOK, out)
}

// readUpload decodes the WAV file from the body, raw or in the multipart
// field "audio". It returns (nil, nil) when it answered the request
// itself.
func (a *API) readUpload(c *gin.Context, body io.Reader) (*audio.WAV, error) {
	decode := func(r io.Reader) (*audio.WAV, error) {
		return audio.DecodeWAV(r, audio.WithMaxDuration(a.cfg.MaxDuration))
	}
	ct := c.GetHeader("Content-Type")
	if ct == "" {
		return decode(body) // curl --data-binary without -H; the decoder sniffs
	}
	mt, params, err := mime.ParseMediaType(ct)
	switch {
	case err != nil:
		problem.Write(c, problem.UnsupportedMediaType("Content-Type "+strconv.Quote(ct)+" cannot be parsed"))
		return nil, nil
	case slices.Contains(rawTypes, mt):
		return decode(body)
	case mt == "multipart/form-data":
		return a.readMultipart(c, body, params["boundary"])
	}
	problem.Write(c, problem.UnsupportedMediaType(fmt.Sprintf(
		"Content-Type must be audio/wav (or audio/x-wav, audio/wave, application/octet-stream) or multipart/form-data with the file in field %q", fieldAudio)))
	return nil, nil
}

// fieldAudio is the multipart form field that carries the file.
const fieldAudio = "audio"

// readMultipart decodes the file in the form field "audio" as it streams
// in: the upload is never buffered whole. Other fields are refused, as the
// JSON routes refuse unknown members: a client that sends its options as
// form fields would otherwise see them silently ignored.
func (a *API) readMultipart(c *gin.Context, body io.Reader, boundary string) (*audio.WAV, error) {
	if boundary == "" {
		problem.Write(c, problem.BadRequest("multipart/form-data without a boundary"))
		return nil, nil
	}
	mr := multipart.NewReader(body, boundary)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			problem.Write(c, problem.BadRequest(fmt.Sprintf("the form has no field %q", fieldAudio),
				problem.FieldError{Field: fieldAudio, Message: "is required"}))
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: multipart body: %w", audio.ErrInvalid, err)
		}
		name := part.FormName()
		if name != fieldAudio {
			_ = part.Close()
			problem.Write(c, problem.BadRequest(fmt.Sprintf("unknown form field %q; query parameters steer the decoder", name),
				problem.FieldError{Field: name, Message: "unknown field"}))
			return nil, nil
		}
		w, err := audio.DecodeWAV(part, audio.WithMaxDuration(a.cfg.MaxDuration))
		_ = part.Close()
		return w, err
	}
}

// countingReader counts what the body gave and keeps its first error
// other than EOF, which decoders may have wrapped or replaced.
type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n += int64(n)
	if err != nil && !errors.Is(err, io.EOF) && r.err == nil {
		r.err = err
	}
	return n, err
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/switchboard-cc/switchboard/nlu"
	"github.com/switchboard-cc/switchboard/nlu/asr"
	"github.com/switchboard-cc/switchboard/nlu/asr/asreval"
)

// evalRow is one line of an evaluation manifest (training/ writes them).
type evalRow struct {
	Audio  string `json:"audio"`
	Text   string `json:"text"`
	Lang   string `json:"lang"`
	Kind   string `json:"kind"`
	Noise  string `json:"noise"`
	Intent string `json:"intent"`
	Digits string `json:"digits"`
}

// evalOut is what one utterance gave.
type evalOut struct {
	row     evalRow
	hyp     string
	slot    string
	matched bool
	audio   time.Duration
	compute time.Duration
	// latency from the estimated end of speech to the Final event, -1
	// when the end could not be estimated.
	latency time.Duration
	// finalCompute is the compute of the call that produced the first
	// Final: the recognizer's share of the latency (the rest is the
	// VAD waiting for silence).
	finalCompute time.Duration
	utterances   int // finals with text: more than one means the VAD split the recording
	// With --realtime: how long after each packet's arrival its
	// processing ended.
	delays []time.Duration
	err    error
}

func newASREval(g *globals) *cobra.Command {
	var f speechFlags
	var manifest, out string
	var limit, parallel int
	var packet, tail time.Duration
	var digitGrammar, intents, realtime bool
	cmd := &cobra.Command{
		Use:   "eval --manifest FILE.jsonl [flags]",
		Short: "Benchmark the recognizer on a labelled set: CER/WER, intents, digits, speed, latency",
		Long: `Run every recording of a manifest (JSON lines with audio, text, lang and
optionally kind, noise, intent, digits; training/ writes them) through the
streaming recognizer exactly as a call would: 20 ms packets, the VAD ending
utterances, partial results on. Reports:

  CER (Chinese, per character) and WER (English, per word), overall and by
  kind/noise, and writes {ref,hyp}.{cer,wer}.trn (--out) for sclite;
  with --intents, the NLU intent model's accuracy on the transcripts (and on
  the reference texts, its ceiling);
  with --digits, digit-string accuracy with the digit grammar set to each
  row's length (what an IVR asking for an N-digit number does);
  the real-time factor (compute / audio) and, with --parallel K, the
  aggregate speed of K concurrent streams;
  the latency from the end of speech (estimated from the signal energy;
  --tail of quiet is appended after each recording) to the final result.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			rows, err := readEvalRows(manifest, limit)
			if err != nil {
				return err
			}
			sp, rt, err := f.open(ctx)
			if err != nil {
				return err
			}
			defer rt.Close()
			defer sp.Close()
			var svc *nlu.Service
			if intents {
				if svc, err = nlu.Open(ctx, rt, nlu.Config{Dir: f.modelsDir}, nlu.Deps{}); err != nil {
					return fmt.Errorf("nlu: %w", err)
				}
				defer svc.Close()
			}
			base, err := f.expect()
			if err != nil {
				return err
			}
			bar := progressbar.NewOptions(len(rows), progressbar.OptionSetWriter(cmd.ErrOrStderr()),
				progressbar.OptionSetDescription("asr eval"), progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond))
			results := make([]evalOut, len(rows))
			start := time.Now()
			var wg sync.WaitGroup
			next := make(chan int)
			for range max(1, parallel) {
				wg.Go(func() {
					for i := range next {
						e := base
						if digitGrammar && rows[i].Digits != "" {
							n := len(rows[i].Digits)
							e.Digits = &asr.DigitRange{Min: n, Max: n}
						}
						results[i] = evalOne(ctx, sp, f.streamConfig(sp), rows[i], e, packet, tail, realtime)
						_ = bar.Add(1)
					}
				})
			}
			for i := range rows {
				next <- i
			}
			close(next)
			wg.Wait()
			wall := time.Since(start)
			_ = bar.Finish()
			fmt.Fprintln(cmd.ErrOrStderr())
			return reportEval(ctx, cmd.OutOrStdout(), sp.ASR.Info(), svc, results, wall, max(1, parallel), out)
		},
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&manifest, "manifest", "", "evaluation manifest (JSON lines)")
	fl.StringVar(&out, "out", "", "directory for {ref,hyp}.{cer,wer}.trn and results.jsonl")
	fl.IntVar(&limit, "limit", 0, "evaluate only the first N rows")
	fl.IntVar(&parallel, "parallel", 1, "concurrent streams")
	fl.DurationVar(&packet, "packet", 20*time.Millisecond, "audio per Accept call (an RTP packet)")
	fl.DurationVar(&tail, "tail", time.Second, "quiet appended after each recording, so the VAD can end the utterance")
	fl.BoolVar(&digitGrammar, "digits-grammar", true, "decode rows with a digits field with the digit grammar of their length")
	fl.BoolVar(&intents, "intents", false, "score the NLU intent model on rows with an intent field")
	fl.BoolVar(&realtime, "realtime", false, "pace each stream's packets in real time (with --parallel K: K live calls) and report how late processing ends")
	_ = cmd.MarkFlagRequired("manifest")
	return cmd
}

func readEvalRows(path string, limit int) ([]evalRow, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var rows []evalRow
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var r evalRow
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if r.Audio == "" {
			return nil, fmt.Errorf("%s:%d: no audio", path, n)
		}
		if !filepath.IsAbs(r.Audio) {
			if _, err := os.Stat(r.Audio); err != nil {
				r.Audio = filepath.Join(filepath.Dir(path), r.Audio)
			}
		}
		rows = append(rows, r)
		if limit > 0 && len(rows) == limit {
			break
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no rows", path)
	}
	return rows, nil
}

// evalOne streams one recording in packets and times every call.
func evalOne(ctx context.Context, sp *asr.Speech, cfg asr.StreamConfig, row evalRow, e asr.Expect, packet, tail time.Duration, realtime bool) evalOut {
	o := evalOut{row: row, latency: -1}
	w, err := readWAV(row.Audio, 10*time.Minute)
	if err != nil {
		o.err = err
		return o
	}
	rate := w.SampleRate
	samples := w.Samples
	end := speechEnd(samples, rate)
	samples = append(slices.Clip(samples), quiet(samples, rate, tail)...)
	o.audio = time.Duration(len(samples)) * time.Second / time.Duration(rate)
	cfg.SampleRate, cfg.Expect = rate, e
	st, err := sp.ASR.NewStream(cfg)
	if err != nil {
		o.err = err
		return o
	}
	step := max(1, int(packet.Seconds()*float64(rate)))
	var texts []string
	take := func(evs []asr.Event, fed int, took time.Duration) {
		for _, ev := range evs {
			if ev.Kind != asr.Final {
				continue
			}
			if ev.Result.Text != "" {
				texts = append(texts, ev.Result.Text)
				o.utterances++
			}
			o.slot += ev.Result.Slot
			o.matched = o.matched || ev.Result.GrammarMatched
			if o.latency < 0 && end >= 0 && fed >= end {
				// audio that had to arrive after the end of speech, plus
				// the compute of the call that produced the result
				o.latency = time.Duration(fed-end)*time.Second/time.Duration(rate) + took
				o.finalCompute = took
			}
		}
	}
	begin := time.Now()
	for off := 0; off < len(samples); off += step {
		hi := min(len(samples), off+step)
		var due time.Time
		if realtime {
			// the packet is complete when its last sample has arrived
			due = begin.Add(time.Duration(hi) * time.Second / time.Duration(rate))
			time.Sleep(time.Until(due))
		}
		t0 := time.Now()
		evs, err := st.Accept(ctx, samples[off:hi])
		took := time.Since(t0)
		if realtime {
			o.delays = append(o.delays, time.Since(due))
		}
		o.compute += took
		if err != nil {
			o.err = err
			return o
		}
		take(evs, hi, took)
	}
	t0 := time.Now()
	evs, err := st.Finish(ctx)
	took := time.Since(t0)
	o.compute += took
	if err != nil {
		o.err = err
		return o
	}
	take(evs, len(samples), took)
	o.hyp = strings.Join(texts, " ")
	return o
}

// speechEnd estimates where speech ends: the last 10 ms frame whose
// energy is within reach of the loud frames, measured against the
// recording's own noise floor (its quietest frames), so additive noise
// does not count as speech. -1 when the recording is too short or flat.
func speechEnd(x []float32, rate int) int {
	fl := rate / 100
	if fl == 0 || len(x) < 10*fl {
		return -1
	}
	db := frameEnergy(x, fl)
	for i, e := range db {
		db[i] = 10 * math.Log10(e+1e-12)
	}
	sorted := slices.Clone(db)
	sort.Float64s(sorted)
	floor, peak := sorted[len(sorted)/10], sorted[len(sorted)*99/100]
	if peak-floor < 6 {
		return -1
	}
	th := floor + 0.3*(peak-floor)
	for i := len(db) - 1; i >= 0; i-- {
		if db[i] > th {
			return (i + 1) * fl
		}
	}
	return -1
}

// frameEnergy is the mean square of each whole frame of fl samples.
func frameEnergy(x []float32, fl int) []float64 {
	out := make([]float64, 0, len(x)/fl)
	for i := 0; i+fl <= len(x); i += fl {
		var e float64
		for _, v := range x[i : i+fl] {
			e += float64(v) * float64(v)
		}
		out = append(out, e/float64(fl))
	}
	return out
}

// quiet returns d of white noise at the level of the recording's quietest
// tenth: the line after the caller stops talking, not digital silence.
func quiet(x []float32, rate int, d time.Duration) []float32 {
	n := int(d.Seconds() * float64(rate))
	if n <= 0 {
		return nil
	}
	level := 0.0
	if ms := frameEnergy(x, max(1, rate/100)); len(ms) > 0 {
		sort.Float64s(ms)
		level = math.Sqrt(ms[len(ms)/10])
	}
	out := make([]float32, n)
	seed := uint32(2463534242)
	for i := range out {
		// xorshift: deterministic, and no shared RNG between workers
		seed ^= seed << 13
		seed ^= seed >> 17
		seed ^= seed << 5
		u := float64(seed)/float64(math.MaxUint32)*2 - 1
		out[i] = float32(u * level * math.Sqrt(3))
	}
	return out
}

// group accumulates error counts per key.
type group map[string]*asreval.Counts

func (g group) add(key string, c asreval.Counts) {
	if g[key] == nil {
		g[key] = &asreval.Counts{}
	}
	g[key].Add(c)
}

func (g group) print(w io.Writer, title string) {
	keys := make([]string, 0, len(g))
	for k := range g {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %-28s %s\n", title+"="+k, g[k])
	}
}

func reportEval(ctx context.Context, w io.Writer, info asr.Info, svc *nlu.Service, rs []evalOut, wall time.Duration, parallel int, outDir string) error {
	// One pair of trn files per scoring unit, so sclite's error rate on
	// each pair is directly our CER (zh) or WER (en).
	var res *os.File
	trn := map[string][2]*os.File{}
	if outDir != "" {
		if err := os.MkdirAll(outDir, 0o755); err != nil {
			return err
		}
		var err error
		for _, unit := range []string{"cer", "wer"} {
			var pair [2]*os.File
			for i, side := range []string{"ref", "hyp"} {
				if pair[i], err = os.Create(filepath.Join(outDir, side+"."+unit+".trn")); err != nil {
					return err
				}
				defer pair[i].Close()
			}
			trn[unit] = pair
		}
		if res, err = os.Create(filepath.Join(outDir, "results.jsonl")); err != nil {
			return err
		}
		defer res.Close()
	}
	cer, wer := group{}, group{}
	var zh, en asreval.Counts
	var audio, compute time.Duration
	var lat, fin, delays []time.Duration
	var failed, digitsN, digitsOK, intentN, intentOK, intentRefOK int
	for i, r := range rs {
		if r.err != nil {
			failed++
			fmt.Fprintf(w, "error: %s: %v\n", r.row.Audio, r.err)
			continue
		}
		audio += r.audio
		compute += r.compute
		delays = append(delays, r.delays...)
		if r.latency >= 0 {
			lat = append(lat, r.latency)
			fin = append(fin, r.finalCompute)
		}
		ru, hu := asreval.Units(r.row.Text), asreval.Units(r.hyp)
		c := asreval.Align(ru, hu)
		// Chinese rows are scored per character, English per word; mixed
		// rows per unit (characters and words), counted under CER.
		unit := "cer"
		if r.row.Lang == "en" {
			unit = "wer"
			en.Add(c)
			wer.add("kind", c)
			wer.add(r.row.Kind, c)
			wer.add("noise:"+r.row.Noise, c)
		} else {
			zh.Add(c)
			cer.add(r.row.Kind, c)
			cer.add("noise:"+r.row.Noise, c)
		}
		id := fmt.Sprintf("utt%05d", i)
		if res != nil {
			if err := errors.Join(asreval.WriteTrn(trn[unit][0], ru, id), asreval.WriteTrn(trn[unit][1], hu, id)); err != nil {
				return err
			}
			line, _ := json.Marshal(map[string]any{"id": id, "audio": r.row.Audio, "ref": r.row.Text, "hyp": r.hyp, "slot": r.slot, "utterances": r.utterances, "latency_ms": r.latency.Milliseconds()})
			fmt.Fprintf(res, "%s\n", line)
		}
		if r.row.Digits != "" {
			digitsN++
			if r.slot == r.row.Digits {
				digitsOK++
			}
		}
		if svc != nil && r.row.Intent != "" {
			intentN++
			if got, err := svc.Intent(ctx, r.hyp); err == nil && got.Label == r.row.Intent {
				intentOK++
			}
			if got, err := svc.Intent(ctx, r.row.Text); err == nil && got.Label == r.row.Intent {
				intentRefOK++
			}
		}
	}
	fmt.Fprintf(w, "model %s (%s), %d utterances, %.1f min of audio, %d failed\n", info.Version, info.Dir, len(rs), audio.Minutes(), failed)
	if zh.Ref > 0 {
		fmt.Fprintf(w, "CER (zh and mixed, per character): %s\n", zh)
		delete(cer, "kind")
		cer.print(w, "cer")
	}
	if en.Ref > 0 {
		fmt.Fprintf(w, "WER (en, per word): %s\n", en)
		delete(wer, "kind")
		wer.print(w, "wer")
	}
	if digitsN > 0 {
		fmt.Fprintf(w, "digit strings exactly right: %d/%d = %.2f%%\n", digitsOK, digitsN, 100*float64(digitsOK)/float64(digitsN))
	}
	if intentN > 0 {
		fmt.Fprintf(w, "intent accuracy from audio (ASR -> NLU): %d/%d = %.2f%%; on the reference texts: %.2f%%\n",
			intentOK, intentN, 100*float64(intentOK)/float64(intentN), 100*float64(intentRefOK)/float64(intentN))
	}
	if audio > 0 {
		fmt.Fprintf(w, "real-time factor (compute/audio, %d stream(s) at once): %.4f; aggregate %.1fx real time over %v wall\n",
			parallel, compute.Seconds()/audio.Seconds(), audio.Seconds()/wall.Seconds(), wall.Round(time.Millisecond))
	}
	if len(lat) > 0 {
		q := func(d []time.Duration, p float64) time.Duration {
			return d[min(len(d)-1, int(p*float64(len(d))))].Round(100 * time.Microsecond)
		}
		slices.Sort(lat)
		slices.Sort(fin)
		fmt.Fprintf(w, "end of speech -> final result (%d utterances): p50 %v, p95 %v, max %v\n",
			len(lat), q(lat, 0.5), q(lat, 0.95), q(lat, 1))
		fmt.Fprintf(w, "  of which recognizer compute after the VAD's end of speech: p50 %v, p95 %v, max %v\n",
			q(fin, 0.5), q(fin, 0.95), q(fin, 1))
	}
	if len(delays) > 0 {
		slices.Sort(delays)
		late := 0
		for _, d := range delays {
			if d > 20*time.Millisecond { // the next packet is already due
				late++
			}
		}
		q := func(p float64) time.Duration {
			return delays[min(len(delays)-1, int(p*float64(len(delays))))].Round(10 * time.Microsecond)
		}
		fmt.Fprintf(w, "real time, %d live streams: packet done after arrival p50 %v, p99 %v, max %v; %d of %d packets (%.3f%%) not done before the next one arrived\n",
			parallel, q(0.5), q(0.99), q(1), late, len(delays), 100*float64(late)/float64(len(delays)))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d recordings failed", failed, len(rs))
	}
	return nil
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboard-cc/switchboard/nlu/asr"
	"github.com/switchboard-cc/switchboard/nlu/audio"
	"github.com/switchboard-cc/switchboard/nlu/ort"
	"github.com/switchboard-cc/switchboard/nlu/vad"
)

func newASR(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "asr",
		Short: "Speech recognition on recordings (see docs/asr.md)",
	}
	cmd.AddCommand(newASRTranscribe(g), newASREval(g))
	return cmd
}

// speechFlags are the flags of every command that loads the speech models.
type speechFlags struct {
	modelsDir, asrDir, vadDir, ortLib string
	noVAD                             bool
	threads                           int
	// expectation
	phrases []string
	oneOf   string
	digits  string
	boost   float32
	beam    int
	// endpointing
	minSilence time.Duration
	preRoll    time.Duration
}

func (f *speechFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.modelsDir, "models-dir", env("SWITCHBOARD_MODELS_DIR", "models"), "models directory whose manifest.json names the asr and vad versions (env SWITCHBOARD_MODELS_DIR)")
	fl.StringVar(&f.asrDir, "model", "", "ASR model directory (overrides the manifest), e.g. a sherpa-onnx zipformer CTC model")
	fl.StringVar(&f.vadDir, "vad-model", "", "VAD model directory (overrides the manifest)")
	fl.BoolVar(&f.noVAD, "no-vad", false, "do not split at pauses; the recording is cut every 30 s instead")
	fl.StringVar(&f.ortLib, "onnxruntime-lib", ort.LibraryFromEnv(), "ONNX Runtime 1.24 shared library (env ONNXRUNTIME_LIB)")
	fl.IntVar(&f.threads, "threads", 1, "ONNX Runtime intra-op threads per model")
	fl.StringArrayVar(&f.phrases, "phrase", nil, "phrase to favour (repeatable), e.g. an intent phrase or a name")
	fl.Float32Var(&f.boost, "boost", 0, "bonus per token of a --phrase, in nats (0: the default 1.5)")
	fl.StringVar(&f.oneOf, "one-of", "", "grammar: the answer is one of these comma-separated phrases")
	fl.StringVar(&f.digits, "digits", "", "grammar: a digit string of N or MIN-MAX digits, e.g. 11 or 4-12")
	fl.IntVar(&f.beam, "beam", 0, "beam width (1: greedy; 0: the default 8)")
	fl.DurationVar(&f.minSilence, "min-silence", vad.DefaultConfig().MinSilence, "silence that ends an utterance (the VAD's hangover)")
	fl.DurationVar(&f.preRoll, "pre-roll", 0, "audio before the VAD's start of speech kept in the utterance (0: the default)")
}

// streamConfig is the stream configuration the flags describe.
func (f *speechFlags) streamConfig(sp *asr.Speech) asr.StreamConfig {
	c := asr.StreamConfig{VAD: sp.VAD, PreRoll: f.preRoll}
	if sp.VAD != nil {
		c.VADConfig = vad.DefaultConfig()
		c.VADConfig.MinSilence = f.minSilence
	}
	return c
}

func (f *speechFlags) expect() (asr.Expect, error) {
	e := asr.Expect{Phrases: f.phrases, Boost: f.boost, Beam: f.beam}
	if f.oneOf != "" {
		for _, p := range strings.Split(f.oneOf, ",") {
			if p = strings.TrimSpace(p); p != "" {
				e.OneOf = append(e.OneOf, p)
			}
		}
	}
	if f.digits != "" {
		d, err := parseDigits(f.digits)
		if err != nil {
			return e, err
		}
		e.Digits = d
	}
	return e, e.Validate()
}

// parseDigits reads "N" or "MIN-MAX".
func parseDigits(s string) (*asr.DigitRange, error) {
	lo, hi, found := strings.Cut(s, "-")
	a, err1 := strconv.Atoi(strings.TrimSpace(lo))
	b := a
	var err2 error
	if found {
		b, err2 = strconv.Atoi(strings.TrimSpace(hi))
	}
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("--digits %q: want N or MIN-MAX", s)
	}
	return &asr.DigitRange{Min: a, Max: b}, nil
}

func (f *speechFlags) open(ctx context.Context) (*asr.Speech, *ort.Runtime, error) {
	if f.ortLib == "" {
		return nil, nil, errors.New("the ONNX Runtime library was not found: set --onnxruntime-lib or ONNXRUNTIME_LIB (make setup downloads it to .cache/onnxruntime/)")
	}
	rt, err := ort.Open(ort.Options{LibraryPath: f.ortLib, IntraOpThreads: f.threads})
	if err != nil {
		return nil, nil, fmt.Errorf("onnx runtime %s: %w", f.ortLib, err)
	}
	sp, err := asr.Open(ctx, rt, asr.OpenOptions{ModelsDir: f.modelsDir, ASRDir: f.asrDir, VADDir: f.vadDir, NoVAD: f.noVAD, Threads: f.threads})
	if err != nil {
		_ = rt.Close()
		return nil, nil, err
	}
	return sp, rt, nil
}

// readWAV decodes a WAV file, bounded to maxDur.
func readWAV(path string, maxDur time.Duration) (*audio.WAV, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	w, err := audio.DecodeWAV(fh, audio.WithMaxDuration(maxDur))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return w, nil
}

// transcriptLine is one utterance of `asr transcribe --json`.
type transcriptLine struct {
	File string `json:"file"`
	asr.Result
}

func newASRTranscribe(g *globals) *cobra.Command {
	var f speechFlags
	var asJSON bool
	var maxDur time.Duration
	cmd := &cobra.Command{
		Use:   "transcribe [flags] FILE.wav...",
		Short: "Transcribe WAV recordings (voicemail, calls) with the ASR model",
		Long: `Transcribe WAV files (PCM 8-32 bit, float, G.711 µ-law/A-law; any rate,
resampled to the model's; channels are mixed down). The VAD splits each
recording at pauses; each utterance is printed as

  FILE  START-END  TEXT

or, with --json, one JSON object per utterance with word times and
confidences. --phrase, --one-of and --digits steer the decoder the way an
IVR node does.`,
		Example: `  switchboard asr transcribe voicemail.wav
  switchboard asr transcribe --digits 11 --json phone-number.wav
  switchboard asr transcribe --one-of "是的,不是,yes,no" answer.wav`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			e, err := f.expect()
			if err != nil {
				return err
			}
			sp, rt, err := f.open(ctx)
			if err != nil {
				return err
			}
			defer rt.Close()
			defer sp.Close()
			out := cmd.OutOrStdout()
			enc := json.NewEncoder(out)
			enc.SetEscapeHTML(false)
			var failed []string
			for _, path := range args {
				w, err := readWAV(path, maxDur)
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "switchboard: %v\n", err)
					failed = append(failed, path)
					continue
				}
				rs, err := sp.ASR.Transcribe(ctx, w.Samples, w.SampleRate, asr.TranscribeOptions{
					Expect: e, Stream: f.streamConfig(sp),
				})
				if err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				for _, r := range rs {
					if asJSON {
						if err := enc.Encode(transcriptLine{File: path, Result: r}); err != nil {
							return err
						}
						continue
					}
					text := r.Text
					if e.Digits != nil || e.OneOf != nil {
						if r.GrammarMatched {
							text += "  [" + r.Slot + "]"
						} else {
							text += "  [no match]"
						}
					}
					fmt.Fprintf(out, "%s\t%.2f-%.2f\t%s\n", path, r.Start.Seconds(), r.End.Seconds(), text)
				}
			}
			if len(failed) > 0 {
				return fmt.Errorf("%d of %d files could not be read", len(failed), len(args))
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON lines with word times and confidences")
	cmd.Flags().DurationVar(&maxDur, "max-duration", 4*time.Hour, "refuse recordings longer than this")
	return cmd
}

package asr

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-cc/switchboard/nlu/ort"
	"github.com/switchboard-cc/switchboard/nlu/ort/orttest"
)

func loadTiny(t *testing.T) (*Model, *ort.Runtime) {
	t.Helper()
	rt := orttest.Runtime(t)
	m, err := Load(context.Background(), rt, "testdata/tiny", LoadOptions{Threads: 1})
	if err != nil {
		t.Fatalf("Load(tiny): %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m, rt
}

func TestLoadReadsContract(t *testing.T) {
	m, _ := loadTiny(t)
	info := m.Info()
	if info.SampleRate != 8000 || info.FeatDim != 80 || info.Subsampling != 4 || info.BlankID != 0 {
		t.Errorf("info = %+v", info)
	}
	if !info.Streamable() || info.LeftContext <= 0 || info.RightContext <= 0 {
		t.Errorf("tiny declares its receptive field; got left %d right %d", info.LeftContext, info.RightContext)
	}
	if info.Features.SnipEdges || info.Features.HighFreq != -400 || info.Features.SampleRate != 8000 {
		t.Errorf("features = %+v", info.Features)
	}
	if info.Vocab != m.Vocab().Size() {
		t.Errorf("Vocab %d, tokens %d", info.Vocab, m.Vocab().Size())
	}
}

// TestLoadRefusesBrokenModels loads the broken variants make_models.py
// writes: each must be refused with an error that says what is wrong.
func TestLoadRefusesBrokenModels(t *testing.T) {
	rt := orttest.Runtime(t)
	tests := []struct {
		dir  string
		want string
	}{
		{"bad-featdim", "takes 80 features per frame but the model declares feat_dim 40"},
		{"bad-tokens", "tokens.txt has"},
		{"bad-meta", `subsampling_factor="four" is not an integer`},
		{"bad-corrupt", "model.onnx"},
		{"bad-logits", "not log-softmax"},
		{"missing", "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			m, err := Load(context.Background(), rt, filepath.Join("testdata", tc.dir), LoadOptions{})
			if err == nil {
				m.Close()
				t.Fatal("Load succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if tc.dir != "bad-corrupt" && tc.dir != "missing" && !errors.Is(err, ErrContract) {
				t.Errorf("error %v does not wrap ErrContract", err)
			}
		})
	}
}

type golden struct {
	Frames    int       `json:"frames"`
	Feats     []float32 `json:"feats"`
	LogProbs  []float32 `json:"log_probs"`
	OutFrames int       `json:"out_frames"`
}

// TestEncoderChunksEqualWholeRun: the chunked encoder must give, frame for
// frame, what PyTorch computes over the whole utterance, whatever the
// chunk size and however the frames arrive.
func TestEncoderChunksEqualWholeRun(t *testing.T) {
	m, _ := loadTiny(t)
	b, err := os.ReadFile("testdata/tiny/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	dim := m.Info().FeatDim
	for _, tc := range []struct {
		name      string
		minChunk  int
		arrive    int // frames per push
		streaming bool
	}{
		{"one run", 10000, 10000, true},
		{"chunks of 4", 4, 3, true},
		{"chunks of 32", 32, 7, true},
		{"chunks of 100", 100, 50, true},
		{"re-run without receptive field", 32, 16, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mm := *m
			if !tc.streaming {
				mm.info.LeftContext, mm.info.RightContext = -1, -1
			}
			e := newEncoder(&mm, tc.minChunk)
			var got []float32
			ctx := context.Background()
			for off := 0; off < g.Frames; off += tc.arrive {
				end := min(g.Frames, off+tc.arrive)
				e.feats = append(e.feats, g.Feats[off*dim:end*dim]...)
				e.frames += end - off
				lp, _, restart, err := e.step(ctx, false)
				if err != nil {
					t.Fatal(err)
				}
				if restart {
					got = got[:0]
				}
				got = append(got, lp...)
			}
			lp, _, restart, err := e.step(ctx, true)
			if err != nil {
				t.Fatal(err)
			}
			if restart {
				got = got[:0]
			}
			got = append(got, lp...)
			if len(got) != len(g.LogProbs) {
				t.Fatalf("%d values, want %d (%d frames)", len(got), len(g.LogProbs), g.OutFrames)
			}
			var worst float64
			for i := range got {
				worst = max(worst, math.Abs(float64(got[i]-g.LogProbs[i])))
			}
			// ONNX Runtime against PyTorch in float32, on the rounded
			// golden values: differences are rounding noise, ~1e-5.
			if worst > 2e-4 {
				t.Errorf("max |Go - PyTorch| = %g", worst)
			}
			t.Logf("max |Go - PyTorch| = %.2g", worst)
		})
	}
}

package record_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-cc/switchboard/ivr/record"
	"github.com/switchboard-cc/switchboard/nlu/audio"
)

const frame = 160 // 20 ms at 8 kHz

func newRecorder(t *testing.T, cfg record.Config) *record.Recorder {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = filepath.Join(t.TempDir(), "recordings")
	}
	r, err := record.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// pcm is the float sample that 16-bit PCM stores exactly as v.
func pcm(v int) float32 { return float32(v) / 32768 }

// callerFrame is caller frame k: samples 1, 2, 3, ... counted over the
// whole call (modulo 30000), so order and position are checkable.
func callerFrame(k int) []float32 {
	s := make([]float32, frame)
	for i := range s {
		s[i] = pcm((k*frame+i)%30000 + 1)
	}
	return s
}

// ivrFrame is IVR frame k: samples -1, -2, ... counted over every IVR frame.
func ivrFrame(k int) []float32 {
	s := make([]float32, frame)
	for i := range s {
		s[i] = pcm(-((k*frame+i)%30000 + 1))
	}
	return s
}

// decoded is a recording read back: the project's decoder's view and the
// two channels as stored.
type decoded struct {
	wav         *audio.WAV
	left, right []int
}

func decode(t *testing.T, path string) decoded {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := audio.DecodeWAV(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("DecodeWAV: %v", err)
	}
	if w.Format != audio.FormatPCM || w.Channels != 2 || w.SampleRate != 8000 || w.BitsPerSample != 16 || w.Truncated {
		t.Fatalf("header %+v, truncated %v; want PCM stereo 16-bit 8 kHz, whole", w.WAVHeader, w.Truncated)
	}
	var d decoded
	d.wav = w
	data := b[44:]
	if w.DataSize >= 0 {
		data = data[:w.DataSize]
	}
	for i := 0; i+4 <= len(data); i += 4 {
		d.left = append(d.left, int(int16(binary.LittleEndian.Uint16(data[i:]))))
		d.right = append(d.right, int(int16(binary.LittleEndian.Uint16(data[i+2:]))))
	}
	if len(w.Samples) != len(d.left) {
		t.Fatalf("decoder read %d frames, the data holds %d", len(w.Samples), len(d.left))
	}
	// The decoder mixes down to the channels' mean.
	for i, s := range w.Samples {
		if want := float32(d.left[i]+d.right[i]) / 2 / 32768; s != want {
			t.Fatalf("mono sample %d = %v, want %v", i, s, want)
		}
	}
	return d
}

// TestRoundTrip writes caller and IVR frames in a known order and reads
// the channels back: the IVR's frames sit beside the caller frames that
// followed them, silence elsewhere, and a full queue drops its oldest.
func TestRoundTrip(t *testing.T) {
	rec := newRecorder(t, record.Config{})
	r, err := rec.Start("call-1")
	if err != nil {
		t.Fatal(err)
	}
	// Timeline: caller frames 0-2 alone; IVR frames 0-1 queued, then caller
	// frames 3-5 (IVR in 3 and 4, silence in 5); then 55 IVR frames (2-56)
	// into the 50-frame queue, so 2-6 are dropped, and caller frames 6-59
	// carry IVR 7-56 and then silence.
	wantRight := make([]int, 0, 60*frame)
	silence := func() { wantRight = append(wantRight, make([]int, frame)...) }
	ivr := func(k int) {
		for i := range frame {
			wantRight = append(wantRight, -((k*frame+i)%30000 + 1))
		}
	}
	for k := range 3 {
		r.Caller(callerFrame(k))
		silence()
	}
	r.IVR(ivrFrame(0))
	r.IVR(ivrFrame(1))
	for k := 3; k < 6; k++ {
		r.Caller(callerFrame(k))
	}
	ivr(0)
	ivr(1)
	silence()
	for k := 2; k < 57; k++ {
		r.IVR(ivrFrame(k))
	}
	for k := 6; k < 60; k++ {
		r.Caller(callerFrame(k))
	}
	for k := 7; k < 57; k++ {
		ivr(k)
	}
	for range 4 {
		silence()
	}
	info, err := r.Close()
	if err != nil {
		t.Fatal(err)
	}
	if want := (record.Info{ID: "call-1", Path: info.Path, Seconds: 1.2, Bytes: 44 + 60*frame*4, ModTime: info.ModTime, IVRDropped: 5}); info != want {
		t.Errorf("Close = %+v, want %+v", info, want)
	}
	d := decode(t, info.Path)
	if d.wav.DataSize != 60*frame*4 {
		t.Errorf("DataSize %d, want %d", d.wav.DataSize, 60*frame*4)
	}
	for i := range d.left {
		if want := i%30000 + 1; d.left[i] != want {
			t.Fatalf("caller sample %d = %d, want %d", i, d.left[i], want)
		}
		if d.right[i] != wantRight[i] {
			t.Fatalf("IVR sample %d (caller frame %d) = %d, want %d", i, i/frame, d.right[i], wantRight[i])
		}
	}
	if len(d.left) != 60*frame {
		t.Errorf("%d frames, want %d", len(d.left), 60*frame)
	}

	// Close again: the same answer; audio after Close is dropped.
	r.Caller(callerFrame(0))
	if again, err := r.Close(); err != nil || again != info {
		t.Errorf("second Close = %+v, %v; want %+v, nil", again, err, info)
	}
	if st, err := os.Stat(info.Path); err != nil || st.Size() != info.Bytes || st.Mode().Perm() != 0o600 {
		t.Errorf("file after Close: %v, %v; want %d bytes, mode 0600", st, err, info.Bytes)
	}

	// Open finds it and reports the same.
	f, got, err := rec.Open("call-1")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got.ID != info.ID || got.Path != info.Path || got.Seconds != info.Seconds || got.Bytes != info.Bytes || !got.ModTime.Equal(info.ModTime) {
		t.Errorf("Open = %+v, want %+v", got, info)
	}
}

// TestConcurrent feeds the two sides from two goroutines, as the SIP layer
// does (run it with -race): the caller's channel is exactly what was sent,
// and the IVR's holds its frames in order, whole except where the queue
// dropped one.
func TestConcurrent(t *testing.T) {
	const callerFrames, ivrFrames = 500, 150
	r, err := newRecorder(t, record.Config{}).Start("concurrent")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for k := range callerFrames {
			r.Caller(callerFrame(k))
		}
	})
	wg.Go(func() {
		for k := range ivrFrames {
			r.IVR(ivrFrame(k))
			if k%10 == 0 {
				time.Sleep(time.Millisecond) // let the caller's side run
			}
		}
	})
	wg.Wait()
	// Drain the queue, so every frame not dropped is in the recording.
	for k := callerFrames; k < callerFrames+record.IVRQueueFrames; k++ {
		r.Caller(callerFrame(k))
	}
	info, err := r.Close()
	if err != nil {
		t.Fatal(err)
	}
	d := decode(t, info.Path)
	if want := (callerFrames + record.IVRQueueFrames) * frame; len(d.left) != want {
		t.Fatalf("%d frames, want %d", len(d.left), want)
	}
	for i, v := range d.left {
		if want := i%30000 + 1; v != want {
			t.Fatalf("caller sample %d = %d, want %d", i, v, want)
		}
	}
	// IVR samples are -1, -2, ...: in the recording they must only ever
	// go on by one, or skip (a dropped frame), never go back.
	last, recorded := 0, 0
	for i, v := range d.right {
		if v == 0 {
			continue
		}
		idx := -v - 1
		if idx <= last && recorded > 0 {
			t.Fatalf("IVR sample %d: index %d after %d", i, idx, last)
		}
		last = idx
		recorded++
	}
	// Every frame not dropped is there whole; a dropped one may have been
	// partly recorded before it was dropped.
	if kept := (ivrFrames - info.IVRDropped) * frame; recorded < kept || recorded >= kept+info.IVRDropped*frame+1 {
		t.Errorf("%d IVR samples recorded with %d frames dropped, want %d to %d", recorded, info.IVRDropped, kept, kept+info.IVRDropped*frame)
	}
}

// TestNeverClosed reads recordings whose writer died: before its first
// write and after several seconds. Both decode and Open finds them.
func TestNeverClosed(t *testing.T) {
	rec := newRecorder(t, record.Config{})
	early, err := rec.Start("early")
	if err != nil {
		t.Fatal(err)
	}
	late, err := rec.Start("late")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = early.Close(); _, _ = late.Close() })
	early.Caller(callerFrame(0))
	for k := range 200 { // 4 s
		late.IVR(ivrFrame(k))
		late.Caller(callerFrame(k))
	}
	for _, tc := range []struct {
		id       string
		min, max int // frames readable
	}{
		{"early", 0, 0},              // only the header reached the file
		{"late", 3 * 8000, 4 * 8000}, // all but the buffered last second
	} {
		f, info, err := rec.Open(tc.id)
		if err != nil {
			t.Fatalf("Open(%s): %v", tc.id, err)
		}
		_ = f.Close()
		d := decode(t, info.Path)
		if n := len(d.left); n < tc.min || n > tc.max || info.Seconds != float64(n)/8000 {
			t.Errorf("%s: %d frames, Open says %v s; want %d to %d frames", tc.id, n, info.Seconds, tc.min, tc.max)
		}
		for i := range d.left {
			if d.left[i] != i%30000+1 || d.right[i] != -(i%30000+1) {
				t.Fatalf("%s: frame %d = (%d, %d)", tc.id, i, d.left[i], d.right[i])
			}
		}
	}
}

func TestIDs(t *testing.T) {
	rec := newRecorder(t, record.Config{})
	tests := []struct {
		id    string
		valid bool
	}{
		{"0190f6c2-7b1e-7c3a-9d4e-2f6a8b1c3d5e", true},
		{"a", true},
		{"A-z_09", true},
		{"-", true},
		{strings.Repeat("x", 128), true},
		{"", false},
		{strings.Repeat("x", 129), false},
		{".", false},
		{"..", false},
		{"../etc/passwd", false},
		{"a/b", false},
		{`a\b`, false},
		{"a.wav", false},
		{"a b", false},
		{"a\x00b", false},
		{"é", false},
		{"%2e%2e", false},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			if got := record.ValidID(tc.id); got != tc.valid {
				t.Fatalf("ValidID = %v, want %v", got, tc.valid)
			}
			r, err := rec.Start(tc.id)
			if !tc.valid {
				if !errors.Is(err, record.ErrInvalidID) {
					t.Errorf("Start: %v, want ErrInvalidID", err)
				}
				if _, _, err := rec.Open(tc.id); !errors.Is(err, record.ErrNotFound) || !errors.Is(err, record.ErrInvalidID) {
					t.Errorf("Open: %v, want ErrNotFound and ErrInvalidID", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			info, err := r.Close()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := rec.Start(tc.id); !errors.Is(err, record.ErrExists) {
				t.Errorf("second Start: %v, want ErrExists", err)
			}
			f, _, err := rec.Open(tc.id)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			_ = f.Close()
			if filepath.Base(info.Path) != tc.id+".wav" {
				t.Errorf("path %s", info.Path)
			}
		})
	}
	if _, _, err := rec.Open("never-recorded"); !errors.Is(err, record.ErrNotFound) || errors.Is(err, record.ErrInvalidID) {
		t.Errorf("Open(never-recorded): %v, want ErrNotFound only", err)
	}
}

// TestSweep ages recordings with Chtimes and sweeps them.
func TestSweep(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name      string
		retention time.Duration
		ages      map[string]time.Duration // recording → age
		gone      []string
	}{
		{"keeps forever without retention", 0, map[string]time.Duration{"a": 1000 * time.Hour}, nil},
		{"expires the old", 24 * time.Hour,
			map[string]time.Duration{"old": 48 * time.Hour, "just-old": 24*time.Hour + time.Minute, "young": 23 * time.Hour, "new": 0},
			[]string{"old", "just-old"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "rec")
			rec := newRecorder(t, record.Config{Dir: dir, Retention: tc.retention})
			for id, age := range tc.ages {
				r, err := rec.Start(id)
				if err != nil {
					t.Fatal(err)
				}
				info, err := r.Close()
				if err != nil {
					t.Fatal(err)
				}
				if err := os.Chtimes(info.Path, now.Add(-age), now.Add(-age)); err != nil {
					t.Fatal(err)
				}
			}
			// Files that are not recordings stay, however old.
			stray := filepath.Join(dir, "notes.txt")
			if err := os.WriteFile(stray, []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			_ = os.Chtimes(stray, now.Add(-1000*time.Hour), now.Add(-1000*time.Hour))

			n, err := rec.Sweep(context.Background())
			if err != nil || n != len(tc.gone) {
				t.Fatalf("Sweep = %d, %v; want %d", n, err, len(tc.gone))
			}
			for id := range tc.ages {
				f, _, err := rec.Open(id)
				gone := errors.Is(err, record.ErrNotFound)
				if want := contains(tc.gone, id); gone != want {
					t.Errorf("%s: gone %v, want %v (%v)", id, gone, want, err)
				}
				if f != nil {
					_ = f.Close()
				}
			}
			if _, err := os.Stat(stray); err != nil {
				t.Errorf("stray file: %v", err)
			}
		})
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestRun sweeps at start and returns nil when its context ends.
func TestRun(t *testing.T) {
	rec := newRecorder(t, record.Config{Retention: time.Hour, SweepEvery: 10 * time.Millisecond})
	r, err := rec.Start("old")
	if err != nil {
		t.Fatal(err)
	}
	info, err := r.Close()
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(info.Path, old, old); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rec.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(info.Path); errors.Is(err, os.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run did not delete the expired recording")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
}

func TestNewMakesPrivateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "recordings")
	newRecorder(t, record.Config{Dir: dir})
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("%v, %v; want a 0700 directory", st, err)
	}
	if _, err := record.New(record.Config{}, nil); err == nil {
		t.Error("New without Dir succeeded")
	}
	if _, err := record.New(record.Config{Dir: dir, Retention: -time.Second}, nil); err == nil {
		t.Error("New with negative Retention succeeded")
	}
}

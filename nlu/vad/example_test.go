package vad_test

import (
	"context"
	"fmt"
	"log"
	"path/filepath"
	"time"

	"github.com/switchboard-cc/switchboard/nlu/ort"
	"github.com/switchboard-cc/switchboard/nlu/vad"
)

// One Model per process, one Stream per call, fed 20 ms RTP packets.
func Example() {
	rt, err := ort.Open(ort.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer rt.Close()
	m, err := vad.Load(rt, filepath.Join("models", "vad", vad.DefaultVersion), 1)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	cfg := vad.DefaultConfig() // 8 kHz
	cfg.MinSilence = 500 * time.Millisecond
	s, err := m.NewStream(cfg)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	packet := make([]float32, 160) // decoded G.711, in [-1, 1]
	events, err := s.Accept(ctx, packet)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range events {
		fmt.Println(e.Kind, e.Offset) // e.g. SpeechStart 1.2s: stop the prompt
	}
	if s.Probability() > 0.9 && s.Speaking() {
		fmt.Println("caller is talking")
	}
}

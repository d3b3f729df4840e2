package audio_test

import (
	"fmt"

	"github.com/switchboard-cc/switchboard/nlu/audio"
)

// Features of a call's audio as it arrives: µ-law RTP payloads decoded into
// one reused buffer, fed to a streaming extractor with the model's options.
func ExampleOnlineFbank() {
	fb, err := audio.NewOnlineFbank(audio.DefaultFbankOptions(8000))
	if err != nil {
		panic(err)
	}
	payload := make([]byte, 160) // 20 ms of PCMU
	for i := range payload {
		payload[i] = audio.LinearToULaw(int16(1000 * (i%16 - 8)))
	}
	var samples, frames []float32
	for range 50 { // one second of packets
		samples = audio.DecodeULaw(samples[:0], payload)
		fb.Accept(samples)
		frames = fb.Pop(frames)
	}
	fmt.Println("before Finish:", len(frames)/fb.Dim(), "frames")
	fb.Finish()
	frames = fb.Pop(frames)
	fmt.Println("after Finish:", len(frames)/fb.Dim(), "frames of", fb.Dim())
	// Output:
	// before Finish: 99 frames
	// after Finish: 100 frames of 80
}

package media_test

import (
	"fmt"
	"time"

	"github.com/switchboard-cc/switchboard/ivr/media"
)

// A packetizer's output fed to a receiver: 20 ms frames in, 20 ms frames
// out after the jitter-buffer depth, and one digit per RFC 4733 event.
func Example() {
	tx, _ := media.NewPacketizer(media.SenderConfig{PayloadType: 0, Codec: media.PCMU, EventPayloadType: 101})
	rx, _ := media.NewReceiver(media.Config{}) // PCMU, PCMA, telephone-event/101, 60 ms depth
	now := time.Now()
	frame := make([]float32, media.FrameSamples)
	played := 0
	for range 10 {
		pkt, _ := tx.Packet(frame)
		_ = rx.Receive(pkt, now)
		if !rx.Pull().Concealed {
			played++
		}
		now = now.Add(media.FrameDuration)
	}
	events, _ := tx.DTMF('#', 120*time.Millisecond, 10)
	for _, pkt := range events {
		_ = rx.Receive(pkt, now)
	}
	for _, d := range rx.Digits(nil, now) {
		fmt.Printf("digit %c held %v\n", d.Key, d.Duration)
	}
	fmt.Println("frames played:", played)
	// Output:
	// digit # held 120ms
	// frames played: 8
}

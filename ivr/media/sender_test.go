package media

import (
	"bytes"
	"testing"
	"time"

	"github.com/pion/rtp"
)

func TestPacketizerRoundTrip(t *testing.T) {
	rnd := bytes.NewReader([]byte{0xde, 0xad, 0xbe, 0xef, 0xff, 0xfe, 0xff, 0xff, 0xff, 0x00}) // sequence and timestamp about to wrap
	p, err := NewPacketizer(SenderConfig{PayloadType: 8, Codec: PCMA, EventPayloadType: 101, Rand: rnd})
	if err != nil {
		t.Fatal(err)
	}
	if p.SSRC() != 0xdeadbeef {
		t.Fatalf("ssrc = %#x", p.SSRC())
	}
	r, _ := NewReceiver(Config{})
	now := t0
	var markers []bool
	send := func(b []byte) {
		t.Helper()
		var pkt rtp.Packet
		if err := pkt.Unmarshal(b); err != nil {
			t.Fatal(err)
		}
		markers = append(markers, pkt.Marker)
		if err := r.Receive(b, now); err != nil {
			t.Fatal(err)
		}
		now = now.Add(FrameDuration)
	}
	frame := make([]float32, FrameSamples)
	for i := range frame {
		frame[i] = frameLevel(2)
	}
	for range 4 {
		b, err := p.Packet(frame)
		if err != nil {
			t.Fatal(err)
		}
		send(b)
		r.Pull()
	}
	pkts, err := p.DTMF('9', 100*time.Millisecond, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkts) != 7 { // 5 updates (the last is the first end) + 2 more ends
		t.Fatalf("%d DTMF packets", len(pkts))
	}
	for _, b := range pkts {
		send(b)
	}
	p.Silence(time.Second)
	b, _ := p.Packet(frame)
	send(b)

	wantMarkers := []bool{true, false, false, false, true, false, false, false, false, false, false, true}
	for i := range wantMarkers {
		if markers[i] != wantMarkers[i] {
			t.Fatalf("markers = %v, want %v", markers, wantMarkers)
		}
	}
	got := r.Digits(nil, now)
	if len(got) != 1 || got[0].Key != '9' || got[0].Duration != 100*time.Millisecond {
		t.Fatalf("digits = %+v", got)
	}
	if st := r.Stats(); st.Received != 12 || st.Lost != 0 || st.Invalid != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestPacketizerErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  SenderConfig
		key  byte
		d    time.Duration
	}{
		{"bad key", SenderConfig{Codec: PCMU, EventPayloadType: 101}, 'x', 100 * time.Millisecond},
		{"no event PT", SenderConfig{Codec: PCMU}, '1', 100 * time.Millisecond},
		{"too short", SenderConfig{Codec: PCMU, EventPayloadType: 101}, '1', 10 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPacketizer(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.DTMF(tt.key, tt.d, 10); err == nil {
				t.Fatal("no error")
			}
		})
	}
	if _, err := NewPacketizer(SenderConfig{Codec: TelephoneEvent}); err == nil {
		t.Fatal("telephone-event accepted as audio codec")
	}
}

// TestInbandYieldsToRFC4733 sends the same key in-band and then as RFC 4733
// events: once events are seen, in-band detection stops for the call.
func TestInbandYieldsToRFC4733(t *testing.T) {
	p, _ := NewPacketizer(SenderConfig{PayloadType: 0, Codec: PCMU, EventPayloadType: 101})
	r, _ := NewReceiver(Config{})
	now := t0
	feed := func(sig []float32) {
		for i := 0; i+FrameSamples <= len(sig); i += FrameSamples {
			b, _ := p.Packet(sig[i : i+FrameSamples])
			if err := r.Receive(b, now); err != nil {
				t.Fatal(err)
			}
			r.Pull()
			now = now.Add(FrameDuration)
		}
	}
	gap := make([]float32, 8*FrameSamples)
	feed(append(dualTone('4', 100*time.Millisecond, 0.25), gap...))
	if got := keysOf(r.Digits(nil, now)); got != "4" {
		t.Fatalf("in-band digits = %q, want 4", got)
	}
	pkts, _ := p.DTMF('6', 100*time.Millisecond, 10)
	for _, b := range pkts {
		if err := r.Receive(b, now); err != nil {
			t.Fatal(err)
		}
	}
	// The gateway also leaves the tone in the audio: it must not count twice.
	feed(append(dualTone('6', 100*time.Millisecond, 0.25), gap...))
	if got := keysOf(r.Digits(nil, now)); got != "6" {
		t.Fatalf("digits = %q, want 6 once", got)
	}
}

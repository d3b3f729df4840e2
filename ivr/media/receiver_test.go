package media

import (
	"encoding/binary"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/switchboard-cc/switchboard/nlu/audio"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func mkpkt(t testing.TB, seq uint16, ts, ssrc uint32, pt uint8, payload []byte) []byte {
	t.Helper()
	b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc}, Payload: payload}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// frameLevel is the constant sample value of test frame n; distinct levels
// let a test tell which packet a pulled frame came from.
func frameLevel(n int) float32 { return 0.01 * float32(n+1) }

func framePayload(n, samples int) []byte {
	pcm := make([]float32, samples)
	for i := range pcm {
		pcm[i] = frameLevel(n)
	}
	return audio.EncodeULaw(nil, pcm)
}

// frameID names a pulled frame: "c" for concealment, else the packet index.
func frameID(f Frame) string {
	if f.Concealed {
		return "c"
	}
	for n := range 64 {
		ref := audio.DecodeULaw(nil, framePayload(n, 1))[0]
		if f.Samples[0] == ref && f.Samples[FrameSamples-1] == ref {
			return strconv.Itoa(n)
		}
	}
	return "?"
}

func TestJitterBuffer(t *testing.T) {
	tests := []struct {
		name   string
		seq    uint16 // sequence number of packet 0
		ts     uint32 // timestamp of packet 0
		script string // rN receives packet N, p pulls
		want   string // pulled frames
		stats  Stats
	}{
		{"in order", 100, 1000, "r0 p r1 p r2 p r3 p r4 p p p p", "c c 0 1 2 3 4 c",
			Stats{Received: 5, Concealed: 3}},
		{"reorder", 100, 1000, "r0 r1 r2 p r4 r3 p p p p", "0 1 2 3 4",
			Stats{Received: 5, Reordered: 1}},
		{"reorder before start", 100, 1000, "r1 r0 r2 p p p", "0 1 2",
			Stats{Received: 3, Reordered: 1}},
		{"loss", 100, 1000, "r0 r1 r2 p r4 p p p p", "0 1 2 c 4",
			Stats{Received: 4, Lost: 1, Concealed: 1}},
		{"duplicate", 100, 1000, "r0 r1 r1 r2 p r2 p p", "0 1 2",
			Stats{Received: 3, Duplicate: 2}},
		{"late", 100, 1000, "r0 r1 r2 p p p p r3 r4 p", "0 1 2 c 4",
			Stats{Received: 5, Late: 1, Reordered: 0, Concealed: 1}},
		{"overflow", 100, 1000, "r0 r1 r2 r3 r4 r5 r6 r7 r8 r9 p p p p p p p", "4 5 6 7 8 9 c",
			Stats{Received: 10, Overflow: 4, Concealed: 1}},
		{"sequence wrap", 65533, 1000, "r0 r1 r2 p r4 p r3 p p p", "0 1 2 3 4",
			Stats{Received: 5, Reordered: 1}},
		{"timestamp wrap", 7, math.MaxUint32 - 200, "r0 r1 r2 p p r3 r5 p p p p", "0 1 2 3 c 5",
			Stats{Received: 5, Lost: 1, Concealed: 1}},
		{"both wrap with loss", 65535, math.MaxUint32 - 159, "r0 r1 r2 p r3 p p r5 p p p", "0 1 2 3 c 5",
			Stats{Received: 5, Lost: 1, Concealed: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReceiver(Config{DisableInband: true})
			if err != nil {
				t.Fatal(err)
			}
			now := t0
			var got []string
			for _, op := range strings.Fields(tt.script) {
				now = now.Add(5 * time.Millisecond)
				if op == "p" {
					got = append(got, frameID(r.Pull()))
					continue
				}
				n, _ := strconv.Atoi(op[1:])
				pkt := mkpkt(t, tt.seq+uint16(n), tt.ts+uint32(n*FrameSamples), 42, 0, framePayload(n, FrameSamples))
				_ = r.Receive(pkt, now)
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("frames = %q, want %q", g, tt.want)
			}
			st := r.Stats()
			st.Jitter = 0
			if st != tt.stats {
				t.Errorf("stats = %+v, want %+v", st, tt.stats)
			}
			if !r.LastPacket().After(t0) {
				t.Errorf("LastPacket not set")
			}
		})
	}
}

func TestSSRCChange(t *testing.T) {
	r, _ := NewReceiver(Config{DisableInband: true})
	const a, b = 0xaaaa, 0xbbbb
	steps := []struct {
		ssrc    uint32
		seq     uint16
		wantErr error
	}{
		{a, 10, nil}, {a, 11, nil},
		{b, 5000, ErrForeignSSRC}, {b, 5001, ErrForeignSSRC}, // not yet persistent
		{a, 12, nil},
		{b, 5002, ErrForeignSSRC}, {b, 5003, ErrForeignSSRC},
		{b, 5004, nil}, // third in a row: adopted, new sequence space
		{b, 5005, nil},
		{a, 13, ErrForeignSSRC}, // the old source is now the foreign one
	}
	for i, s := range steps {
		err := r.Receive(mkpkt(t, s.seq, uint32(s.seq)*160, s.ssrc, 0, framePayload(0, 160)), t0)
		if !errors.Is(err, s.wantErr) || (s.wantErr == nil && err != nil) {
			t.Fatalf("step %d: err = %v, want %v", i, err, s.wantErr)
		}
	}
	st := r.Stats()
	if st.SSRCChanges != 1 || st.Foreign != 5 || st.Received != 5 || st.Lost != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestSequenceRestart(t *testing.T) {
	r, _ := NewReceiver(Config{DisableInband: true})
	p := func(seq uint16) error {
		return r.Receive(mkpkt(t, seq, uint32(seq)*160, 1, 0, framePayload(0, 160)), t0)
	}
	for _, s := range []uint16{100, 101, 102} {
		if err := p(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := p(40000); !errors.Is(err, ErrSequenceJump) {
		t.Fatalf("jump: %v", err)
	}
	if err := p(40001); err != nil { // continues the jump: a restart
		t.Fatalf("restart: %v", err)
	}
	if err := p(40002); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.SSRCChanges != 1 || st.Lost != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestPtime(t *testing.T) {
	for _, ms := range []int{10, 20, 30, 40} {
		t.Run(strconv.Itoa(ms)+"ms", func(t *testing.T) {
			per := ms * SampleRate / 1000
			sig := make([]float32, 40*FrameSamples)
			for i := range sig {
				sig[i] = 0.3 * float32(math.Sin(2*math.Pi*440*float64(i)/SampleRate))
			}
			enc := audio.EncodeALaw(nil, sig)
			want := audio.DecodeALaw(nil, enc)
			r, _ := NewReceiver(Config{DisableInband: true})
			var got []float32
			sent := 0
			for n := 0; sent < len(enc); n++ {
				// Deliver packets so as to keep about one ptime ahead of playout.
				for sent < len(enc) && sent < (n+4)*FrameSamples {
					if err := r.Receive(mkpkt(t, uint16(sent/per), uint32(sent), 9, 8, enc[sent:sent+per]), t0); err != nil {
						t.Fatal(err)
					}
					sent += per
				}
				if f := r.Pull(); !f.Concealed {
					got = append(got, f.Samples...)
				}
			}
			for f := r.Pull(); !f.Concealed; f = r.Pull() {
				got = append(got, f.Samples...)
			}
			if len(got) != len(want) {
				t.Fatalf("got %d samples, want %d", len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("sample %d = %v, want %v", i, got[i], want[i])
				}
			}
		})
	}
}

func TestConcealmentFade(t *testing.T) {
	r, _ := NewReceiver(Config{DisableInband: true, Depth: 20 * time.Millisecond})
	_ = r.Receive(mkpkt(t, 1, 0, 1, 0, framePayload(5, 160)), t0)
	good := r.Pull().Samples[0]
	var peaks []float32
	for range 5 {
		f := r.Pull()
		peaks = append(peaks, f.Samples[0])
	}
	want := []float32{good, good * 2 / 3, good / 3, 0, 0}
	for i := range want {
		if math.Abs(float64(peaks[i]-want[i])) > 1e-6 {
			t.Fatalf("concealment starts = %v, want %v", peaks, want)
		}
	}
}

func TestMalformed(t *testing.T) {
	good := mkpkt(t, 1, 160, 7, 0, framePayload(0, 160))
	with := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	tests := []struct {
		name string
		pkt  []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"truncated header", good[:11], ErrMalformed},
		{"bad version", with(func(b []byte) []byte { b[0] = 0x40; return b }), ErrMalformed},
		{"version 0", with(func(b []byte) []byte { b[0] = 0x00; return b }), ErrMalformed},
		{"padding lies", with(func(b []byte) []byte { b[0] |= 0x20; b[len(b)-1] = 255; return b }), ErrMalformed},
		{"padding zero", with(func(b []byte) []byte { b[0] |= 0x20; b[len(b)-1] = 0; return b }), ErrMalformed},
		{"padding is whole payload", with(func(b []byte) []byte { b[0] |= 0x20; b[len(b)-1] = 160; return b }), ErrSize},
		{"csrc count overflow", with(func(b []byte) []byte { b[0] |= 0x0f; return b[:40] }), ErrMalformed},
		{"extension length lies", with(func(b []byte) []byte {
			b[0] |= 0x10
			b[12], b[13], b[14], b[15] = 0xbe, 0xde, 0xff, 0xff
			return b
		}), ErrMalformed},
		{"extension header cut", with(func(b []byte) []byte { b[0] |= 0x10; return b[:14] }), ErrMalformed},
		{"unknown payload type", mkpkt(t, 1, 0, 7, 18, []byte{1, 2}), ErrPayloadType},
		{"empty payload", mkpkt(t, 1, 0, 7, 0, nil), ErrSize},
		{"huge payload", mkpkt(t, 1, 0, 7, 0, make([]byte, 1000)), ErrSize},
		{"too big", make([]byte, 2000), ErrSize},
		{"short event", mkpkt(t, 1, 0, 7, 101, []byte{1, 2}), ErrSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := NewReceiver(Config{})
			if err := r.Receive(tt.pkt, t0); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if st := r.Stats(); st.Invalid != 1 || st.Received != 0 {
				t.Errorf("stats = %+v", st)
			}
			if !r.LastPacket().IsZero() {
				t.Errorf("invalid packet updated LastPacket")
			}
		})
	}
}

func TestJitterStat(t *testing.T) {
	r, _ := NewReceiver(Config{DisableInband: true})
	// Arrivals alternate 10 ms early/late around a 20 ms schedule: |D| is 160
	// timestamp units (20 ms) after the first, so J converges towards 160.
	for i := range 200 {
		off := time.Duration(0)
		if i%2 == 1 {
			off = 10 * time.Millisecond
		}
		_ = r.Receive(mkpkt(t, uint16(i), uint32(i*160), 1, 0, framePayload(0, 160)), t0.Add(time.Duration(i)*FrameDuration+off))
		r.Pull()
	}
	if j := r.Stats().Jitter; math.Abs(j-80) > 1 {
		t.Errorf("jitter = %v, want ≈80", j)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"zero value is the defaults", Config{}, true},
		{"defaults", DefaultConfig(), true},
		{"depth 40ms", Config{Depth: 40 * time.Millisecond}, true},
		{"depth not a frame multiple", Config{Depth: 50 * time.Millisecond}, false},
		{"depth too long", Config{Depth: 2 * time.Second}, false},
		{"empty payload map", Config{Payloads: map[uint8]Codec{}}, false},
		{"payload type > 127", Config{Payloads: map[uint8]Codec{200: PCMU}}, false},
		{"unknown codec", Config{Payloads: map[uint8]Codec{0: 9}}, false},
		{"negative ssrc switch", Config{SSRCSwitch: -1}, false},
		{"tiny max packet", Config{MaxPacket: 4}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func FuzzReceive(f *testing.F) {
	f.Add(mkpkt(f, 1, 160, 7, 0, framePayload(0, 160)))
	f.Add(mkpkt(f, 1, 160, 7, 101, []byte{5, 0x8a, 3, 0x20}))
	f.Add(mkpkt(f, 1, 160, 7, 8, []byte{1}))
	f.Add([]byte{0xbf, 0x80, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReceiver(Config{Depth: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		// Feed the bytes as a packet, then as a follow-up to a good stream,
		// so state-dependent paths (wrap, jump, SSRC) are reached too.
		_ = r.Receive(b, t0)
		_ = r.Receive(mkpkt(t, 1, 160, 7, 0, framePayload(0, 160)), t0)
		_ = r.Receive(b, t0.Add(time.Millisecond))
		for range 3 {
			if f := r.Pull(); len(f.Samples) != FrameSamples {
				t.Fatalf("frame of %d samples", len(f.Samples))
			}
		}
		_ = r.Digits(nil, t0.Add(time.Second))
		_ = r.Stats()
	})
}

func BenchmarkReceiveDecode(b *testing.B) {
	r, _ := NewReceiver(Config{DisableInband: true})
	pkt := mkpkt(b, 0, 0, 1, 0, framePayload(3, FrameSamples))
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	for i := 0; b.Loop(); i++ {
		// Rewrite sequence number and timestamp in place: both wrap like a
		// long call's would.
		binary.BigEndian.PutUint16(pkt[2:], uint16(i))
		binary.BigEndian.PutUint32(pkt[4:], uint32(i*FrameSamples))
		if err := r.Receive(pkt, t0); err != nil {
			b.Fatal(err)
		}
		r.Pull()
	}
}

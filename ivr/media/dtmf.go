package media

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Source says how a digit was detected.
type Source uint8

// Digit sources.
const (
	SourceRFC4733 Source = iota + 1 // telephone-event packets
	SourceInband                    // Goertzel detector on the audio
)

// Digit is one DTMF key press.
type Digit struct {
	Key      byte          // '0'-'9', '*', '#', 'A'-'D'
	Duration time.Duration // how long the key was held, as far as known
	Source   Source
}

// eventKeys maps RFC 4733 event codes 0-15 to keys.
const eventKeys = "0123456789*#ABCD"

// eventCode returns the RFC 4733 event code of key.
func eventCode(key byte) (uint8, bool) {
	for i := range len(eventKeys) {
		if eventKeys[i] == key {
			return uint8(i), true
		}
	}
	return 0, false
}

// event is one decoded RFC 4733 payload.
type event struct {
	code     uint8
	end      bool
	volume   uint8
	duration uint16 // in timestamp units
}

func parseEvent(p []byte) (event, error) {
	// Redundant blocks beyond the first (RFC 4733 §2.5.1.5 allows several
	// events per packet only via RFC 2198 redundancy, negotiated separately)
	// are not expected; a payload longer than 4 bytes is read as its first.
	if len(p) < 4 {
		return event{}, fmt.Errorf("%w: telephone-event payload %d bytes", ErrSize, len(p))
	}
	return event{
		code:     p[0],
		end:      p[1]&0x80 != 0,
		volume:   p[1] & 0x3f,
		duration: binary.BigEndian.Uint16(p[2:4]),
	}, nil
}

// eventTracker turns the packet stream of RFC 4733 into one digit per
// event. A sender repeats the start (and update) packets and sends the end
// packet three times, all with the event's start timestamp, so an event is
// identified by its timestamp: the first packet opens it, an end packet
// closes it and emits the digit, and every later packet with that
// timestamp (or an older one) is ignored. An event whose end packets are
// all lost is closed by the next event (a newer timestamp) or by timeout.
type eventTracker struct {
	active   bool
	ts       int64 // extended timestamp of the open (or last closed) event
	closedTS int64
	anyEnded bool
	code     uint8
	duration uint16
	last     time.Time // arrival of the open event's latest packet
}

// eventRestartGap separates retransmissions, which follow the end of an
// event within tens of milliseconds, from a new event that reuses an old
// timestamp.
const eventRestartGap = time.Second

// packet feeds one telephone-event packet and returns a finished digit.
func (t *eventTracker) packet(ts int64, ev event, now time.Time, emit func(Digit)) {
	if t.anyEnded && ts <= t.closedTS {
		if now.Sub(t.last) < eventRestartGap {
			t.last = now
			return // retransmitted end, or a straggler from a finished event
		}
		// Long after the last event, an old timestamp is a sender that
		// restarted its event clock (SIPp's play_dtmf does at each
		// call), not a retransmission: a new event.
		*t = eventTracker{}
	}
	if t.active && ts < t.ts {
		return
	}
	if t.active && ts > t.ts {
		t.finish(emit) // its end packets were lost; the new event ends it
	}
	if !t.active {
		if ev.code >= uint8(len(eventKeys)) {
			// Events 16+ (flash, tones) are not DTMF; remember the
			// timestamp so their retransmissions are ignored too.
			t.anyEnded, t.closedTS = true, ts
			return
		}
		t.active, t.ts, t.code = true, ts, ev.code
	}
	t.duration = max(t.duration, ev.duration)
	t.last = now
	if ev.end {
		t.finish(emit)
	}
}

// expire closes an open event that has gone quiet for timeout.
func (t *eventTracker) expire(now time.Time, timeout time.Duration, emit func(Digit)) {
	if t.active && now.Sub(t.last) >= timeout {
		t.finish(emit)
	}
}

func (t *eventTracker) finish(emit func(Digit)) {
	if !t.active {
		return
	}
	emit(Digit{
		Key:      eventKeys[t.code],
		Duration: time.Duration(t.duration) * time.Second / SampleRate,
		Source:   SourceRFC4733,
	})
	t.active, t.anyEnded, t.closedTS, t.duration = false, true, t.ts, 0
}

// reset forgets timestamps (a new stream has its own clock) after closing
// any open event.
func (t *eventTracker) reset(emit func(Digit)) {
	t.finish(emit)
	*t = eventTracker{}
}

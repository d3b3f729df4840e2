package sdp_test

import (
	"errors"
	"testing"

	psdp "github.com/pion/sdp/v3"

	"github.com/switchboard-cc/switchboard/ivr/sdp"
)

// FuzzNegotiate feeds arbitrary offers: Negotiate must not panic, must fail
// only with our error kinds, and must produce an answer that parses and keeps
// the offer's m-line count.
func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{
		"v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n",
		"v=0\no=- 1 1 IN IP6 ::1\ns=-\nc=IN IP6 ::1\nt=0 0\nm=video 9 RTP/AVP 96\nm=audio 6000 RTP/AVP 97 101\na=rtpmap:97 pcma/8000\na=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16\na=sendonly\n",
		"v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 6000 RTP/AVP 8\r\na=ptime:30\r\na=maxptime:20\r\na=inactive\r\n",
		"v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 6000 RTP/SAVP 0\r\n",
		"",
	} {
		f.Add([]byte(s))
	}
	local := testLocal()
	f.Fuzz(func(t *testing.T, offer []byte) {
		ans, err := sdp.Negotiate(offer, local)
		if err != nil {
			if !errors.Is(err, sdp.ErrMalformed) && !errors.Is(err, sdp.ErrNotAcceptable) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if c := ans.Codec.Name; c != "PCMU" && c != "PCMA" {
			t.Fatalf("chose codec %q", c)
		}
		var off, got psdp.SessionDescription
		if err := got.Unmarshal(ans.SDP); err != nil {
			t.Fatalf("answer does not parse: %v\n%q", err, ans.SDP)
		}
		_ = off.Unmarshal(append(offer, '\n'))
		if len(got.MediaDescriptions) != len(off.MediaDescriptions) {
			t.Fatalf("answer has %d m-lines, offer %d", len(got.MediaDescriptions), len(off.MediaDescriptions))
		}
	})
}

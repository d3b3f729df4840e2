package sdp_test

import (
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	psdp "github.com/pion/sdp/v3"

	"github.com/switchboard-cc/switchboard/ivr/sdp"
)

// crlf turns a readable LF test offer into the CRLF form SIP puts on the wire.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func testLocal() sdp.Local {
	return sdp.Local{
		Addr:    netip.MustParseAddr("192.0.2.1"),
		Port:    30000,
		Session: sdp.NewSession(4242),
	}
}

type want struct {
	media     int
	codec     string
	pt        uint8
	dtmfPT    int // -1: none
	dtmfFmtp  string
	ptime     int
	maxptime  int
	remote    string
	direction sdp.Direction
	hold      bool
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name  string
		offer string
		lf    bool // keep LF line endings instead of CRLF
		want  want
		err   error // ErrNotAcceptable or ErrMalformed
		warn  int   // NotAcceptable.Warning when err is ErrNotAcceptable
	}{
		{
			name: "sipp uac default",
			offer: `v=0
o=user1 53655765 2353687637 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 6000 RTP/AVP 0
a=rtpmap:0 PCMU/8000
`,
			want: want{codec: "PCMU", pt: 0, dtmfPT: -1, ptime: 20, remote: "127.0.0.1:6000"},
		},
		{
			name: "linphone many codecs and dynamic types",
			offer: `v=0
o=alice 2890 1234 IN IP4 192.168.1.20
s=Talk
c=IN IP4 192.168.1.20
t=0 0
a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics
m=audio 7078 RTP/AVP 96 97 98 0 8 18 101 99 100
a=rtpmap:96 opus/48000/2
a=fmtp:96 useinbandfec=1
a=rtpmap:97 speex/16000
a=fmtp:97 vbr=on
a=rtpmap:98 speex/8000
a=fmtp:98 vbr=on
a=fmtp:18 annexb=yes
a=rtpmap:101 telephone-event/48000
a=rtpmap:99 telephone-event/16000
a=rtpmap:100 telephone-event/8000
a=rtcp-fb:* trr-int 1000
a=rtcp-fb:* ccm tmmbr
`,
			want: want{codec: "PCMU", pt: 0, dtmfPT: 100, dtmfFmtp: "0-15", ptime: 20, remote: "192.168.1.20:7078"},
		},
		{
			name: "zoiper PCMA first with flash event",
			offer: `v=0
o=Zoiper 0 0 IN IP4 10.0.0.5
s=Zoiper
c=IN IP4 10.0.0.5
t=0 0
m=audio 8000 RTP/AVP 8 0 3 101
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=sendrecv
a=rtcp-mux
`,
			want: want{codec: "PCMA", pt: 8, dtmfPT: 101, dtmfFmtp: "0-16", ptime: 20, remote: "10.0.0.5:8000"},
		},
		{
			name: "ipv6 with ptime 30",
			offer: `v=0
o=- 1 1 IN IP6 2001:db8::10
s=-
c=IN IP6 2001:db8::10
t=0 0
m=audio 4000 RTP/AVP 0 101
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=ptime:30
`,
			want: want{codec: "PCMU", pt: 0, dtmfPT: 101, dtmfFmtp: "0-15", ptime: 30, remote: "[2001:db8::10]:4000"},
		},
		{
			name: "media-level c= overrides session-level",
			offer: `v=0
o=- 1 1 IN IP4 198.51.100.1
s=-
c=IN IP4 198.51.100.1
t=0 0
m=audio 5004 RTP/AVP 8
c=IN IP4 203.0.113.7
`,
			want: want{codec: "PCMA", pt: 8, dtmfPT: -1, ptime: 20, remote: "203.0.113.7:5004"},
		},
		{
			name: "media-level c= only",
			offer: `v=0
o=- 1 1 IN IP4 198.51.100.1
s=-
t=0 0
m=audio 5004 RTP/AVP 0
c=IN IP4 203.0.113.7
`,
			want: want{codec: "PCMU", pt: 0, dtmfPT: -1, ptime: 20, remote: "203.0.113.7:5004"},
		},
		{
			name: "hold sendonly",
			offer: `v=0
o=user1 53655765 2353687638 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
m=audio 6000 RTP/AVP 0 101
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendonly
`,
			want: want{codec: "PCMU", pt: 0, dtmfPT: 101, dtmfFmtp: "0-15", ptime: 20, remote: "10.0.0.5:6000", direction: sdp.RecvOnly, hold: true},
		},
		{
			name: "hold inactive",
			offer: `v=0
o=user1 53655765 2353687638 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
m=audio 6000 RTP/AVP 8
a=inactive
`,
			want: want{codec: "PCMA", pt: 8, dtmfPT: -1, ptime: 20, remote: "10.0.0.5:6000", direction: sdp.Inactive, hold: true},
		},
		{
			name: "hold rfc2543 c=0.0.0.0",
			offer: `v=0
o=user1 53655765 2353687638 IN IP4 10.0.0.5
s=-
c=IN IP4 0.0.0.0
t=0 0
m=audio 6000 RTP/AVP 0
`,
			want: want{codec: "PCMU", pt: 0, dtmfPT: -1, ptime: 20, remote: "0.0.0.0:6000", direction: sdp.RecvOnly, hold: true},
		},
		{
			name: "hold c=0.0.0.0 and inactive",
			offer: `v=0
o=user1 53655765 2353687638 IN IP4 10.0.0.5
s=-
c=IN IP4 0.0.0.0
t=0 0
m=audio 6000 RTP/AVP 0
a=inactive
`,
			want: want{codec: "PCMU", pt: 0, dtmfPT: -1, ptime: 20, remote: "0.0.0.0:6000", direction: sdp.Inactive, hold: true},
		},
		{
			name: "hold session-level sendonly",
			offer: `v=0
o=- 1 2 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
a=sendonly
m=audio 6000 RTP/AVP 0
`,
			want: want{codec: "PCMU", pt: 0, dtmfPT: -1, ptime: 20, remote: "10.0.0.5:6000", direction: sdp.RecvOnly, hold: true},
		},
		{
			name: "media-level sendrecv overrides session-level sendonly",
			offer: `v=0
o=- 1 2 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
a=sendonly
m=audio 6000 RTP/AVP 0
a=sendrecv
`,
			want: want{codec: "PCMU", pt: 0, dtmfPT: -1, ptime: 20, remote: "10.0.0.5:6000"},
		},
		{
			name: "recvonly offer is not a hold",
			offer: `v=0
o=- 1 2 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
m=audio 6000 RTP/AVP 0
a=recvonly
`,
			want: want{codec: "PCMU", pt: 0, dtmfPT: -1, ptime: 20, remote: "10.0.0.5:6000", direction: sdp.SendOnly},
		},
		{
			name: "video then audio",
			offer: `v=0
o=- 1 1 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
m=video 9078 RTP/AVP 96 97
a=rtpmap:96 H264/90000
a=rtpmap:97 VP8/90000
m=audio 7078 RTP/AVP 0 8
`,
			want: want{media: 1, codec: "PCMU", pt: 0, dtmfPT: -1, ptime: 20, remote: "10.0.0.5:7078"},
		},
		{
			name: "audio then video then audio",
			offer: `v=0
o=- 1 1 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
m=audio 7078 RTP/AVP 8
m=video 9078 RTP/AVP 96
a=rtpmap:96 H264/90000
m=audio 7080 RTP/AVP 0
`,
			want: want{codec: "PCMA", pt: 8, dtmfPT: -1, ptime: 20, remote: "10.0.0.5:7078"},
		},
		{
			name: "disabled first audio, second served",
			offer: `v=0
o=- 1 1 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
m=audio 0 RTP/AVP 0
m=audio 7080 RTP/AVP 8
`,
			want: want{media: 1, codec: "PCMA", pt: 8, dtmfPT: -1, ptime: 20, remote: "10.0.0.5:7080"},
		},
		{
			name: "SRTP with RTP fallback stream",
			offer: `v=0
o=- 1 1 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
m=audio 7078 RTP/SAVP 0
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz
m=audio 7080 RTP/AVP 0
`,
			want: want{media: 1, codec: "PCMU", pt: 0, dtmfPT: -1, ptime: 20, remote: "10.0.0.5:7080"},
		},
		{
			name: "telephone-event on PT 96 before codec",
			offer: `v=0
o=- 1 1 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
m=audio 6000 RTP/AVP 96 8
a=rtpmap:96 telephone-event/8000
a=fmtp:96 0-15
`,
			want: want{codec: "PCMA", pt: 8, dtmfPT: 96, dtmfFmtp: "0-15", ptime: 20, remote: "10.0.0.5:6000"},
		},
		{
			name: "telephone-event on PT 126 listed as 0-11,12-15",
			offer: `v=0
o=- 1 1 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
m=audio 6000 RTP/AVP 0 126
a=rtpmap:126 telephone-event/8000
a=fmtp:126 0-11,12-15
`,
			want: want{codec: "PCMU", pt: 0, dtmfPT: 126, dtmfFmtp: "0-15", ptime: 20, remote: "10.0.0.5:6000"},
		},
		{
			name: "telephone-event without the digits is ignored",
			offer: `v=0
o=- 1 1 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
m=audio 6000 RTP/AVP 0 101
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-11
`,
			want: want{codec: "PCMU", pt: 0, dtmfPT: -1, ptime: 20, remote: "10.0.0.5:6000"},
		},
		{
			name: "dynamic PT without rtpmap is skipped",
			offer: `v=0
o=- 1 1 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
m=audio 6000 RTP/AVP 96 8
`,
			want: want{codec: "PCMA", pt: 8, dtmfPT: -1, ptime: 20, remote: "10.0.0.5:6000"},
		},
		{
			name: "lowercase dynamic pcmu and uppercase TELEPHONE-EVENT",
			offer: `v=0
o=- 1 1 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
m=audio 6000 RTP/AVP 97 110
a=rtpmap:97 pcmu/8000
a=rtpmap:110 TELEPHONE-EVENT/8000
a=fmtp:110 0-15
`,
			want: want{codec: "PCMU", pt: 97, dtmfPT: 110, dtmfFmtp: "0-15", ptime: 20, remote: "10.0.0.5:6000"},
		},
		{
			name: "mixed-case Pcma/8000/1 on static type",
			offer: `v=0
o=- 1 1 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
m=audio 6000 RTP/AVP 8 0
a=rtpmap:8 Pcma/8000/1
`,
			want: want{codec: "PCMA", pt: 8, dtmfPT: -1, ptime: 20, remote: "10.0.0.5:6000"},
		},
		{
			name: "stereo and wideband G.711 are skipped",
			offer: `v=0
o=- 1 1 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
m=audio 6000 RTP/AVP 96 97 8
a=rtpmap:96 PCMU/8000/2
a=rtpmap:97 PCMU/16000
`,
			want: want{codec: "PCMA", pt: 8, dtmfPT: -1, ptime: 20, remote: "10.0.0.5:6000"},
		},
		{
			name: "LF line endings",
			lf:   true,
			offer: `v=0
o=- 1 1 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
m=audio 6000 RTP/AVP 8 0
`,
			want: want{codec: "PCMA", pt: 8, dtmfPT: -1, ptime: 20, remote: "10.0.0.5:6000"},
		},
		{
			name: "final newline trimmed by the SIP stack",
			offer: `v=0
o=- 1 1 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
m=audio 6000 RTP/AVP 0
a=ptime:20`,
			want: want{codec: "PCMU", pt: 0, dtmfPT: -1, ptime: 20, remote: "10.0.0.5:6000"},
		},
		{
			name: "ptime above maxptime is capped",
			offer: `v=0
o=- 1 1 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
m=audio 6000 RTP/AVP 0
a=ptime:40
a=maxptime:30
`,
			want: want{codec: "PCMU", pt: 0, dtmfPT: -1, ptime: 30, maxptime: 30, remote: "10.0.0.5:6000"},
		},
		{
			name: "odd ptime falls back to 20",
			offer: `v=0
o=- 1 1 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
m=audio 6000 RTP/AVP 0
a=ptime:25
`,
			want: want{codec: "PCMU", pt: 0, dtmfPT: -1, ptime: 20, remote: "10.0.0.5:6000"},
		},
		{
			name: "SRTP only",
			offer: `v=0
o=- 1 1 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
m=audio 6000 RTP/SAVP 0 8
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz
`,
			err:  sdp.ErrNotAcceptable,
			warn: sdp.WarnIncompatibleTransport,
		},
		{
			name: "WebRTC-style UDP/TLS/RTP/SAVPF",
			offer: `v=0
o=- 1 1 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
m=audio 6000 UDP/TLS/RTP/SAVPF 111 0
a=rtpmap:111 opus/48000/2
`,
			err:  sdp.ErrNotAcceptable,
			warn: sdp.WarnIncompatibleTransport,
		},
		{
			name: "G.729 only",
			offer: `v=0
o=- 1 1 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
m=audio 6000 RTP/AVP 18 101
a=rtpmap:18 G729/8000
a=fmtp:18 annexb=no
a=rtpmap:101 telephone-event/8000
`,
			err:  sdp.ErrNotAcceptable,
			warn: sdp.WarnIncompatibleMediaFormat,
		},
		{
			name: "opus only",
			offer: `v=0
o=- 1 1 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
m=audio 6000 RTP/AVP 111
a=rtpmap:111 opus/48000/2
`,
			err:  sdp.ErrNotAcceptable,
			warn: sdp.WarnIncompatibleMediaFormat,
		},
		{
			name: "dynamic PT without rtpmap only",
			offer: `v=0
o=- 1 1 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
m=audio 6000 RTP/AVP 96
`,
			err:  sdp.ErrNotAcceptable,
			warn: sdp.WarnIncompatibleMediaFormat,
		},
		{
			name: "port 0 everywhere",
			offer: `v=0
o=- 1 1 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
m=audio 0 RTP/AVP 0
m=video 0 RTP/AVP 96
`,
			err:  sdp.ErrNotAcceptable,
			warn: sdp.WarnMiscellaneous,
		},
		{
			name: "disabled audio then SRTP audio reports SRTP",
			offer: `v=0
o=- 1 1 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
m=audio 0 RTP/AVP 0
m=audio 6000 RTP/SAVP 0
`,
			err:  sdp.ErrNotAcceptable,
			warn: sdp.WarnIncompatibleTransport,
		},
		{
			name: "video only",
			offer: `v=0
o=- 1 1 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
m=video 9078 RTP/AVP 96
a=rtpmap:96 H264/90000
`,
			err:  sdp.ErrNotAcceptable,
			warn: sdp.WarnMediaTypeNotAvailable,
		},
		{
			name: "no media at all",
			offer: `v=0
o=- 1 1 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
`,
			err:  sdp.ErrNotAcceptable,
			warn: sdp.WarnMediaTypeNotAvailable,
		},
		{
			name: "host name in c=",
			offer: `v=0
o=- 1 1 IN IP4 pbx.example.com
s=-
c=IN IP4 pbx.example.com
t=0 0
m=audio 6000 RTP/AVP 0
`,
			err:  sdp.ErrNotAcceptable,
			warn: sdp.WarnIncompatibleNetworkAddress,
		},
		{
			name: "IP4 address type with IPv6 literal",
			offer: `v=0
o=- 1 1 IN IP4 10.0.0.5
s=-
c=IN IP4 2001:db8::1
t=0 0
m=audio 6000 RTP/AVP 0
`,
			err:  sdp.ErrNotAcceptable,
			warn: sdp.WarnIncompatibleNetworkAddress,
		},
		{
			name: "missing c=",
			offer: `v=0
o=- 1 1 IN IP4 10.0.0.5
s=-
t=0 0
m=audio 6000 RTP/AVP 0
`,
			err: sdp.ErrMalformed,
		},
		{
			name:  "not SDP",
			offer: "INVITE sip:bob@example.com SIP/2.0\n",
			err:   sdp.ErrMalformed,
		},
		{
			name:  "empty body",
			offer: "",
			err:   sdp.ErrMalformed,
		},
		{
			name:  "only v=",
			offer: "v=0\n",
			err:   sdp.ErrMalformed,
		},
		{
			name: "bad port",
			offer: `v=0
o=- 1 1 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
m=audio 70000 RTP/AVP 0
`,
			err: sdp.ErrMalformed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offer := tt.offer
			if !tt.lf {
				offer = crlf(offer)
			}
			local := testLocal()
			got, err := sdp.Negotiate([]byte(offer), local)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Negotiate() error = %v, want %v", err, tt.err)
				}
				if tt.err == sdp.ErrNotAcceptable {
					var na *sdp.NotAcceptable
					if !errors.As(err, &na) {
						t.Fatalf("Negotiate() error %T is not *NotAcceptable", err)
					}
					if na.Warning != tt.warn || na.Reason == "" || strings.Contains(na.Reason, `"`) {
						t.Errorf("NotAcceptable = %+v, want warning %d and a quotable reason", na, tt.warn)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Negotiate() error = %v", err)
			}
			checkAnswer(t, offer, local, got, tt.want)
		})
	}
}

// checkAnswer compares the result and round-trips the answer body through
// pion: same m-line count and kinds as the offer, rejected ones on port 0,
// and the served one with exactly the expected lines.
func checkAnswer(t *testing.T, offer string, local sdp.Local, got sdp.Answer, w want) {
	t.Helper()
	if got.Media != w.media || got.Codec.Name != w.codec || got.Codec.PayloadType != w.pt ||
		got.Codec.ClockRate != 8000 || got.PTime != w.ptime || got.MaxPTime != w.maxptime ||
		got.Remote.String() != w.remote || got.Direction != w.direction || got.Hold != w.hold {
		t.Errorf("Negotiate() = media %d %s/%d pt %d ptime %d/%d remote %s %v hold %v,\nwant media %d %s pt %d ptime %d/%d remote %s %v hold %v",
			got.Media, got.Codec.Name, got.Codec.ClockRate, got.Codec.PayloadType, got.PTime, got.MaxPTime, got.Remote, got.Direction, got.Hold,
			w.media, w.codec, w.pt, w.ptime, w.maxptime, w.remote, w.direction, w.hold)
	}
	switch {
	case w.dtmfPT < 0 && got.DTMF != nil:
		t.Errorf("DTMF = %+v, want none", *got.DTMF)
	case w.dtmfPT >= 0 && (got.DTMF == nil || int(got.DTMF.PayloadType) != w.dtmfPT || got.DTMF.Fmtp != w.dtmfFmtp):
		t.Errorf("DTMF = %+v, want pt %d fmtp %q", got.DTMF, w.dtmfPT, w.dtmfFmtp)
	}
	if !strings.HasSuffix(string(got.SDP), "\r\n") || strings.Contains(strings.ReplaceAll(string(got.SDP), "\r\n", ""), "\n") {
		t.Errorf("answer is not CRLF-terminated lines:\n%q", got.SDP)
	}

	var off, ans psdp.SessionDescription
	if err := off.UnmarshalString(offer + "\r\n"); err != nil {
		t.Fatalf("offer does not parse: %v", err)
	}
	if err := ans.Unmarshal(got.SDP); err != nil {
		t.Fatalf("answer does not parse: %v\n%s", err, got.SDP)
	}
	if ans.ConnectionInformation == nil || ans.ConnectionInformation.Address.Address != local.Addr.String() ||
		ans.Origin.UnicastAddress != local.Addr.String() || ans.Origin.SessionID != local.Session.ID() {
		t.Errorf("answer session part = %+v / %+v", ans.Origin, ans.ConnectionInformation)
	}
	if len(ans.MediaDescriptions) != len(off.MediaDescriptions) {
		t.Fatalf("answer has %d m-lines, offer %d", len(ans.MediaDescriptions), len(off.MediaDescriptions))
	}
	for i, md := range ans.MediaDescriptions {
		if md.MediaName.Media != off.MediaDescriptions[i].MediaName.Media {
			t.Errorf("m-line %d is %s, offer has %s", i, md.MediaName.Media, off.MediaDescriptions[i].MediaName.Media)
		}
		if i != w.media {
			if md.MediaName.Port.Value != 0 {
				t.Errorf("m-line %d not rejected: %s", i, md.MediaName)
			}
			continue
		}
		wantM := "audio " + strconv.Itoa(local.Port) + " RTP/AVP " + strconv.Itoa(int(w.pt))
		wantA := []string{"rtpmap:" + strconv.Itoa(int(w.pt)) + " " + w.codec + "/8000"}
		if w.dtmfPT >= 0 {
			pt := strconv.Itoa(w.dtmfPT)
			wantM += " " + pt
			wantA = append(wantA, "rtpmap:"+pt+" telephone-event/8000", "fmtp:"+pt+" "+w.dtmfFmtp)
		}
		wantA = append(wantA, "ptime:"+strconv.Itoa(w.ptime), w.direction.String())
		var gotA []string
		for _, a := range md.Attributes {
			gotA = append(gotA, a.String())
		}
		if md.MediaName.String() != wantM || md.ConnectionInformation != nil || !slices.Equal(gotA, wantA) {
			t.Errorf("served m-line = %s %q, want %s %q", md.MediaName, gotA, wantM, wantA)
		}
	}
}

func TestNegotiateGolden(t *testing.T) {
	offer := crlf(`v=0
o=- 1 1 IN IP4 10.0.0.5
s=-
c=IN IP4 10.0.0.5
t=0 0
m=video 9078 RTP/AVP 96
a=rtpmap:96 H264/90000
m=audio 6000 RTP/AVP 8 0 101
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
`)
	got, err := sdp.Negotiate([]byte(offer), testLocal())
	if err != nil {
		t.Fatal(err)
	}
	want := crlf(`v=0
o=- 4242 4242 IN IP4 192.0.2.1
s=switchboard
c=IN IP4 192.0.2.1
t=0 0
m=video 0 RTP/AVP 96
m=audio 30000 RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=ptime:20
a=sendrecv
`)
	if string(got.SDP) != want {
		t.Errorf("answer:\n%s\nwant:\n%s", got.SDP, want)
	}
}

func TestSessionVersion(t *testing.T) {
	const (
		active = "v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n"
		hold   = "v=0\r\no=- 1 2 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=sendonly\r\n"
	)
	local := testLocal()
	steps := []struct {
		name    string
		offer   string // empty: our own Offer on the same dialog
		version uint64
	}{
		{"initial INVITE", active, 4242},
		{"session refresh, unchanged", active, 4242},
		{"hold re-INVITE", hold, 4243},
		{"hold refresh", hold, 4243},
		{"resume", active, 4244},
		{"our own re-offer", "", 4245},
		{"our own re-offer again", "", 4245},
	}
	for _, s := range steps {
		var body []byte
		if s.offer == "" {
			b, err := sdp.Offer(local)
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			body = b
		} else {
			ans, err := sdp.Negotiate([]byte(s.offer), local)
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			body = ans.SDP
		}
		var d psdp.SessionDescription
		if err := d.Unmarshal(body); err != nil {
			t.Fatalf("%s: answer does not parse: %v", s.name, err)
		}
		if d.Origin.SessionID != 4242 || d.Origin.SessionVersion != s.version || local.Session.Version() != s.version {
			t.Errorf("%s: o= id %d version %d (session %d), want 4242 %d",
				s.name, d.Origin.SessionID, d.Origin.SessionVersion, local.Session.Version(), s.version)
		}
	}
}

func TestOffer(t *testing.T) {
	tests := []struct {
		name  string
		local sdp.Local
		want  string
		err   error
	}{
		{
			name:  "ipv4",
			local: testLocal(),
			want: crlf(`v=0
o=- 4242 4242 IN IP4 192.0.2.1
s=switchboard
c=IN IP4 192.0.2.1
t=0 0
m=audio 30000 RTP/AVP 0 8 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv
`),
		},
		{
			name:  "ipv6",
			local: sdp.Local{Addr: netip.MustParseAddr("2001:db8::1"), Port: 4000, Session: sdp.NewSession(7)},
			want: crlf(`v=0
o=- 7 7 IN IP6 2001:db8::1
s=switchboard
c=IN IP6 2001:db8::1
t=0 0
m=audio 4000 RTP/AVP 0 8 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv
`),
		},
		{name: "no address", local: sdp.Local{Port: 4000}, err: sdp.ErrInvalidLocal},
		{name: "unspecified address", local: sdp.Local{Addr: netip.IPv4Unspecified(), Port: 4000}, err: sdp.ErrInvalidLocal},
		{name: "port 0", local: sdp.Local{Addr: netip.MustParseAddr("192.0.2.1")}, err: sdp.ErrInvalidLocal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sdp.Offer(tt.local)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Offer() error = %v, want %v", err, tt.err)
			}
			if string(got) != tt.want {
				t.Errorf("Offer():\n%s\nwant:\n%s", got, tt.want)
			}
			if tt.err != nil {
				return
			}
			// Our offer must be one we would accept ourselves.
			ans, err := sdp.Negotiate(got, testLocal())
			if err != nil || ans.Codec.Name != "PCMU" || ans.DTMF == nil || ans.DTMF.Fmtp != "0-16" {
				t.Errorf("Negotiate(Offer()) = %+v, %v", ans, err)
			}
		})
	}
}

func TestNegotiateInvalidLocal(t *testing.T) {
	offer := "v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n"
	_, err := sdp.Negotiate([]byte(offer), sdp.Local{Addr: netip.MustParseAddr("192.0.2.1"), Port: 70000})
	if !errors.Is(err, sdp.ErrInvalidLocal) {
		t.Fatalf("Negotiate() error = %v, want ErrInvalidLocal", err)
	}
}

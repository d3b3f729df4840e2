package sip

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"

	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/switchboard-cc/switchboard/ivr/sdp"
)

// FuzzInvite feeds arbitrary bytes through sipgo's parser and, for every
// INVITE it accepts, through our offer handling and response building: no
// input may panic, and every response must be one we mean to send with a
// Warning that cannot break the header.
func FuzzInvite(f *testing.F) {
	for _, body := range []string{offerPCMU, offerG729, "v=0\n", ""} {
		seed := "INVITE sip:ivr@127.0.0.1 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKf\nFrom: <sip:c@127.0.0.1>;tag=a\nTo: <sip:ivr@127.0.0.1>\nCall-ID: f\nCSeq: 1 INVITE\nContact: <sip:c@127.0.0.1:5070>\nContent-Type: application/sdp\nContent-Length: " +
			strconv.Itoa(len(strings.ReplaceAll(body, "\n", "\r\n"))) + "\n\n" + body
		f.Add([]byte(strings.ReplaceAll(seed, "\n", "\r\n")))
	}
	s := &Server{cfg: Config{Addr: "127.0.0.1:0"}.withDefaults()}
	local := sdp.Local{Addr: netip.MustParseAddr("127.0.0.1"), Port: 40002, Session: sdp.NewSession(7)}
	allowed := map[int]bool{200: true, 400: true, 415: true, 488: true, 500: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := sipmsg.NewParser().ParseSIP(data)
		if err != nil {
			return
		}
		req, ok := msg.(*sipmsg.Request)
		if !ok || !req.IsInvite() {
			return
		}
		_ = hasToTag(req)
		_, _ = sipmsg.DialogIDFromRequestUAS(req)
		v := s.judgeOffer(req, local)
		if !allowed[v.status] {
			t.Fatalf("status %d for %q", v.status, data)
		}
		if strings.ContainsAny(v.warning, "\r\n") || strings.Count(v.warning, `"`) > 2 {
			t.Fatalf("unsafe Warning %q", v.warning)
		}
		res := v.response(req)
		if v.status == 200 {
			res = sipmsg.NewSDPResponseFromRequest(req, v.answer.SDP)
		}
		_ = res.String()
	})
}

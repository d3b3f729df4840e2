package sdp_test

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/switchboard-cc/switchboard/ivr/sdp"
)

func ExampleNegotiate() {
	offer := "v=0\r\n" +
		"o=Zoiper 0 0 IN IP4 10.0.0.5\r\n" +
		"s=Zoiper\r\n" +
		"c=IN IP4 10.0.0.5\r\n" +
		"t=0 0\r\n" +
		"m=audio 8000 RTP/AVP 8 0 101\r\n" +
		"a=rtpmap:101 telephone-event/8000\r\n" +
		"a=fmtp:101 0-16\r\n" +
		"a=sendonly\r\n"
	local := sdp.Local{
		Addr:    netip.MustParseAddr("192.0.2.1"),
		Port:    30000,
		Session: sdp.NewSession(1000), // one per dialog
	}
	ans, err := sdp.Negotiate([]byte(offer), local)
	var na *sdp.NotAcceptable
	switch {
	case errors.As(err, &na):
		fmt.Println("488", na.Warning, na.Reason)
	case err != nil:
		fmt.Println("400", err)
	default:
		fmt.Println(ans.Codec.Name, ans.Codec.PayloadType, ans.DTMF.PayloadType, ans.Remote, ans.Direction, ans.Hold)
		fmt.Print(strings.ReplaceAll(string(ans.SDP), "\r\n", "\n")) // CRLF on the wire
	}
	// Output:
	// PCMA 8 101 10.0.0.5:8000 recvonly true
	// v=0
	// o=- 1000 1000 IN IP4 192.0.2.1
	// s=switchboard
	// c=IN IP4 192.0.2.1
	// t=0 0
	// m=audio 30000 RTP/AVP 8 101
	// a=rtpmap:8 PCMA/8000
	// a=rtpmap:101 telephone-event/8000
	// a=fmtp:101 0-16
	// a=ptime:20
	// a=recvonly
}

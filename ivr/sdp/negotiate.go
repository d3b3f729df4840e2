package sdp

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	psdp "github.com/pion/sdp/v3"
)

// Answer is the outcome of a successful negotiation.
type Answer struct {
	// SDP is the answer body, CRLF-terminated lines.
	SDP []byte
	// Media is the index of the offered m-line we accepted; every other
	// m-line is rejected with port 0.
	Media int
	// Codec is the chosen audio codec, with the caller's payload type.
	Codec Codec
	// DTMF is the telephone-event format (RFC 4733), nil if not offered.
	DTMF *Codec
	// PTime is the packetisation interval in milliseconds both sides use.
	PTime int
	// MaxPTime is the caller's a=maxptime in milliseconds, 0 if absent.
	MaxPTime int
	// Remote is where to send RTP. Its address is unspecified (0.0.0.0) on
	// an RFC 2543-style hold.
	Remote netip.AddrPort
	// Direction is our direction in the answer: send RTP only if it is
	// SendRecv or SendOnly.
	Direction Direction
	// Hold reports that the caller put us on hold: a sendonly or inactive
	// offer, or a connection address of 0.0.0.0 / ::.
	Hold bool
}

// Payload-type and packetisation policy.
const (
	defaultPTime = 20
	minPTime     = 10
	maxPTime     = 60 // beyond this G.711 jitter buffers of common phones give up
	clockRate    = 8000
)

// Negotiate answers a caller's SDP offer (RFC 3264 §6). It serves the first
// audio m-line that uses RTP/AVP, has a non-zero port and offers PCMU or PCMA
// at 8 kHz, choosing the codec the caller lists first. Errors are a
// *NotAcceptable (wrapping ErrNotAcceptable), or wrap ErrMalformed or
// ErrInvalidLocal.
func Negotiate(offer []byte, local Local) (Answer, error) {
	if err := local.Validate(); err != nil {
		return Answer{}, err
	}
	desc, err := parse(offer)
	if err != nil {
		return Answer{}, err
	}

	ans, idx, err := choose(desc)
	if err != nil {
		return Answer{}, err
	}
	ans.Media = idx

	sess := sessionFor(local)
	build := func(version uint64) ([]byte, error) {
		return answerDescription(desc, local, sess.id, version, &ans).Marshal()
	}
	body, err := build(sess.version)
	if err != nil {
		return Answer{}, fmt.Errorf("sdp: marshal answer: %w", err)
	}
	if ans.SDP, err = sess.stamp(body, build); err != nil {
		return Answer{}, fmt.Errorf("sdp: marshal answer: %w", err)
	}
	return ans, nil
}

// parse unmarshals offer. pion needs every line, the last included, to end in
// a newline; SIP stacks that trim the body's final CRLF are common enough
// that we add one rather than reply 400.
func parse(offer []byte) (*psdp.SessionDescription, error) {
	// pion accepts an empty input as an empty description; for SIP an INVITE
	// with an SDP content type and no body is a broken request.
	if len(bytes.TrimSpace(offer)) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrMalformed)
	}
	if n := len(offer); n > 0 && offer[n-1] != '\n' {
		offer = append(offer[:n:n], '\r', '\n')
	}
	var desc psdp.SessionDescription
	if err := desc.Unmarshal(offer); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	// pion stops at the end of input without checking that the mandatory
	// lines came. We insist on o= only: missing s= or t= are harmless to us
	// and some embedded phones drop them.
	if desc.Origin.NetworkType == "" {
		return nil, fmt.Errorf("%w: no origin (o=) line", ErrMalformed)
	}
	return &desc, nil
}

// choose picks the m-line to serve and fills in everything but the body.
// When nothing fits it reports the most useful reason: the one of the first
// audio stream that was not merely disabled.
func choose(desc *psdp.SessionDescription) (Answer, int, error) {
	var first *NotAcceptable
	audio := 0
	for i, md := range desc.MediaDescriptions {
		if md.MediaName.Media != "audio" {
			continue
		}
		audio++
		ans, err := serve(desc, md)
		var na *NotAcceptable
		switch {
		case err == nil:
			return ans, i, nil
		case !errors.As(err, &na):
			return Answer{}, 0, err
		case first == nil || first.Warning == WarnMiscellaneous:
			first = na
		}
	}
	if audio == 0 {
		return Answer{}, 0, &NotAcceptable{Reason: "no audio stream offered", Warning: WarnMediaTypeNotAvailable}
	}
	return Answer{}, 0, first
}

// serve negotiates one audio m-line.
func serve(desc *psdp.SessionDescription, md *psdp.MediaDescription) (Answer, error) {
	if md.MediaName.Port.Value == 0 {
		return Answer{}, &NotAcceptable{Reason: "all audio streams are disabled (port 0)", Warning: WarnMiscellaneous}
	}
	if proto := strings.Join(md.MediaName.Protos, "/"); proto != "RTP/AVP" {
		return Answer{}, &NotAcceptable{
			Reason:  "transport " + proto + " not supported, only RTP/AVP",
			Warning: WarnIncompatibleTransport,
		}
	}

	codec, dtmf, ok := pickCodecs(md)
	if !ok {
		return Answer{}, &NotAcceptable{
			Reason:  "no common codec, PCMU/8000 or PCMA/8000 required",
			Warning: WarnIncompatibleMediaFormat,
		}
	}

	addr, err := remoteAddr(desc, md)
	if err != nil {
		return Answer{}, err
	}

	dir := offeredDirection(desc, md)
	ans := Answer{
		Codec:  codec,
		DTMF:   dtmf,
		Remote: netip.AddrPortFrom(addr, uint16(md.MediaName.Port.Value)),
	}
	ans.PTime, ans.MaxPTime = ptimes(md)
	switch {
	case addr.IsUnspecified():
		// RFC 3264 §8.4: the old hold; the caller cannot receive, whatever
		// direction it wrote.
		ans.Hold = true
		ans.Direction = RecvOnly
		if dir == RecvOnly || dir == Inactive {
			ans.Direction = Inactive
		}
	default:
		ans.Hold = dir == SendOnly || dir == Inactive
		ans.Direction = dir.reverse()
	}
	return ans, nil
}

// pickCodecs walks the formats in the caller's order of preference
// (RFC 3264 §5.1) and takes the first G.711 one, plus the first
// telephone-event at the same clock rate, which RFC 4733 §2.1 requires.
func pickCodecs(md *psdp.MediaDescription) (codec Codec, dtmf *Codec, ok bool) {
	rtpmaps, fmtps := formatAttributes(md)
	for _, f := range md.MediaName.Formats {
		pt, err := strconv.ParseUint(f, 10, 7)
		if err != nil {
			continue // not an RTP payload type; ignore as RFC 4566 §5.14 allows
		}
		name, rate, channels, mapped := parseRtpmap(rtpmaps[uint8(pt)])
		if !mapped {
			// Static assignments of RFC 3551 §6; a dynamic type without
			// rtpmap is undefined and skipped.
			switch pt {
			case 0:
				name, rate, channels = "PCMU", clockRate, ""
			case 8:
				name, rate, channels = "PCMA", clockRate, ""
			default:
				continue
			}
		}
		if rate != clockRate || (channels != "" && channels != "1") {
			continue
		}
		switch {
		case !ok && (strings.EqualFold(name, "PCMU") || strings.EqualFold(name, "PCMA")):
			codec = Codec{Name: strings.ToUpper(name), PayloadType: uint8(pt), ClockRate: clockRate}
			ok = true
		case dtmf == nil && strings.EqualFold(name, "telephone-event"):
			if events, usable := dtmfEvents(fmtps[uint8(pt)]); usable {
				dtmf = &Codec{Name: "telephone-event", PayloadType: uint8(pt), ClockRate: clockRate, Fmtp: events}
			}
		}
	}
	return codec, dtmf, ok
}

// formatAttributes indexes a=rtpmap and a=fmtp by payload type; the first
// line for a type wins.
func formatAttributes(md *psdp.MediaDescription) (rtpmaps, fmtps map[uint8]string) {
	rtpmaps, fmtps = map[uint8]string{}, map[uint8]string{}
	for _, a := range md.Attributes {
		var m map[uint8]string
		switch a.Key {
		case "rtpmap":
			m = rtpmaps
		case "fmtp":
			m = fmtps
		default:
			continue
		}
		ptText, rest, _ := strings.Cut(strings.TrimSpace(a.Value), " ")
		pt, err := strconv.ParseUint(ptText, 10, 7)
		if err != nil {
			continue
		}
		if _, dup := m[uint8(pt)]; !dup {
			m[uint8(pt)] = strings.TrimSpace(rest)
		}
	}
	return rtpmaps, fmtps
}

// parseRtpmap splits "<name>/<rate>[/<channels>]".
func parseRtpmap(v string) (name string, rate uint64, channels string, ok bool) {
	parts := strings.Split(v, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" {
		return "", 0, "", false
	}
	rate, err := strconv.ParseUint(parts[1], 10, 32)
	if err != nil {
		return "", 0, "", false
	}
	if len(parts) == 3 {
		channels = parts[2]
	}
	return parts[0], rate, channels, true
}

// dtmfEvents reports whether an offered telephone-event fmtp covers the DTMF
// digits 0-15 and returns what we answer. Without fmtp RFC 4733 §2.4.1
// implies 0-15. Event 16 (flash) is kept when offered because phones that
// send it expect to see it answered.
func dtmfEvents(fmtp string) (string, bool) {
	if fmtp == "" {
		return "0-15", true
	}
	var have [17]bool
	for item := range strings.SplitSeq(fmtp, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(item), "-")
		from, err := strconv.ParseUint(lo, 10, 8)
		if err != nil {
			continue
		}
		to := from
		if isRange {
			if to, err = strconv.ParseUint(hi, 10, 8); err != nil {
				continue
			}
		}
		for e := from; e <= to && e < uint64(len(have)); e++ {
			have[e] = true
		}
	}
	for _, h := range have[:16] {
		if !h {
			return "", false
		}
	}
	if have[16] {
		return "0-16", true
	}
	return "0-15", true
}

// remoteAddr resolves the connection address of md, media level first
// (RFC 4566 §5.7). Only IP literals are usable: resolving names here would
// put DNS latency and failure into the INVITE path.
func remoteAddr(desc *psdp.SessionDescription, md *psdp.MediaDescription) (netip.Addr, error) {
	ci := md.ConnectionInformation
	if ci == nil {
		ci = desc.ConnectionInformation
	}
	if ci == nil || ci.Address == nil {
		return netip.Addr{}, fmt.Errorf("%w: audio stream has no connection address (c=)", ErrMalformed)
	}
	addr, err := netip.ParseAddr(ci.Address.Address)
	if err != nil || addr.Zone() != "" || addr.IsMulticast() ||
		(ci.AddressType == "IP4") != addr.Is4() {
		return netip.Addr{}, &NotAcceptable{
			Reason:  "connection address is not a unicast " + ci.AddressType + " literal",
			Warning: WarnIncompatibleNetworkAddress,
		}
	}
	return addr, nil
}

// offeredDirection reads the direction attribute, media level over session
// level, sendrecv by default (RFC 3264 §5.1).
func offeredDirection(desc *psdp.SessionDescription, md *psdp.MediaDescription) Direction {
	if d, ok := directionOf(md.Attributes); ok {
		return d
	}
	if d, ok := directionOf(desc.Attributes); ok {
		return d
	}
	return SendRecv
}

func directionOf(attrs []psdp.Attribute) (Direction, bool) {
	for _, a := range attrs {
		switch a.Key {
		case "sendrecv":
			return SendRecv, true
		case "sendonly":
			return SendOnly, true
		case "recvonly":
			return RecvOnly, true
		case "inactive":
			return Inactive, true
		}
	}
	return SendRecv, false
}

// ptimes returns the packetisation we use and the caller's maxptime. We
// follow the caller's a=ptime when it is a whole multiple of 10 ms within
// what G.711 phones handle, and never exceed its a=maxptime.
func ptimes(md *psdp.MediaDescription) (ptime, maxptime int) {
	ptime = defaultPTime
	if v, ok := md.Attribute("ptime"); ok {
		if p, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && p >= minPTime && p <= maxPTime && p%10 == 0 {
			ptime = p
		}
	}
	if v, ok := md.Attribute("maxptime"); ok {
		if m, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && m > 0 && m <= 1000 {
			maxptime = m
			if ptime > m {
				ptime = max(minPTime, m-m%10)
			}
		}
	}
	return ptime, maxptime
}

// answerDescription builds the answer: one m-line per offered m-line, in the
// same order (RFC 3264 §6), all but the chosen one rejected with port 0.
func answerDescription(offer *psdp.SessionDescription, local Local, id, version uint64, ans *Answer) *psdp.SessionDescription {
	desc := baseDescription(local, id, version)
	for i, md := range offer.MediaDescriptions {
		if i == ans.Media {
			desc.MediaDescriptions = append(desc.MediaDescriptions,
				audioMedia(local.Port, ans.Direction, ans.PTime, &ans.Codec, ans.DTMF))
			continue
		}
		formats := md.MediaName.Formats
		if len(formats) == 0 {
			formats = []string{"0"} // m= needs at least one format to parse
		}
		desc.MediaDescriptions = append(desc.MediaDescriptions, &psdp.MediaDescription{
			MediaName: psdp.MediaName{
				Media:   md.MediaName.Media,
				Port:    psdp.RangedPort{Value: 0},
				Protos:  md.MediaName.Protos,
				Formats: formats[:1],
			},
		})
	}
	return desc
}

// baseDescription is the session part shared by offers and answers.
func baseDescription(local Local, id, version uint64) *psdp.SessionDescription {
	addrType := "IP4"
	if local.Addr.Is6() && !local.Addr.Is4In6() {
		addrType = "IP6"
	}
	addr := local.Addr.Unmap().String()
	return &psdp.SessionDescription{
		Version: 0,
		Origin: psdp.Origin{
			Username:       "-",
			SessionID:      id,
			SessionVersion: version,
			NetworkType:    "IN",
			AddressType:    addrType,
			UnicastAddress: addr,
		},
		SessionName: "switchboard",
		ConnectionInformation: &psdp.ConnectionInformation{
			NetworkType: "IN",
			AddressType: addrType,
			Address:     &psdp.Address{Address: addr},
		},
		TimeDescriptions: []psdp.TimeDescription{{}},
	}
}

// audioMedia writes our audio m-line. Static payload types get an rtpmap too:
// RFC 4566 does not need it, but some gateways only read rtpmap lines.
func audioMedia(port int, dir Direction, ptime int, codecs ...*Codec) *psdp.MediaDescription {
	md := &psdp.MediaDescription{
		MediaName: psdp.MediaName{
			Media:  "audio",
			Port:   psdp.RangedPort{Value: port},
			Protos: []string{"RTP", "AVP"},
		},
	}
	for _, c := range codecs {
		if c == nil {
			continue
		}
		pt := strconv.Itoa(int(c.PayloadType))
		md.MediaName.Formats = append(md.MediaName.Formats, pt)
		md.Attributes = append(md.Attributes,
			psdp.NewAttribute("rtpmap", pt+" "+c.Name+"/"+strconv.Itoa(int(c.ClockRate))))
		if c.Fmtp != "" {
			md.Attributes = append(md.Attributes, psdp.NewAttribute("fmtp", pt+" "+c.Fmtp))
		}
	}
	md.Attributes = append(md.Attributes,
		psdp.NewAttribute("ptime", strconv.Itoa(ptime)),
		psdp.NewPropertyAttribute(dir.String()))
	return md
}

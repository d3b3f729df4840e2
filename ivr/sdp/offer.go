package sdp

import "fmt"

// Our offer's payload types: the RFC 3551 static ones, and 101 for
// telephone-event because most phones and SBCs default to it, which keeps
// captures readable.
// A function rather than a package variable so no caller can alter it.
func offeredCodecs() []*Codec {
	return []*Codec{
		{Name: "PCMU", PayloadType: 0, ClockRate: clockRate},
		{Name: "PCMA", PayloadType: 8, ClockRate: clockRate},
		{Name: "telephone-event", PayloadType: 101, ClockRate: clockRate, Fmtp: "0-16"},
	}
}

// Offer writes our offer for a new call leg (e.g. the B2BUA leg to an agent):
// one sendrecv audio stream over RTP/AVP with PCMU, PCMA and telephone-event,
// 20 ms packets. Passing the same local.Session for a later offer in the
// dialog bumps the o= version only if the description changed.
func Offer(local Local) ([]byte, error) {
	if err := local.Validate(); err != nil {
		return nil, err
	}
	sess := sessionFor(local)
	build := func(version uint64) ([]byte, error) {
		desc := baseDescription(local, sess.id, version)
		desc.MediaDescriptions = append(desc.MediaDescriptions,
			audioMedia(local.Port, SendRecv, defaultPTime, offeredCodecs()...))
		return desc.Marshal()
	}
	body, err := build(sess.version)
	if err == nil {
		body, err = sess.stamp(body, build)
	}
	if err != nil {
		return nil, fmt.Errorf("sdp: marshal offer: %w", err)
	}
	return body, nil
}

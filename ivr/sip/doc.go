// Package sip provides the SIP user agent server of the voice IVR: it accepts
// calls over UDP and TCP (and TLS when a certificate is configured), answers
// their SDP offers with ivr/sdp against a per-call RTP socket, and hands each
// established call to a CallHandler as a Call that reads and writes 20 ms audio
// frames through ivr/media.
//
// The SIP stack is github.com/emiago/sipgo; its transaction layer absorbs
// retransmissions and answers CANCEL (200 to the CANCEL, 487 to the INVITE),
// so this package only keeps the dialogs of its calls.
//
// Decisions worth knowing:
//   - An INVITE without an SDP offer (offerless, RFC 3261 §13.2.1) is refused
//     with 488 and Warning 399: answering it would mean sending our offer in
//     the 200 and reading the answer from the ACK, and no IVR peer needs that.
//   - A 2xx to a re-INVITE is sent once and not retransmitted until the ACK
//     (RFC 3261 §13.3.1.4); over UDP a lost 200 is recovered only when the
//     caller retransmits its re-INVITE, which is answered again.
//   - RTP is bound on Config.MediaAddr, the address written into our SDP;
//     there is no NAT traversal.
//
// Only cmd/switchboard should import this package; IVR logic implements
// CallHandler and depends on Call.
package sip

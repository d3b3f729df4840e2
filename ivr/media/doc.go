// Package media provides the RTP media plane of one call: a receiver that
// validates, reorders and decodes G.711 RTP into a steady 20 ms cadence of
// 8 kHz float32 frames with DTMF detection (RFC 4733 and in-band), and a
// packetizer for the send side.
//
// The package is transport-agnostic: it works on []byte packets and starts
// no goroutines, so the SIP layer (ivr/sip) owns the UDP sockets and the
// per-call goroutine, and tests need no network. A Receiver and a Packetizer
// are not safe for concurrent use; the call's goroutine owns them.
//
// Typical receive loop (one goroutine per call, bound to the call's ctx):
//
//	rx, _ := media.NewReceiver(cfg)
//	// socket reader:            rx.Receive(pkt, time.Now())
//	// every 20 ms (ticker):     frame := rx.Pull(); asr.Accept(frame.Samples)
//	//                           digits = rx.Digits(digits[:0], time.Now())
//	//                           if time.Since(rx.LastPacket()) > rtpTimeout { hang up }
//
// Because Receive and Pull must not run concurrently, a call layer that reads
// the socket in its own goroutine hands packets to the call goroutine over a
// channel, or guards the Receiver with a mutex.
package media

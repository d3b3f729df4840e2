// Package calls provides the call record: one Elasticsearch document per
// IVR call, saying who called, when, the path the call took through its
// flow, every recognition and key press, how it ended and where its
// recording is. The records feed the IVR dashboards (containment rate,
// average handle time, call volume) and the menu ordering (intent
// frequencies over the last days).
package calls

import "time"

// Outcome is how a call left the IVR.
type Outcome string

// The outcomes. A call that reached a ticket and then a transfer counts as
// transferred (TicketIDs still lists the ticket).
const (
	// SelfServed: the voice bot answered and the caller hung up or said goodbye.
	SelfServed Outcome = "self_served"
	// Ticketed: a ticket was created and the call ended without a transfer.
	Ticketed Outcome = "ticket"
	// Transferred: the call was handed to an agent.
	Transferred Outcome = "transferred"
	// Abandoned: the caller hung up before being served.
	Abandoned Outcome = "abandoned"
	// Failed: the call ended on an error of ours (or an RTP timeout).
	Failed Outcome = "failed"
)

// Record is one call. Texts in it (recognitions, utterances) are stored
// redacted when redaction is configured; the recording is not.
type Record struct {
	ID        string `json:"id"`          // ours, a UUIDv7
	SIPCallID string `json:"sip_call_id"` // the SIP Call-ID
	Caller    string `json:"caller"`      // From URI (redacted number when configured)
	Called    string `json:"called"`      // To URI

	FlowID      string `json:"flow_id"`
	FlowVersion int    `json:"flow_version"`
	Language    string `json:"language"`

	Started time.Time  `json:"started"`         // the call was answered
	Ended   *time.Time `json:"ended,omitempty"` // nil while it is up
	// DurationMS is Ended-Started, the handle time in the IVR.
	DurationMS int64 `json:"duration_ms"`

	Path         []Step        `json:"path"`
	Recognitions []Recognition `json:"recognitions,omitempty"`
	DTMF         []KeyPress    `json:"dtmf,omitempty"`

	Outcome   Outcome       `json:"outcome,omitempty"`
	EndReason string        `json:"end_reason,omitempty"` // caller_hangup, bot_hangup, transferred, rtp_timeout, error
	TicketIDs []string      `json:"ticket_ids,omitempty"`
	Transfer  *Transfer     `json:"transfer,omitempty"`
	Recording *RecordingRef `json:"recording,omitempty"`
	// Redacted says the texts went through redaction before storage.
	Redacted bool `json:"redacted"`
}

// Step is one node the call entered.
type Step struct {
	Node string    `json:"node"`
	Kind string    `json:"kind"`
	At   time.Time `json:"at"`
}

// Recognition is one thing the caller said at an ask.
type Recognition struct {
	Node       string    `json:"node"`
	At         time.Time `json:"at"`
	Text       string    `json:"text"`
	Confidence float64   `json:"confidence"` // ASR
	Intent     string    `json:"intent,omitempty"`
	// IntentConfidence is the NLU model's probability of Intent.
	IntentConfidence float64 `json:"intent_confidence,omitempty"`
	// Slot and Value: what a grammar filled (e.g. order_no = 1234567890).
	Slot  string `json:"slot,omitempty"`
	Value string `json:"value,omitempty"`
	// Result: matched (routed), no_match or no_input.
	Result string `json:"result"`
	// BargeIn: the caller interrupted the prompt (by speech or a key).
	BargeIn bool `json:"barge_in,omitempty"`
	// LatencyMS is from the caller's end of speech to our first response
	// audio packet.
	LatencyMS int64 `json:"latency_ms,omitempty"`
}

// KeyPress is DTMF collected at an ask.
type KeyPress struct {
	Node   string    `json:"node"`
	Digits string    `json:"digits"`
	At     time.Time `json:"at"`
}

// Transfer is where the call was handed.
type Transfer struct {
	Group  string `json:"group"`
	Agent  string `json:"agent,omitempty"`  // agent id
	Target string `json:"target,omitempty"` // SIP URI the caller was sent to
	// Method is refer (the caller's side was told to call the agent).
	Method string `json:"method,omitempty"`
	// Result: accepted, refused, no_agent (queue timed out → callback).
	Result      string `json:"result"`
	QueueWaitMS int64  `json:"queue_wait_ms"`
}

// RecordingRef says where the call's recording is; the audio itself is
// served only through the audited recordings API.
type RecordingRef struct {
	ID      string  `json:"id"`
	URL     string  `json:"url"` // API path, e.g. /api/v1/calls/ID/recording
	Seconds float64 `json:"seconds"`
}

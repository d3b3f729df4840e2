// Package record writes the audio of IVR calls to disk, both directions in
// one file, and keeps the files only as long as the retention setting
// allows.
//
// A recording is a stereo 16-bit PCM WAV file at 8 kHz: the left channel
// is the caller, the right channel the IVR. The caller's side drives the
// timeline: the SIP layer hands every call one received frame every 20 ms
// (concealment or silence when nothing arrived), and each of those frames
// becomes that many stereo sample frames. The IVR sends frames only while
// it plays something, so its frames wait in a short queue and fill the
// right channel beside the caller's samples as they arrive; when nothing is
// queued the right channel is silent. Thus the two channels line up in
// time within the queue's bounds.
//
// Files live under Config.Dir as <shard>/<id>.wav, where the shard is two
// hex digits of a hash of the call ID. The ID's own first characters would
// not spread the files: call IDs are UUIDv7s, whose leading digits are the
// time and change once in decades.
//
// A recording is written under its final name from the start, not under a
// temporary one renamed on Close. The header is rewritten with the true
// sizes each time buffered audio reaches the file, so a recording whose
// process died is a valid WAV file holding everything but the last second,
// with no recovery step, and Open finds every recording, finished, in
// progress or orphaned by a crash, by its call ID alone. Until the first
// write the header carries the streaming writers' placeholder 0xFFFFFFFF
// for both sizes, which readers (nlu/audio, ffmpeg, sox) take as "up to the
// end of the file".
//
// Recordings are unredacted audio: they are served only through the
// audited API in ivr/record/recordapi.
package record

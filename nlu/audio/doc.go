// Package audio is the telephone-audio front end of the IVR's speech
// recognition: it turns what a caller's leg delivers (WAV files, G.711 RTP
// payloads, audio at any common rate) into the Kaldi-compatible log-mel
// filterbank frames the acoustic models of docs/asr.md expect.
//
// It provides four independent pieces:
//
//   - WAV decoding (DecodeWAV, WAVReader) that is defensive about what it is
//     fed: bounded memory, defined results for truncated or lying files,
//     errors that wrap ErrNotWAV, ErrInvalid, ErrUnsupported or ErrTooLong;
//     and EncodeWAV for 16-bit mono output.
//   - ITU-T G.711 µ-law and A-law codecs for RTP payloads.
//   - A Kaiser-windowed sinc rational resampler, one-shot (Resample) or
//     streaming (Resampler) with identical output.
//   - Filterbank features with the exact semantics of
//     torchaudio.compliance.kaldi.fbank, one-shot (Fbank) or streaming
//     (OnlineFbank) with identical output.
//
// Samples are float32 in [-1, 1] throughout. Nothing in the package holds
// global mutable state; every extractor, reader and resampler is owned by one
// goroutine at a time (create one per call).
package audio

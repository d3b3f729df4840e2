// Package asr recognizes speech: telephone audio in, text with word times
// and confidences out, on a CTC acoustic model run by ONNX Runtime
// (nlu/ort) and decoded in Go (nlu/asr/ctc).
//
// A model directory follows docs/asr.md, the contract sherpa-onnx uses for
// icefall zipformer CTC models, so a pretrained model of that family drops
// in; the model shipped in models/asr is trained by training/ on
// synthesised telephone speech. [Load] checks a directory against the
// contract and runs it once before accepting it.
//
// A [Stream] follows one call: samples go through the VAD (nlu/vad),
// which cuts the audio into utterances, the Kaldi filterbank
// (nlu/audio), the model — in chunks when the model declares its receptive
// field, so each frame is computed once and partial results cost little —
// and the decoder, which the listening IVR node steers with an [Expect]:
// phrases to favour, or a grammar (one of some phrases, a digit string)
// the answer must fit. A Final result comes at each end of speech.
// [Model.Transcribe] runs the same path over a whole recording.
package asr

// Package ctc decodes the output of a CTC acoustic model into text, in
// pure Go: it sees only log-probability matrices (T' frames × V tokens,
// the log-softmax the model in nlu/asr computes) and the model's
// tokens.txt (docs/asr.md).
//
// A [Vocab] reads tokens.txt, spells text as token ids ([Vocab.Encode])
// and back ([Vocab.Detokenize]). Two decoders turn frames into a
// [Result] with per-token timestamps and confidences and per-word times:
//
//   - [Greedy], the best path: argmax per frame, repeats collapsed, blanks
//     dropped.
//   - [BeamSearch], CTC prefix beam search, which sums all the alignments
//     of a prefix and can therefore find a text no single path favours;
//     it returns the N best.
//
// Both decode in chunks through a stream (NewStream, Accept, Partial,
// Final), with exactly the result of decoding all frames at once, so the
// recognizer can feed frames as the model produces them.
//
// An IVR node knows what it expects to hear, and beam search uses that in
// two ways. A [Context] (contextual biasing, like sherpa-onnx hotwords)
// adds a bonus to prefixes that spell one of its phrases and takes it back
// when a prefix leaves a phrase half spelled. A [Grammar] is a constraint:
// only prefixes it allows survive, and the result reports whether it is
// complete ([Result.GrammarMatched]) and its normalised value
// ([Result.Slot]). [DigitGrammar] accepts digit strings of a given length
// spoken in Chinese or English; [PhraseGrammar] accepts exactly one of a
// list of phrases. A new slot type is a function that builds an
// [Automaton]; see its documentation.
//
// Decoders, Vocab, Context and the grammars built here are read-only
// after construction and safe for concurrent use; a stream belongs to one
// goroutine.
package ctc

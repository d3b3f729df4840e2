// Package prompt provides the IVR's spoken prompts as 8 kHz mono float32
// audio: text synthesised by espeak-ng (Chinese and English), a disk cache
// of synthesised prompts with an in-memory LRU in front, operator-recorded
// WAV prompts, and a Player that hands a prompt out in 20 ms frames and
// stops it on barge-in.
package prompt

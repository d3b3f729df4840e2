"""The speech-recognition training pipeline: texts, synthesised telephone
speech, features, a compact CTC model, export to the contract in docs/asr.md,
and evaluation. `switchboard-train asr --help` lists the steps."""

#!/usr/bin/env bash
# Writes the speech clips nlu/asr's tests recognize with the shipped model:
# espeak-ng voices the model never trained on (variants m4 and paul are in
# training/'s TEST_VARIANTS), through a telephone channel (300-3400 Hz,
# 8 kHz, G.711 µ-law), as 16-bit WAV. Run from this directory.
set -euo pipefail
say() { # NAME VOICE TEXT
  espeak-ng -v "$2" -s 150 --stdout "$3" |
    sox -q -t wav - -r 8000 -c 1 -t raw -e mu-law -b 8 - sinc 300-3400 |
    sox -q -t raw -r 8000 -c 1 -e mu-law -b 8 - -b 16 -e signed "$1.wav"
}
say zh_digits   cmn+m4    "幺三八零零幺三八零零零"
say en_digits   en-us+paul "four zero nine six"
say zh_refund   cmn+m4    "我要退款"
say zh_yes      cmn+m4    "是的"
say zh_parcel   cmn+f3    "我的快递三天了还没到"

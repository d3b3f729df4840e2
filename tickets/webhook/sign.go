package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Headers of every attempt.
const (
	HeaderEvent     = "X-Switchboard-Event"
	HeaderDelivery  = "X-Switchboard-Delivery"
	HeaderTimestamp = "X-Switchboard-Timestamp"
	HeaderSignature = "X-Switchboard-Signature"
	UserAgent       = "Switchboard-Webhook/1"
)

const sigPrefix = "sha256="

// Sign returns the X-Switchboard-Signature value for body sent at unix time
// ts: "sha256=" and the hex HMAC-SHA256 of ts, ".", body under secret. The
// timestamp is signed with the body so that an old request cannot be
// replayed with a fresh timestamp.
func Sign(secret []byte, ts int64, body []byte) string {
	return sigPrefix + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(strconv.AppendInt(nil, ts, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a received delivery: header is the X-Switchboard-Signature
// value, ts the X-Switchboard-Timestamp value and body the raw request
// body. It fails with ErrStale when ts is more than tolerance away from now
// (tolerance ≤ 0 disables that check) and with ErrSignature when the
// signature is malformed or was not made with secret over exactly ts and
// body.
func Verify(secret []byte, header string, ts int64, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance > 0 {
		skew := now.Sub(time.Unix(ts, 0))
		if skew > tolerance || skew < -tolerance {
			return fmt.Errorf("%w: signed at %d, %s from now", ErrStale, ts, skew.Round(time.Second))
		}
	}
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(header), sigPrefix)
	if !ok {
		return fmt.Errorf("%w: header does not start with %q", ErrSignature, sigPrefix)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: not a hex SHA-256 digest", ErrSignature)
	}
	if !hmac.Equal(got, mac(secret, ts, body)) {
		return ErrSignature
	}
	return nil
}

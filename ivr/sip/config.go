package sip

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"
)

// Config configures a Server. The zero value of a field means its default.
type Config struct {
	// Addr is the host:port the UDP and TCP listeners bind. Port 0 picks a
	// free port (the same one for both). Default "127.0.0.1:5060".
	Addr string
	// MediaAddr is the address written into SDP and bound for RTP. Default:
	// the host of Addr, which must then be a specific address.
	MediaAddr netip.Addr
	// RTPPortMin and RTPPortMax bound the local RTP ports (inclusive). Both
	// zero lets the kernel pick an ephemeral port per call.
	RTPPortMin, RTPPortMax int
	// RTPTimeout ends a call that has received no RTP for this long (unless
	// the caller put it on hold). Default 30 s.
	RTPTimeout time.Duration
	// RingDelay, when positive, sends 180 Ringing and waits this long before
	// the 200 OK; it exists so that CANCEL can be exercised and so that a
	// caller hears ringback. Default 0: answer at once.
	RingDelay time.Duration
	// InviteRate is the sustained number of new INVITEs per second accepted
	// from one source address; InviteBurst is the bucket size. Excess INVITEs
	// get 503 with Retry-After. Defaults 5/s and 20.
	InviteRate  float64
	InviteBurst int
	// RateLimitLogInterval bounds how often rejections from one source are
	// logged. Default 10 s.
	RateLimitLogInterval time.Duration
	// TLSAddr, TLSCertFile and TLSKeyFile, all set, add a SIP over TLS
	// listener. Default: no TLS.
	TLSAddr, TLSCertFile, TLSKeyFile string
	// UserAgent is sent in the User-Agent and Server headers. Default
	// "switchboard".
	UserAgent string
}

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:5060"
	}
	if !c.MediaAddr.IsValid() {
		if host, _, err := net.SplitHostPort(c.Addr); err == nil {
			if a, err := netip.ParseAddr(host); err == nil && !a.IsUnspecified() {
				c.MediaAddr = a
			}
		}
	}
	if c.RTPTimeout == 0 {
		c.RTPTimeout = 30 * time.Second
	}
	if c.InviteRate == 0 {
		c.InviteRate = 5
	}
	if c.InviteBurst == 0 {
		c.InviteBurst = 20
	}
	if c.RateLimitLogInterval == 0 {
		c.RateLimitLogInterval = 10 * time.Second
	}
	if c.UserAgent == "" {
		c.UserAgent = "switchboard"
	}
	return c
}

// Validate reports whether c (after defaults) is usable.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		errs = append(errs, fmt.Errorf("addr %q: %w", c.Addr, err))
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		errs = append(errs, fmt.Errorf("addr %q: bad port", c.Addr))
	} else if _, err := netip.ParseAddr(host); err != nil {
		errs = append(errs, fmt.Errorf("addr %q: host must be an IP address", c.Addr))
	}
	if !c.MediaAddr.IsValid() || c.MediaAddr.IsUnspecified() {
		errs = append(errs, errors.New("media address must be set when addr is unspecified"))
	}
	if c.RTPPortMin < 0 || c.RTPPortMax > 65535 || c.RTPPortMin > c.RTPPortMax ||
		(c.RTPPortMin == 0) != (c.RTPPortMax == 0) {
		errs = append(errs, fmt.Errorf("rtp port range %d-%d invalid", c.RTPPortMin, c.RTPPortMax))
	}
	if c.RTPTimeout < 0 || c.RingDelay < 0 || c.InviteRate < 0 || c.InviteBurst < 0 {
		errs = append(errs, errors.New("durations, rate and burst must not be negative"))
	}
	if c.TLSAddr != "" && (c.TLSCertFile == "" || c.TLSKeyFile == "") {
		errs = append(errs, errors.New("tls addr needs cert and key files"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sip: config: %w", err)
	}
	return nil
}

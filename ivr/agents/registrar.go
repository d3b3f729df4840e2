package agents

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// Registration limits.
const (
	// NonceTTL is how long a challenge's nonce is accepted. A phone that
	// answers later is challenged again with stale=true, which it answers
	// without asking its user.
	NonceTTL = 5 * time.Minute
	// DefaultExpires applies when a REGISTER names no expiry, and
	// MaxExpires caps the expiry a phone asks for, so a phone that
	// vanished stops being the transfer target within the hour.
	DefaultExpires = 3600
	MaxExpires     = 3600
)

// nonceKey signs nonces, so they need no server-side table: a nonce is
// its issue time and an HMAC over it and the realm. The key is random per
// process, so a restart makes outstanding nonces stale (phones retry).
//
// Nonce counts are not tracked: within NonceTTL a captured REGISTER can
// be replayed, which re-registers the same contact the phone registered
// and nothing else.
type nonceKey [32]byte

func (k *nonceKey) mac(realm string, ts []byte) []byte {
	m := hmac.New(sha256.New, k[:])
	m.Write([]byte(realm))
	m.Write([]byte{0})
	m.Write(ts)
	return m.Sum(nil)[:16]
}

func (d *Directory) newNonce() string {
	ts := binary.BigEndian.AppendUint64(nil, uint64(d.now().Unix()))
	return hex.EncodeToString(ts) + hex.EncodeToString(d.nonce.mac(d.cfg.Realm, ts))
}

// checkNonce reports whether nonce is one of ours for this realm, and
// whether it is too old.
func (d *Directory) checkNonce(nonce string) (ours, stale bool) {
	b, err := hex.DecodeString(nonce)
	if err != nil || len(b) != 8+16 {
		return false, false
	}
	if !hmac.Equal(b[8:], d.nonce.mac(d.cfg.Realm, b[:8])) {
		return false, false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(b[:8])), 0)
	age := d.now().Sub(issued)
	return true, age < -time.Minute || age > NonceTTL
}

// ServeRegister answers a REGISTER from an agent's phone (RFC 3261 §10,
// digest per RFC 2617 with MD5 and qop=auth). The To URI's user part is
// the agent id and must be the digest username. A request without valid
// credentials for this realm and a fresh nonce is challenged (401); an
// unknown agent, an agent without a password, or a wrong password is
// refused (403). Success stores the first Contact and its expiry (0
// removes the registration; so does "Contact: *" with Expires 0) and
// answers 200 with the binding. A REGISTER without a Contact queries the
// binding. Registrations live in memory only (see the package doc).
func (d *Directory) ServeRegister(req *sip.Request, tx sip.ServerTransaction) {
	log := d.log.With("component", "registrar", "source", req.Source())
	to := req.To()
	if to == nil {
		d.respond(req, tx, sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Missing To", nil))
		return
	}
	user := to.Address.User
	h := req.GetHeader("Authorization")
	if h == nil {
		d.challenge(req, tx, false)
		return
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil {
		d.respond(req, tx, sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Malformed Authorization", nil))
		return
	}
	if cred.Realm != d.cfg.Realm {
		// Credentials for another realm (a stale configuration on the
		// phone): offer ours.
		d.challenge(req, tx, false)
		return
	}
	switch ours, stale := d.checkNonce(cred.Nonce); {
	case !ours:
		d.challenge(req, tx, false)
		return
	case stale:
		d.challenge(req, tx, true)
		return
	}
	if (cred.Algorithm != "" && !strings.EqualFold(cred.Algorithm, "MD5")) || cred.QOP != "auth" || cred.Userhash {
		d.challenge(req, tx, false)
		return
	}
	if cred.Username != user {
		log.Info("register refused: username is not the To user", "user", user, "username", cred.Username)
		d.respond(req, tx, sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil))
		return
	}
	d.mu.Lock()
	var ha1 string
	if r := d.agents[user]; r != nil {
		ha1 = r.ha1
	}
	d.mu.Unlock()
	if ha1 == "" || !d.responseMatches(cred, ha1) {
		log.Info("register refused: unknown agent or wrong password", "user", user)
		d.respond(req, tx, sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil))
		return
	}

	contact := req.Contact()
	expires := DefaultExpires
	if e := req.GetHeader("Expires"); e != nil {
		if expires, err = strconv.Atoi(strings.TrimSpace(e.Value())); err != nil || expires < 0 {
			d.respond(req, tx, sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Expires", nil))
			return
		}
	}
	if contact != nil {
		if v, ok := contact.Params.Get("expires"); ok {
			if expires, err = strconv.Atoi(v); err != nil || expires < 0 {
				d.respond(req, tx, sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Contact expires", nil))
				return
			}
		}
		if contact.Address.Wildcard && expires != 0 {
			d.respond(req, tx, sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Contact * needs Expires: 0", nil))
			return
		}
	}
	expires = min(expires, MaxExpires)

	d.mu.Lock()
	r := d.agents[user]
	if r == nil { // deleted meanwhile
		d.mu.Unlock()
		d.respond(req, tx, sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil))
		return
	}
	switch {
	case contact == nil: // a query: answer the binding as it is
	case expires == 0 || contact.Address.Wildcard:
		r.Contact, r.Expires = "", time.Time{}
		log.Info("agent unregistered", "agent", user)
	default:
		r.Contact, r.Expires = contact.Address.String(), d.now().Add(time.Duration(expires)*time.Second)
		log.Info("agent registered", "agent", user, "contact", r.Contact, "expires", expires)
	}
	a := d.viewLocked(r)
	d.mu.Unlock()

	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	if a.Contact != "" {
		var u sip.Uri
		if err := sip.ParseUri(a.Contact, &u); err == nil {
			left := max(0, int(a.Expires.Sub(d.now()).Round(time.Second)/time.Second))
			p := sip.NewParams()
			p.Add("expires", strconv.Itoa(left))
			res.AppendHeader(&sip.ContactHeader{Address: u, Params: p})
		}
	}
	d.respond(req, tx, res)
}

// responseMatches recomputes the digest response with the stored HA1, via
// the same library phones' SIP stacks (and sipgo's client) use, and
// compares in constant time.
func (d *Directory) responseMatches(cred *digest.Credentials, ha1 string) bool {
	want, err := digest.Digest(&digest.Challenge{Realm: d.cfg.Realm, Nonce: cred.Nonce, Algorithm: "MD5", QOP: []string{"auth"}}, digest.Options{
		Method: "REGISTER", URI: cred.URI, Username: cred.Username,
		A1: ha1, Cnonce: cred.Cnonce, Count: cred.Nc,
	})
	if err != nil || cred.Cnonce == "" || cred.Nc == 0 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(want.Response), []byte(strings.ToLower(cred.Response))) == 1
}

// challenge answers 401 with a fresh nonce.
func (d *Directory) challenge(req *sip.Request, tx sip.ServerTransaction, stale bool) {
	chal := digest.Challenge{Realm: d.cfg.Realm, Nonce: d.newNonce(), Algorithm: "MD5", QOP: []string{"auth"}, Stale: stale}
	res := sip.NewResponseFromRequest(req, sip.StatusUnauthorized, "Unauthorized", nil)
	res.AppendHeader(sip.NewHeader("WWW-Authenticate", chal.String()))
	d.respond(req, tx, res)
}

func (d *Directory) respond(req *sip.Request, tx sip.ServerTransaction, res *sip.Response) {
	if err := tx.Respond(res); err != nil {
		d.log.Debug("registrar: respond", "source", req.Source(), "status", res.StatusCode, "err", err)
	}
}

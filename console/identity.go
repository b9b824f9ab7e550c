package console

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/httpserver"
	"github.com/rosterhq/roster/token"
)

// A browser may be signed in with several identities at once ("add account"). Each keeps a
// session of its own: the session cookie holds the active identity's token, and the
// accounts cookie holds every signed-in identity's token, so that the user menu can list
// them and switch in one click. API clients are unaffected: one bearer token, one identity.

// Cookies of the console besides the session cookie.
const (
	accountsCookie = "roster_accounts" // the session tokens of every identity signed in here
	langCookie     = "roster_lang"     // the language chosen by a signed-out visitor
)

// maxIdentities bounds the identities of one browser.
const maxIdentities = 5

// identity is one signed-in user of this browser.
type identity struct {
	token string
	actor roster.Actor
	user  roster.User
}

// identify reads the identity a request acts as, and the visitor's language.
func (s *Server) identify(w http.ResponseWriter, r *http.Request) *request {
	rq := &request{}
	if c, err := r.Cookie(accountsCookie); err == nil {
		for _, t := range strings.Fields(c.Value) {
			if token.WellFormed(token.PrefixSession, t) && !slices.Contains(rq.tokens, t) && len(rq.tokens) < maxIdentities {
				rq.tokens = append(rq.tokens, t)
			}
		}
	}
	if c, err := r.Cookie(httpserver.SessionCookie); err == nil && c.Value != "" {
		rq.sawToken = true
		if id := s.authenticate(r, c.Value); id != nil {
			rq.id = id
			if !slices.Contains(rq.tokens, id.token) {
				rq.tokens = append([]string{id.token}, rq.tokens...)
			}
		} else {
			rq.tokens = slices.DeleteFunc(rq.tokens, func(t string) bool { return t == c.Value })
			httpserver.ClearSessionCookie(w, s.https)
			s.setAccounts(w, rq.tokens)
		}
	}
	switch {
	case rq.id != nil && roster.ValidLocale(rq.id.user.Locale):
		rq.loc = rq.id.user.Locale
	default:
		if c, err := r.Cookie(langCookie); err == nil && roster.ValidLocale(c.Value) {
			rq.loc = c.Value
		} else {
			rq.loc = negotiate(r)
		}
	}
	return rq
}

// authenticate returns the identity a session token stands for, or nil.
func (s *Server) authenticate(r *http.Request, tok string) *identity {
	ctx := r.Context()
	actor, err := s.app.Authenticate(ctx, tok, httpserver.ClientIP(ctx), r.UserAgent())
	if err != nil || actor.Kind != roster.ActorUser {
		return nil
	}
	u, err := s.app.Me(ctx, actor)
	if err != nil {
		return nil
	}
	return &identity{token: tok, actor: actor, user: u}
}

// others returns the other identities signed in in this browser, still valid, forgetting
// those whose session ended.
func (s *Server) others(w http.ResponseWriter, r *http.Request, rq *request) []identity {
	var out []identity
	var keep []string
	for _, t := range rq.tokens {
		if rq.id != nil && t == rq.id.token {
			keep = append(keep, t)
			continue
		}
		if id := s.authenticate(r, t); id != nil {
			out = append(out, *id)
			keep = append(keep, t)
		}
	}
	if len(keep) != len(rq.tokens) {
		rq.tokens = keep
		s.setAccounts(w, keep)
	}
	return out
}

// signIn makes a new session the active identity of this browser, keeping the others.
func (s *Server) signIn(w http.ResponseWriter, rq *request, tok string, expires time.Time) {
	rq.tokens = append([]string{tok}, slices.DeleteFunc(rq.tokens, func(t string) bool { return t == tok })...)
	if len(rq.tokens) > maxIdentities {
		rq.tokens = rq.tokens[:maxIdentities]
	}
	httpserver.SetSessionCookie(w, tok, expires, s.https)
	s.setAccounts(w, rq.tokens)
}

// activate makes another signed-in identity the active one.
func (s *Server) activate(w http.ResponseWriter, id identity) {
	httpserver.SetSessionCookie(w, id.token, time.Now().Add(s.app.Config().SessionLifetime), s.https)
}

// setAccounts writes the accounts cookie: HttpOnly, SameSite=Lax, Secure on https, like
// the session cookie.
func (s *Server) setAccounts(w http.ResponseWriter, tokens []string) {
	c := &http.Cookie{Name: accountsCookie, Value: strings.Join(tokens, " "), Path: "/", HttpOnly: true, Secure: s.https,
		SameSite: http.SameSiteLaxMode, Expires: time.Now().Add(s.app.Config().SessionLifetime)}
	if len(tokens) == 0 {
		c.Value, c.MaxAge, c.Expires = "", -1, time.Time{}
	}
	http.SetCookie(w, c)
}

// formToken is the anti-forgery token of the active identity's forms: an HMAC of a fixed
// label keyed by the session token, which only this browser holds (the cookie is
// HttpOnly). It needs no storage, changes with every login, and a page left open under one
// identity cannot post as another.
func formToken(sessionToken string) string {
	m := hmac.New(sha256.New, []byte(sessionToken))
	m.Write([]byte("roster console form"))
	return hex.EncodeToString(m.Sum(nil))
}

// validFormToken reports whether a posted form carries the active identity's token.
func (s *Server) validFormToken(rq *request, got string) bool {
	return rq.id != nil && hmac.Equal([]byte(got), []byte(formToken(rq.id.token)))
}

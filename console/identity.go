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
	"github.com/rosterhq/roster/app"
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

// identify reads who a request acts as, the browser's other identities, and the
// visitor's language. It costs one read whatever the number of identities (and a write when
// the active session's use is recorded): the other identities are listed, never
// authenticated, so that a session left in the background still ends when idle. Tokens of
// sessions that ended are forgotten.
func (s *Server) identify(w http.ResponseWriter, r *http.Request) *request {
	rq := &request{}
	if c, err := r.Cookie(accountsCookie); err == nil {
		for _, t := range strings.Fields(c.Value) {
			if token.WellFormed(token.PrefixSession, t) && !slices.Contains(rq.tokens, t) && len(rq.tokens) < maxIdentities {
				rq.tokens = append(rq.tokens, t)
			}
		}
	}
	var active string
	if c, err := r.Cookie(httpserver.SessionCookie); err == nil && c.Value != "" {
		rq.sawToken, active = true, c.Value
	}
	if active != "" || len(rq.tokens) > 0 {
		ctx := r.Context()
		b, err := s.app.Auth.IdentifyBrowser(ctx, active, rq.tokens, httpserver.ClientIP(ctx), r.UserAgent())
		if err != nil {
			// The database failed, not the visitor: signed out for this request, cookies kept.
			s.log.ErrorContext(ctx, "identify browser", "err", err, "request_id", httpserver.RequestID(ctx))
			rq.tokens = nil
			rq.loc = s.locale(r, rq)
			return rq
		}
		if b.Active != nil {
			rq.id = &identity{token: b.Active.Token, actor: b.Active.Actor, user: b.Active.User}
		} else if active != "" {
			httpserver.ClearSessionCookie(w, s.https)
		}
		keep := make([]string, 0, len(rq.tokens)+1)
		if rq.id != nil {
			keep = append(keep, rq.id.token)
		}
		for _, o := range b.Others {
			rq.others = append(rq.others, identity{token: o.Token, actor: o.Actor, user: o.User})
			keep = append(keep, o.Token)
		}
		if !slices.Equal(keep, rq.tokens) {
			rq.tokens = keep
			s.setAccounts(w, keep)
		}
	}
	rq.loc = s.locale(r, rq)
	return rq
}

// locale is the language of a request: the signed-in user's, else the one of the email whose
// link was followed (?lang=), else the one the visitor chose, else the browser's.
func (s *Server) locale(r *http.Request, rq *request) string {
	if rq.id != nil && roster.ValidLocale(rq.id.user.Locale) {
		return rq.id.user.Locale
	}
	if l := r.URL.Query().Get("lang"); roster.ValidLocale(l) {
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil && roster.ValidLocale(c.Value) {
		return c.Value
	}
	return negotiate(r)
}

// workspace returns the signed-in user's organizations, their access in each and their
// selection, read once per request however many times the page asks.
func (s *Server) workspace(r *http.Request, rq *request) (app.Workspace, error) {
	if rq.ws == nil {
		ws, err := s.app.Accounts.Workspace(r.Context(), rq.id.actor)
		if err != nil {
			return app.Workspace{}, err
		}
		rq.ws = &ws
	}
	return *rq.ws, nil
}

// organization returns the organization of the path as the signed-in user's workspace
// holds it, with their access: refused as app.Organization refuses it.
func (s *Server) organization(r *http.Request, rq *request, orgID string) (app.OrganizationView, error) {
	ws, err := s.workspace(r, rq)
	if err != nil {
		return app.OrganizationView{}, err
	}
	return ws.Organization(orgID)
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

// validFormToken reports whether a posted form carries the active identity's token, or on
// the pages of a setup link, the token of the link (keyed by its secret, as HttpOnly as a
// session's).
func (s *Server) validFormToken(rq *request, got string) bool {
	if rq.link != nil {
		return hmac.Equal([]byte(got), []byte(formToken(rq.link.token)))
	}
	return rq.id != nil && hmac.Equal([]byte(got), []byte(formToken(rq.id.token)))
}

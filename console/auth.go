package console

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/httpserver"
)

// safeNext keeps a "next" page only when it is a path of this site.
func safeNext(next string) string {
	// Browsers drop tabs and line breaks from URLs and read a backslash as a slash, so any
	// of them could turn "/\t/evil.example" into "//evil.example": refuse them outright.
	if !strings.HasPrefix(next, "/") || strings.IndexFunc(next, func(r rune) bool { return unicode.IsControl(r) || r == '\\' }) >= 0 {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || strings.HasPrefix(next, "//") || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	if rq.id != nil && r.URL.Query().Get("add") != "1" {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return nil
	}
	v := s.view(w, r, rq, "login.title")
	if rq.id == nil && len(rq.tokens) > 0 {
		v.Accounts = accounts(rq.others)
	}
	pending, err := s.app.Operator.SetupPending(r.Context())
	if err != nil {
		return err
	}
	v.D = map[string]any{"SetupPending": pending, "SetupCommand": "roster admin create-operator --email you@example.com"}
	s.render(w, r, http.StatusOK, "login", v)
	return nil
}

func (s *Server) login(w http.ResponseWriter, r *http.Request, rq *request) error {
	res, err := s.app.Auth.Login(r.Context(), roster.Anonymous(httpserver.ClientIP(r.Context()), r.UserAgent()),
		app.LoginInput{Email: r.PostFormValue("email"), Password: r.PostFormValue("password")})
	if err != nil {
		v := s.view(w, r, rq, "login.title")
		retryAfter(w, err)
		s.render(w, r, s.setError(r, v, err), "login", v)
		return nil
	}
	if res.MFA != nil {
		s.renderSecondStep(w, r, rq, secondStep{Token: res.MFA.Token, Next: r.PostFormValue("next"), Methods: res.MFA.Methods}, nil)
		return nil
	}
	s.loggedIn(w, r, rq, res)
	return nil
}

// retryAfter tells when to try again after a refusal for too many attempts.
func retryAfter(w http.ResponseWriter, err error) {
	if e := roster.AsError(err); e != nil && e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(e.RetryAfter.Seconds())))
	}
}

// loggedIn ends a login, after its password or its second step: the session becomes the
// browser's active identity and the browser goes where the login would have gone.
func (s *Server) loggedIn(w http.ResponseWriter, r *http.Request, rq *request, res app.LoginResult) {
	s.loggedInTo(w, r, rq, res, r.PostFormValue("next"))
}

// loggedInTo is loggedIn with the page to go to (a sign-in through an identity provider
// carries it across the provider).
func (s *Server) loggedInTo(w http.ResponseWriter, r *http.Request, rq *request, res app.LoginResult, next string) {
	// Signing in again as an identity already signed in here replaces its old session.
	for _, other := range rq.others {
		if other.user.ID == res.User.ID {
			_ = s.app.Auth.Logout(r.Context(), other.actor)
			rq.tokens = slices.DeleteFunc(rq.tokens, func(t string) bool { return t == other.token })
		}
	}
	if rq.id != nil && rq.id.user.ID == res.User.ID {
		_ = s.app.Auth.Logout(r.Context(), rq.id.actor)
		rq.tokens = slices.DeleteFunc(rq.tokens, func(t string) bool { return t == rq.id.token })
	}
	s.signIn(w, rq, res.Token, res.Session.ExpiresAt)
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

// secondStep is the data of the page that asks for a login's second factor.
type secondStep struct {
	Token   string // the login challenge's token, carried by the page's forms
	Next    string
	Methods []string // the factors the account has (app.MethodTOTP, …): the forms shown
}

// Has says whether the account has a factor, by its method name.
func (d secondStep) Has(method string) bool { return slices.Contains(d.Methods, method) }

// renderSecondStep shows the page asking for a code of the authenticator app or a recovery
// code; failed is the refusal of a code tried.
func (s *Server) renderSecondStep(w http.ResponseWriter, r *http.Request, rq *request, d secondStep, failed error) {
	v := s.view(w, r, rq, "mfa.title")
	v.D = d
	status := http.StatusOK
	if failed != nil {
		status = s.setError(r, v, failed)
	}
	s.render(w, r, status, "login_mfa", v)
}

// loginSecondStep takes the second factor of a login and, when it is right, ends the login
// as the password would have.
func (s *Server) loginSecondStep(w http.ResponseWriter, r *http.Request, rq *request) error {
	tok := r.PostFormValue("mfa_token")
	res, err := s.app.Auth.CompleteLogin(r.Context(), roster.Anonymous(httpserver.ClientIP(r.Context()), r.UserAgent()),
		app.SecondFactorInput{Token: tok, Code: r.PostFormValue("code"), Passkey: []byte(r.PostFormValue("passkey"))})
	if roster.ErrorCode(err) == roster.EMFAExpired { // start again from the password
		v := s.view(w, r, rq, "login.title")
		s.render(w, r, s.setError(r, v, err), "login", v)
		return nil
	}
	if err != nil {
		retryAfter(w, err)
		methods, merr := s.app.Auth.SecondFactorMethods(r.Context(), tok)
		if merr != nil {
			return merr
		}
		s.renderSecondStep(w, r, rq, secondStep{Token: tok, Next: r.PostFormValue("next"), Methods: methods}, err)
		return nil
	}
	s.loggedIn(w, r, rq, res)
	return nil
}

func (s *Server) signupPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	if rq.id != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	}
	v := s.view(w, r, rq, "signup.title")
	v.D = map[string]any{"Open": s.app.Config().Signup == app.SignupOpen, "MinLength": s.app.Config().PasswordMinLength}
	s.render(w, r, http.StatusOK, "signup", v)
	return nil
}

// signup creates an account, then signs in with the same credentials. The app answers
// alike for a taken address, so when signing in fails the page says to check the mailbox
// or log in, never that the address exists.
func (s *Server) signup(w http.ResponseWriter, r *http.Request, rq *request) error {
	anon := roster.Anonymous(httpserver.ClientIP(r.Context()), r.UserAgent())
	in := app.SignupInput{Email: r.PostFormValue("email"), Name: r.PostFormValue("name"), Password: r.PostFormValue("password"), Locale: rq.loc}
	if err := s.app.Auth.Signup(r.Context(), anon, in); err != nil {
		v := s.view(w, r, rq, "signup.title")
		v.D = map[string]any{"Open": s.app.Config().Signup == app.SignupOpen, "MinLength": s.app.Config().PasswordMinLength}
		s.render(w, r, s.setError(r, v, err), "signup", v)
		return nil
	}
	res, err := s.app.Auth.Login(r.Context(), anon, app.LoginInput{Email: in.Email, Password: in.Password})
	if err != nil {
		return s.notice(w, r, rq, "signup.check_title", "signup.check_text", "/login", "signup.check_link")
	}
	s.signIn(w, rq, res.Token, res.Session.ExpiresAt)
	redirect(w, r, "/", "welcome")
	return nil
}

// notice shows a page with one message and one link.
func (s *Server) notice(w http.ResponseWriter, r *http.Request, rq *request, title, text, link, linkText string) error {
	v := s.view(w, r, rq, title)
	v.D = map[string]any{"Text": text, "Link": link, "LinkText": linkText}
	s.render(w, r, http.StatusOK, "notice", v)
	return nil
}

// logout signs the active identity out; another identity signed in here takes over.
func (s *Server) logout(w http.ResponseWriter, r *http.Request, rq *request) error {
	if rq.id == nil {
		redirect(w, r, "/login", "")
		return nil
	}
	return s.signOut(w, r, rq, *rq.id)
}

// signOut ends one identity's session and forgets its token; the others stay signed in.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request, rq *request, id identity) error {
	if err := s.app.Auth.Logout(r.Context(), id.actor); err != nil && roster.ErrorCode(err) != roster.ENotFound {
		return err
	}
	others := rq.others
	rq.tokens = slices.DeleteFunc(rq.tokens, func(t string) bool { return t == id.token })
	s.setAccounts(w, rq.tokens)
	if rq.id == nil || id.token != rq.id.token {
		redirect(w, r, "/account", "signed_out_other")
		return nil
	}
	for _, o := range others {
		if o.token != id.token {
			s.activate(w, o)
			redirect(w, r, "/", "signed_out_switched")
			return nil
		}
	}
	httpserver.ClearSessionCookie(w, s.https)
	redirect(w, r, "/login", "signed_out")
	return nil
}

func (s *Server) switchAccount(w http.ResponseWriter, r *http.Request, rq *request) error {
	want := r.PostFormValue("user")
	for _, o := range rq.others {
		if o.user.ID == want {
			s.activate(w, o)
			redirect(w, r, "/", "switched")
			return nil
		}
	}
	return roster.NotFound("account")
}

func (s *Server) signOutAccount(w http.ResponseWriter, r *http.Request, rq *request) error {
	want := r.PostFormValue("user")
	if want == rq.id.user.ID {
		return s.signOut(w, r, rq, *rq.id)
	}
	for _, o := range rq.others {
		if o.user.ID == want {
			return s.signOut(w, r, rq, o)
		}
	}
	return roster.NotFound("account")
}

func (s *Server) resetPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	v := s.view(w, r, rq, "reset.title")
	v.D = map[string]any{"Token": r.URL.Query().Get("token"), "MinLength": s.app.Config().PasswordMinLength}
	s.render(w, r, http.StatusOK, "reset", v)
	return nil
}

// reset sets a password through a one-time link: a reset, or a new user's first password.
func (s *Server) reset(w http.ResponseWriter, r *http.Request, rq *request) error {
	tok, pw := r.PostFormValue("token"), r.PostFormValue("password")
	var err error
	if pw != r.PostFormValue("password2") {
		err = &roster.Error{Code: "password_mismatch", Field: "password2"}
	} else {
		_, err = s.app.Accounts.SetPasswordWithLink(r.Context(), rq.actor(r), tok, pw)
	}
	if err != nil {
		v := s.view(w, r, rq, "reset.title")
		v.D = map[string]any{"Token": tok, "MinLength": s.app.Config().PasswordMinLength}
		s.render(w, r, s.setError(r, v, err), "reset", v)
		return nil
	}
	redirect(w, r, "/login", "password_set")
	return nil
}

func (s *Server) setupPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	v := s.view(w, r, rq, "setup.title")
	v.D = map[string]any{"Token": r.URL.Query().Get("token"), "MinLength": s.app.Config().PasswordMinLength}
	s.render(w, r, http.StatusOK, "setup", v)
	return nil
}

// setup creates the first operator through the one-time link printed in the log.
func (s *Server) setup(w http.ResponseWriter, r *http.Request, rq *request) error {
	tok := r.PostFormValue("token")
	in := app.SignupInput{Email: r.PostFormValue("email"), Name: r.PostFormValue("name"), Password: r.PostFormValue("password"), Locale: rq.loc}
	anon := roster.Anonymous(httpserver.ClientIP(r.Context()), r.UserAgent())
	if _, err := s.app.Operator.CompleteSetup(r.Context(), anon, tok, in); err != nil {
		v := s.view(w, r, rq, "setup.title")
		v.D = map[string]any{"Token": tok, "MinLength": s.app.Config().PasswordMinLength}
		s.render(w, r, s.setError(r, v, err), "setup", v)
		return nil
	}
	res, err := s.app.Auth.Login(r.Context(), anon, app.LoginInput{Email: in.Email, Password: in.Password})
	if err != nil {
		redirect(w, r, "/login", "operator_created")
		return nil
	}
	s.signIn(w, rq, res.Token, res.Session.ExpiresAt)
	redirect(w, r, "/operator/organizations", "operator_created")
	return nil
}

// language changes the console's language: the user's own setting when signed in, a
// cookie otherwise.
func (s *Server) language(w http.ResponseWriter, r *http.Request, rq *request) error {
	loc := r.PostFormValue("lang")
	if !roster.ValidLocale(loc) {
		return roster.Invalidf("locale", "unknown language")
	}
	if rq.id != nil && rq.link == nil { // on a setup link's pages, whoever is signed in is not who acts
		if _, err := s.app.Accounts.Update(r.Context(), rq.id.actor, app.ProfileInput{Locale: &loc}); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: loc, Path: "/", HttpOnly: true, Secure: s.https, SameSite: http.SameSiteLaxMode,
		Expires: time.Now().Add(365 * 24 * time.Hour)})
	http.Redirect(w, r, withoutLang(safeNext(r.PostFormValue("back"))), http.StatusSeeOther)
	return nil
}

// withoutLang drops an emailed link's ?lang= from the page a language switch returns to, so
// that the language chosen wins over the email's.
func withoutLang(next string) string {
	u, err := url.Parse(next)
	if err != nil || !u.Query().Has("lang") {
		return next
	}
	q := u.Query()
	q.Del("lang")
	u.RawQuery = q.Encode()
	return u.String()
}

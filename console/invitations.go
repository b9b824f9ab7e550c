package console

import (
	"cmp"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/httpserver"
)

// Pages of invitations, email links, policies and direct user creation.

func (s *Server) forgotPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	s.render(w, r, http.StatusOK, "forgot", s.view(w, r, rq, "forgot.title"))
	return nil
}

// forgot asks for a reset link. The answer is the same whether or not the address has an
// account; only a malformed address or a rate limit is shown as an error.
func (s *Server) forgot(w http.ResponseWriter, r *http.Request, rq *request) error {
	anon := roster.Anonymous(httpserver.ClientIP(r.Context()), r.UserAgent())
	if err := s.app.Accounts.RequestPasswordReset(r.Context(), anon, r.PostFormValue("email")); err != nil {
		v := s.view(w, r, rq, "forgot.title")
		s.render(w, r, s.setError(r, v, err), "forgot", v)
		return nil
	}
	return s.notice(w, r, rq, "forgot.sent_title", "forgot.sent_text", "/login", "signup.check_link")
}

// linkPage shows a page for a one-time link that changes something: the change happens on
// the POST of its button, never on the GET of the link (mail scanners follow links).
func (s *Server) linkPage(title, text, action, button string) handler {
	return func(w http.ResponseWriter, r *http.Request, rq *request) error {
		v := s.view(w, r, rq, title)
		v.D = map[string]any{"Token": r.URL.Query().Get("token"), "Text": text, "Action": action, "Button": button}
		s.render(w, r, http.StatusOK, "link", v)
		return nil
	}
}

func (s *Server) linkFailed(w http.ResponseWriter, r *http.Request, rq *request, title, text, action, button string, err error) error {
	v := s.view(w, r, rq, title)
	v.D = map[string]any{"Token": r.PostFormValue("token"), "Text": text, "Action": action, "Button": button}
	s.render(w, r, s.setError(r, v, err), "link", v)
	return nil
}

func (s *Server) verifyEmail(w http.ResponseWriter, r *http.Request, rq *request) error {
	if _, err := s.app.Accounts.VerifyEmail(r.Context(), rq.actor(r), r.PostFormValue("token")); err != nil {
		return s.linkFailed(w, r, rq, "verify.title", "verify.text", "/verify-email", "verify.submit", err)
	}
	if rq.id != nil {
		redirect(w, r, "/account", "email_verified")
	} else {
		redirect(w, r, "/login", "email_verified")
	}
	return nil
}

func (s *Server) confirmEmail(w http.ResponseWriter, r *http.Request, rq *request) error {
	if _, err := s.app.Accounts.ConfirmEmailChange(r.Context(), rq.actor(r), r.PostFormValue("token")); err != nil {
		return s.linkFailed(w, r, rq, "confirm_email.title", "confirm_email.text", "/confirm-email", "confirm_email.submit", err)
	}
	if rq.id != nil {
		redirect(w, r, "/account", "email_changed")
	} else {
		redirect(w, r, "/login", "email_changed")
	}
	return nil
}

// acceptPage shows an invitation to the holder of its link: the organization, who invited,
// the roles and stores, the invited address (masked) and until when it is valid.
func (s *Server) acceptPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.renderAccept(w, r, rq, r.URL.Query().Get("token"), nil)
}

func (s *Server) renderAccept(w http.ResponseWriter, r *http.Request, rq *request, tok string, failed error) error {
	v := s.view(w, r, rq, "accept.title")
	p, err := s.app.Invitations.Lookup(r.Context(), tok)
	status := http.StatusOK
	if err != nil {
		status = s.setError(r, v, err)
		v.D = map[string]any{"Token": tok}
		s.render(w, r, status, "accept", v)
		return nil
	}
	v.D = map[string]any{"Token": tok, "Inv": p, "MinLength": s.app.Config().PasswordMinLength,
		"Next": Pages.AcceptInvitation + "?" + url.Values{"token": {tok}}.Encode(), "Decline": r.URL.Query().Get("decline") == "1"}
	if failed != nil {
		status = s.setError(r, v, failed)
	}
	s.render(w, r, status, "accept", v)
	return nil
}

// accept accepts an invitation: as the signed-in identity, or, signed out, by signing up
// through the link (a new address) or with the password of the invited address's account.
func (s *Server) accept(w http.ResponseWriter, r *http.Request, rq *request) error {
	tok := r.PostFormValue("token")
	in := app.AcceptInput{Token: tok, Name: r.PostFormValue("name"), Password: r.PostFormValue("password"), Locale: rq.loc}
	res, err := s.app.Invitations.Accept(r.Context(), rq.actor(r), in)
	if err != nil {
		return s.renderAccept(w, r, rq, tok, err)
	}
	if res.Session != nil {
		s.signIn(w, rq, res.Session.Token, res.Session.Session.ExpiresAt)
	}
	if res.Session != nil || rq.id != nil {
		actor := rq.actor(r)
		if res.Session != nil {
			actor, _ = s.app.Auth.Authenticate(r.Context(), res.Session.Token, httpserver.ClientIP(r.Context()), r.UserAgent())
		}
		sel := app.Selection{OrgID: res.Invitation.OrgID}
		if len(res.Invitation.Stores) > 0 {
			sel.StoreID = res.Invitation.Stores[0].StoreID
		}
		_ = s.app.Accounts.Select(r.Context(), actor, sel)
	}
	if res.Session == nil && rq.id == nil { // an account with a second factor logs in
		redirect(w, r, "/login", "invitation_accepted")
		return nil
	}
	redirect(w, r, "/", "invitation_accepted")
	return nil
}

func (s *Server) decline(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := s.app.Invitations.Decline(r.Context(), rq.actor(r), r.PostFormValue("token")); err != nil {
		return s.renderAccept(w, r, rq, r.PostFormValue("token"), err)
	}
	return s.notice(w, r, rq, "accept.declined_title", "accept.declined_text", "/", "error.home")
}

// grants reads the store checkboxes and roles of an invitation or creation form.
func grants(r *http.Request) []app.StoreGrantInput {
	var out []app.StoreGrantInput
	for _, id := range r.PostForm["store"] {
		out = append(out, app.StoreGrantInput{StoreID: id, RoleID: r.PostFormValue("role_" + id)})
	}
	return out
}

// addMember invites someone by email with an organization role and, per store, a role.
func (s *Server) addMember(w http.ResponseWriter, r *http.Request, rq *request) error {
	in := app.InvitationInput{Email: r.PostFormValue("email"), Role: roster.OrgRole(r.PostFormValue("role")), Stores: grants(r),
		Message: r.PostFormValue("message"), Locale: cmp.Or(r.PostFormValue("locale"), rq.loc)}
	_, err := s.app.Invitations.Create(r.Context(), rq.id.actor, r.PathValue("org"), in)
	if err != nil {
		return s.membersFailed(w, r, rq, err)
	}
	redirect(w, r, "/orgs/"+r.PathValue("org")+"/invitations", "invitation_sent")
	return nil
}

// createUser creates an account directly (connector flow): the person gets a link to
// choose their password.
func (s *Server) createUser(w http.ResponseWriter, r *http.Request, rq *request) error {
	in := app.NewUserInput{Email: r.PostFormValue("email"), Name: r.PostFormValue("name"), Locale: r.PostFormValue("locale"),
		Role: roster.OrgRole(r.PostFormValue("role")), Stores: grants(r)}
	if _, err := s.app.Accounts.Create(r.Context(), rq.id.actor, r.PathValue("org"), in); err != nil {
		return s.membersFailed(w, r, rq, err)
	}
	redirect(w, r, "/orgs/"+r.PathValue("org")+"/members", "user_created")
	return nil
}

// membersFailed shows the members tab again with the pop-up that failed, its error inside.
func (s *Server) membersFailed(w http.ResponseWriter, r *http.Request, rq *request, err error) error {
	v, p, perr := s.orgPage(w, r, rq, "members")
	if perr != nil {
		return perr
	}
	status := s.setError(r, v, err)
	r.URL.RawQuery = ""
	return s.renderMembers(w, r, rq, v, p, status)
}

func (s *Server) memberPasswordReset(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.memberAction(w, r, rq, "password_reset_sent", s.membersPath(r), func() error {
		return s.app.Accounts.SendPasswordReset(r.Context(), rq.id.actor, r.PathValue("org"), r.PathValue("user"))
	})
}

// memberTwoFactorReset removes the second factors of a member who lost them.
func (s *Server) memberTwoFactorReset(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.memberAction(w, r, rq, "two_factor_reset", s.membersPath(r), func() error {
		return s.app.MFA.ResetMember(r.Context(), rq.id.actor, r.PathValue("org"), r.PathValue("user"))
	})
}

// orgInvitations shows the invitations tab: status, expiry, resend, cancel.
func (s *Server) orgInvitations(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, p, err := s.orgPage(w, r, rq, "invitations")
	if err != nil {
		return err
	}
	return s.renderInvitations(w, r, rq, v, p, http.StatusOK)
}

func (s *Server) renderInvitations(w http.ResponseWriter, r *http.Request, rq *request, v *view, p *orgPage, status int) error {
	q := r.URL.Query()
	p.InvFilter = app.InvitationFilter{Status: roster.InvitationStatus(q.Get("status")), Query: q.Get("q"), Cursor: q.Get("cursor"), Limit: 25}
	invs, err := s.app.Invitations.List(r.Context(), rq.id.actor, p.Org.ID, p.InvFilter)
	if err != nil {
		return err
	}
	p.Invitations = invs
	p.Now = s.app.Now()
	if err := s.loadStores(r, rq, p); err != nil {
		return err
	}
	if id := r.PathValue("inv"); id != "" && strings.HasSuffix(r.URL.Path, "/cancel") {
		inv, err := s.app.Invitations.Get(r.Context(), rq.id.actor, id)
		if err != nil {
			return err
		}
		p.Dialog, p.Invitation = "cancel_invitation", &inv
	}
	s.render(w, r, status, "org_invitations", v)
	return nil
}

func (s *Server) invitationAction(w http.ResponseWriter, r *http.Request, rq *request, flash string, do func() error) error {
	if err := do(); err != nil {
		v, p, perr := s.orgPage(w, r, rq, "invitations")
		if perr != nil {
			return perr
		}
		status := s.setError(r, v, err)
		r.URL.RawQuery = ""
		r.SetPathValue("inv", "")
		return s.renderInvitations(w, r, rq, v, p, status)
	}
	redirect(w, r, "/orgs/"+r.PathValue("org")+"/invitations", flash)
	return nil
}

func (s *Server) invitationResend(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.invitationAction(w, r, rq, "invitation_resent", func() error {
		_, err := s.app.Invitations.Resend(r.Context(), rq.id.actor, r.PathValue("inv"))
		return err
	})
}

func (s *Server) invitationCancel(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.invitationAction(w, r, rq, "invitation_cancelled", func() error {
		return s.app.Invitations.Cancel(r.Context(), rq.id.actor, r.PathValue("inv"))
	})
}

// orgPolicy shows the policy tab: allowed domains, free providers, invitation lifetime
// (edited by the owner), and the members who break it.
func (s *Server) orgPolicy(w http.ResponseWriter, r *http.Request, rq *request) error {
	v, p, err := s.orgPage(w, r, rq, "policy")
	if err != nil {
		return err
	}
	return s.renderPolicy(w, r, rq, v, p, http.StatusOK)
}

func (s *Server) renderPolicy(w http.ResponseWriter, r *http.Request, rq *request, v *view, p *orgPage, status int) error {
	pol, err := s.app.Organizations.Policy(r.Context(), rq.id.actor, p.Org.ID)
	if err != nil {
		return err
	}
	p.Policy = pol
	breaking, err := s.app.Members.List(r.Context(), rq.id.actor, p.Org.ID, app.MemberFilter{BreaksPolicy: true, Limit: 50})
	if err != nil {
		return err
	}
	p.Members = breaking
	if p.Org.Access.Can(roster.PermOrgUpdate) {
		if err := s.withStepUp(r, rq, v); err != nil {
			return err
		}
	}
	s.render(w, r, status, "org_policy", v)
	return nil
}

var domainSeparators = regexp.MustCompile(`[\s,;]+`)

func (s *Server) orgPolicySave(w http.ResponseWriter, r *http.Request, rq *request) error {
	pol := roster.Policy{BlockFreeProviders: r.PostFormValue("block_free") == "on", VerifiedDomainsOnly: r.PostFormValue("verified_only") == "on",
		RequireTwoFactor: r.PostFormValue("require_two_factor") == "on"}
	for _, d := range domainSeparators.Split(r.PostFormValue("domains"), -1) {
		if d != "" {
			pol.AllowedDomains = append(pol.AllowedDomains, d)
		}
	}
	days, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("ttl_days")))
	if err != nil {
		err = roster.Invalidf("invitation_ttl", "give a number of days")
	} else {
		pol.InvitationTTL = time.Duration(days) * 24 * time.Hour
		_, err = s.app.Organizations.SetPolicy(r.Context(), rq.id.actor, r.PathValue("org"), pol, ownerProof(r))
	}
	if err != nil {
		v, p, perr := s.orgPage(w, r, rq, "policy")
		if perr != nil {
			return perr
		}
		return s.renderPolicy(w, r, rq, v, p, s.setError(r, v, err))
	}
	redirect(w, r, "/orgs/"+r.PathValue("org")+"/policy", "policy_saved")
	return nil
}

// storeInvite invites someone into one store, as its admin (organization role member).
func (s *Server) storeInvite(w http.ResponseWriter, r *http.Request, rq *request) error {
	st, err := s.app.Stores.Get(r.Context(), rq.id.actor, r.PathValue("store"))
	if err != nil {
		return err
	}
	in := app.InvitationInput{Email: r.PostFormValue("email"), Role: roster.OrgMember, Locale: rq.loc,
		Stores: []app.StoreGrantInput{{StoreID: st.ID, RoleID: r.PostFormValue("role")}}}
	if _, err := s.app.Invitations.Create(r.Context(), rq.id.actor, st.OrgID, in); err != nil {
		return s.renderStore(w, r, rq, err)
	}
	redirect(w, r, "/stores/"+st.ID, "invitation_sent")
	return nil
}

func (s *Server) accountEmail(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := s.app.Accounts.RequestEmailChange(r.Context(), rq.id.actor, r.PostFormValue("email"), r.PostFormValue("password")); err != nil {
		return s.renderAccount(w, r, rq, err)
	}
	redirect(w, r, "/account", "email_change_sent")
	return nil
}

func (s *Server) accountVerification(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := s.app.Accounts.ResendVerification(r.Context(), rq.id.actor); err != nil {
		return s.renderAccount(w, r, rq, err)
	}
	back := "/account"
	if b := r.PostFormValue("back"); b != "" {
		back = safeNext(b) // the page whose banner sent it
	}
	redirect(w, r, back, "verification_sent")
	return nil
}

// mailboxPage shows the development mailbox to operators: every email the instance would
// have sent, newest first, as plain text with its links.
func (s *Server) mailboxPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	msgs, err := s.app.Outbox.Mailbox(r.Context(), rq.id.actor)
	v := s.view(w, r, rq, "operator.mailbox_title")
	d := map[string]any{"Off": roster.ErrorCode(err) == roster.ENotFound}
	if err != nil && roster.ErrorCode(err) != roster.ENotFound {
		return err
	}
	type message struct {
		To, Subject, Text, Template string
		Locale                      string // the language the email was written in
		At                          time.Time
		Links                       []string
	}
	var list []message
	for _, m := range msgs {
		list = append(list, message{To: m.To, Subject: m.Subject, Text: m.Text, Template: m.Template, Locale: m.Locale, At: m.At, Links: linkPattern.FindAllString(m.Text, -1)})
	}
	d["Messages"] = list
	v.D = d
	s.render(w, r, http.StatusOK, "operator_mailbox", v)
	return nil
}

var linkPattern = regexp.MustCompile(`https?://[^\s<>"]+`)

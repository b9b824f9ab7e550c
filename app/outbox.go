package app

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/mail"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/token"
)

// Outbox is the work committed for later: emails, and back-channel logouts (oidc_logout.go),
// claimed under a lease by the workers, and the bells that wake them. Webhook deliveries share its
// table and leases but live with Webhooks.
type Outbox struct{ *core }

// The outbox rules: how a claimed email gets its one-time link, how long a worker holds it,
// and when delivery is retried or given up. The delivery loop lives in package outbox, the
// rendering and the senders in package mail; the decisions are here.

// Link kinds of an outbox email: what its one-time link is for.
const (
	LinkInvitation = "invitation" // LinkRef is an invitation ID
	LinkUserToken  = "user_token" // LinkRef is a user_tokens ID
)

// Kinds of outbox messages. Each kind has its sender in the outbox worker, and a worker
// claims only the kinds it can deliver; webhooks will be another kind on the same table,
// workers, lease and FOR UPDATE SKIP LOCKED.
const (
	KindEmail = "email"
)

const (
	// OutboxLease is how long a worker holds a claimed message. A working worker renews it
	// while it delivers (every third of it); one that was killed leaves its messages to be
	// claimed again this soon after.
	OutboxLease = 30 * time.Second
	// OutboxMaxAttempts is how many times an email is tried before it fails for good: with
	// the backoff below, about a day.
	OutboxMaxAttempts = 14
	// maxBackoff bounds the wait between two attempts.
	maxBackoff = 4 * time.Hour
)

// DeliveryFailedMessage is what an invitation shows when its email could not be delivered.
const DeliveryFailedMessage = "email could not be delivered"

// Backoff is the wait after a failed attempt: 1 minute, doubling, at most 4 hours. Attempts
// 1 to 13 add up to about a day.
func Backoff(attempts int) time.Duration {
	if attempts < 1 {
		attempts = 1
	}
	if attempts > 20 {
		return maxBackoff
	}
	return min(time.Minute<<(attempts-1), maxBackoff)
}

// Wake returns a channel that is closed once a transaction commits that wrote work of a kind
// (sqlstore.WakeEmail, WakeWebhook, WakeEvent): in this process, or, on PostgreSQL while
// Listen runs, in any other. Every loop that waits on it wakes. Take the channel before
// looking for work, then wait on it: a commit in between closes it, so nothing is missed.
func (a *Outbox) Wake(kind string) <-chan struct{} {
	b := a.bells[kind]
	if b == nil {
		return nil // an unknown kind never wakes
	}
	return b.Wait()
}

// SetMailbox tells the app that emails go to the development mailbox (no SMTP configured),
// so that operators can read it.
func (a *Outbox) SetMailbox(m *mail.Mailbox) { a.mailbox.Store(m) }

// Mailbox returns the development mailbox's messages, newest first (operators). Without it
// (SMTP is configured), the answer is not_found.
func (a *Outbox) Mailbox(ctx context.Context, actor roster.Actor) ([]mail.Message, error) {
	if err := requireOperator(actor); err != nil {
		return nil, err
	}
	m := a.mailbox.Load()
	if m == nil {
		return nil, roster.Errorf(roster.ENotFound, "the development mailbox is off: this instance sends email over SMTP")
	}
	return m.Messages(), nil
}

// OutboundEmail is a message claimed for delivery. Link, when the email carries a one-time
// link, holds the token just minted: a secret that goes into the email and nowhere else.
type OutboundEmail struct {
	roster.Email
	Kind       string // KindEmail
	Link       string
	Attempts   int
	CreatedAt  time.Time
	LeaseUntil time.Time // the lease this claim holds, for Outbox.RenewLease
	// A webhook delivery's endpoint and the organization of its event: its order.
	EndpointID, EventOrg string
	// MessageID is the email's Message-ID (without angle brackets): the outbox ID at the
	// instance's host, the same on every attempt, so that a receiver keeps one copy of an
	// email sent twice (delivery is at least once). An email with a one-time link gets a new
	// link, so a new message, on each attempt: its Message-ID names the attempt too, lest a
	// receiver keep the copy whose link the retry voided.
	MessageID string
}

// linkTTL is how long a one-time link sent to a user works, from the moment it is sent.
func linkTTL(p roster.TokenPurpose) time.Duration {
	switch p {
	case roster.TokenPasswordReset:
		return 60 * time.Minute
	case roster.TokenVerifyEmail:
		return 48 * time.Hour
	case roster.TokenChangeEmail:
		return 24 * time.Hour
	}
	return 7 * 24 * time.Hour // set_password: a new user may take a few days
}

// linkPath is the page a one-time link opens.
func (a *Outbox) linkPath(p roster.TokenPurpose) string {
	switch p {
	case roster.TokenVerifyEmail:
		return a.cfg.Pages.VerifyEmail
	case roster.TokenChangeEmail:
		return a.cfg.Pages.ConfirmEmail
	}
	return a.cfg.Pages.SetPassword
}

// ClaimEmails leases up to limit due emails for this worker (see Outbox.Claim).
func (a *Outbox) ClaimEmails(ctx context.Context, limit int) ([]OutboundEmail, error) {
	return a.Claim(ctx, []string{KindEmail}, limit)
}

// Claim leases up to limit due messages of the given kinds for this worker, for
// OutboxLease. Emails get their one-time link, when they carry one: a new token whose hash
// replaces the stored one (voiding any link sent before), its lifetime starting now. An email
// whose link is no longer usable (the invitation was accepted, cancelled or resent; the link
// was used or replaced) is cancelled instead of sent. Several workers, in several processes,
// never claim the same message.
func (a *Outbox) Claim(ctx context.Context, kinds []string, limit int) ([]OutboundEmail, error) {
	return txValue(ctx, a.db, func(tx *sqlstore.Tx) ([]OutboundEmail, error) {
		var out []OutboundEmail
		now := a.clock.Now()
		lease := now.Add(OutboxLease)
		claimed, err := tx.ClaimOutbox(ctx, kinds, now, lease, limit)
		if err != nil {
			return nil, err
		}
		for _, m := range claimed {
			e := OutboundEmail{Email: m.Email, Kind: m.Kind, Attempts: m.Attempts, CreatedAt: m.CreatedAt, LeaseUntil: lease}
			if e.Kind != KindEmail {
				out = append(out, e)
				continue
			}
			e.MessageID = a.messageID(e)
			if err := a.brand(ctx, tx, &e); err != nil {
				return nil, err
			}
			ok, err := a.mintLink(ctx, tx, &e, now)
			if err != nil {
				return nil, err
			}
			if !ok {
				if _, err := tx.EndEmail(ctx, m.ID, "cancelled", "the link is no longer usable"); err != nil {
					return nil, err
				}
				continue
			}
			out = append(out, e)
		}
		return out, nil
	})
}

// RenewLease extends the lease of claimed messages that this worker still holds (the lease
// held, from Outbox.Claim or the last renewal), and returns the new lease and the IDs it kept.
// A message missing from kept ran out of its lease and may be another worker's now.
func (a *Outbox) RenewLease(ctx context.Context, ids []string, held time.Time) (time.Time, []string, error) {
	lease := a.clock.Now().Add(OutboxLease)
	kept, err := txValue(ctx, a.db, func(tx *sqlstore.Tx) ([]string, error) {
		return tx.RenewLease(ctx, ids, held, lease)
	})
	return lease, kept, err
}

// brand gives an email about an organization that organization's current logo
// (data["org_logo_url"]): the logo at sending time, whatever it was when the email was written.
func (a *Outbox) brand(ctx context.Context, tx *sqlstore.Tx, e *OutboundEmail) error {
	if e.OrgID == "" {
		return nil
	}
	org, err := tx.Organization(ctx, e.OrgID)
	if roster.ErrorCode(err) == roster.ENotFound {
		return nil // deleted since: the email still goes, without a logo
	}
	if err != nil {
		return err
	}
	if url := a.app.Organizations.LogoURL(org); url != "" {
		e.Data["org_logo_url"] = url
	}
	return nil
}

// messageID is the Message-ID of an email: its outbox ID at the host of ROSTER_BASE_URL.
func (a *Outbox) messageID(e OutboundEmail) string {
	host := "localhost"
	if a.cfg.BaseURL != nil && a.cfg.BaseURL.Hostname() != "" {
		host = a.cfg.BaseURL.Hostname()
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // an IPv6 address, as a domain literal
	}
	if e.LinkKind != "" {
		return fmt.Sprintf("%s.%d@%s", e.ID, e.Attempts, host)
	}
	return e.ID + "@" + host
}

// mintLink gives a claimed email its one-time link, if it carries one. It reports false
// when the link is no longer usable.
func (a *Outbox) mintLink(ctx context.Context, tx *sqlstore.Tx, e *OutboundEmail, now time.Time) (bool, error) {
	if e.LinkKind == "" {
		return true, nil
	}
	plain, hash := token.New(token.PrefixLink)
	switch e.LinkKind {
	case LinkInvitation:
		ok, err := tx.MintInvitationToken(ctx, e.LinkRef, hash, now)
		if !ok || err != nil {
			return false, err
		}
		e.Link = a.tokenLink(a.cfg.Pages.AcceptInvitation, plain, e.Locale)
	case LinkUserToken:
		ut, err := tx.UserToken(ctx, e.LinkRef)
		if roster.ErrorCode(err) == roster.ENotFound {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		expires := now.Add(linkTTL(ut.Purpose))
		ok, err := tx.MintUserToken(ctx, ut.ID, hash, expires)
		if !ok || err != nil {
			return false, err
		}
		e.Link = a.tokenLink(a.linkPath(ut.Purpose), plain, e.Locale)
		e.Data["expires_at"] = expires.Format(time.RFC3339)
	default:
		return false, nil
	}
	return true, nil
}

// EmailSent records that an email was handed to the mail server.
func (a *Outbox) EmailSent(ctx context.Context, id string) error {
	return a.db.InTx(ctx, func(tx *sqlstore.Tx) error { return tx.MarkEmailSent(ctx, id, a.clock.Now()) })
}

// EmailFailed records a failed attempt. A temporary failure is retried after Backoff; a
// permanent one, or the last attempt, fails the email for good: an invitation then shows
// "email could not be delivered" and its inviter is told, and the audit log records it.
func (a *Outbox) EmailFailed(ctx context.Context, e OutboundEmail, cause error, permanent bool) error {
	msg := truncate(cause.Error(), 500)
	err := a.write(ctx, roster.System(), func(t *txn) error {
		if !permanent && e.Attempts < OutboxMaxAttempts {
			return t.RetryEmail(t.ctx, e.ID, t.now.Add(Backoff(e.Attempts)), msg)
		}
		ended, err := t.EndEmail(t.ctx, e.ID, "failed", msg)
		if err != nil || !ended {
			return err
		}
		ev := roster.AuditEvent{OrgID: e.OrgID, Action: "email.delivery_failed", TargetType: "email", TargetID: e.ID,
			After: map[string]any{"template": e.Template, "to": e.To, "attempts": e.Attempts, "error": msg}}
		if e.LinkKind == LinkInvitation {
			ev.Action, ev.TargetType, ev.TargetID = "invitation.delivery_failed", "invitation", e.LinkRef
			if err := t.SetInvitationDeliveryError(t.ctx, e.LinkRef, DeliveryFailedMessage, t.now); err != nil {
				return err
			}
			if err := a.notifyUndeliverable(t, e); err != nil {
				return err
			}
		}
		return t.audit(ev)
	})
	return err
}

// notifyUndeliverable tells an inviter that their invitation's email bounced.
func (a *Outbox) notifyUndeliverable(t *txn, e OutboundEmail) error {
	inv, err := t.Invitation(t.ctx, e.LinkRef)
	if roster.ErrorCode(err) == roster.ENotFound || (err == nil && inv.InvitedBy == "") {
		return nil
	}
	if err != nil {
		return err
	}
	inviter, err := t.User(t.ctx, inv.InvitedBy)
	if roster.ErrorCode(err) == roster.ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	return t.notifyUser(inviter, "invitation_undeliverable", inv.OrgID, map[string]any{
		"org_name": e.Data["org_name"], "invitee_email": inv.Email})
}

// tokenLink is an emailed link: the page, its token first, then the email's language, so
// that the page it opens speaks the language the email was written in.
func (a *Outbox) tokenLink(path, token, locale string) string {
	link := a.app.Link(path, url.Values{"token": {token}})
	if roster.ValidLocale(locale) {
		link += "&lang=" + url.QueryEscape(locale)
	}
	return link
}

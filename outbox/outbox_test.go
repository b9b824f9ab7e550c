package outbox_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/smtptest"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/mail"
	"github.com/rosterhq/roster/outbox"
	"github.com/rosterhq/roster/sqlstore"
)

var ctx = context.Background()

type fixture struct {
	env   *testenv.Env
	smtp  *smtptest.Server
	w     *outbox.Worker
	owner roster.Actor
	org   roster.Organization
}

func newFixture(t *testing.T, e sqlstore.Engine, o smtptest.Options, configure ...func(*app.Config)) *fixture {
	env := testenv.NewEnv(t, e, configure...)
	srv := smtptest.Start(t, o)
	f := &fixture{env: env, smtp: srv, w: worker(t, env, srv)}
	f.owner, _ = env.User(t, "Olivia")
	f.org = env.Org(t, f.owner, "Acme")
	// The owner's verification email is not what these tests are about: mark it sent.
	claimed, err := env.App.Outbox.ClaimEmails(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range claimed {
		if err := env.App.Outbox.EmailSent(ctx, m.ID); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func worker(t *testing.T, env *testenv.Env, srv *smtptest.Server) *outbox.Worker {
	t.Helper()
	s, err := mail.NewSMTP(mail.SMTPConfig{URL: srv.URL(), From: "Roster <roster@example.com>", TLS: srv.ClientTLS(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r, err := mail.NewRenderer("")
	if err != nil {
		t.Fatal(err)
	}
	return outbox.New(env.App, r, s, testenv.Logger(t), outbox.Options{Batch: 10, Poll: time.Hour})
}

func (f *fixture) deliver(t *testing.T) int {
	t.Helper()
	total := 0
	for {
		n, err := f.w.DeliverDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
}

func (f *fixture) invite(t *testing.T, addr string) roster.Invitation {
	t.Helper()
	inv, err := f.env.App.Invitations.Create(ctx, f.owner, f.org.ID, app.InvitationInput{Email: addr})
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestSMTPDownThenBack(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newFixture(t, e, smtptest.Options{StartTLS: true, User: "roster", Password: "relay password"})
		f.smtp.Stop()
		f.invite(t, "marc@acme.com")
		f.invite(t, "ana@acme.com")
		if n := f.deliver(t); n != 2 {
			t.Fatalf("claimed %d", n)
		}
		if n := f.deliver(t); n != 0 {
			t.Fatalf("retried before the backoff: %d", n)
		}
		f.smtp.Restart()
		f.env.Clock.Advance(app.Backoff(1))
		if n := f.deliver(t); n != 2 {
			t.Fatalf("after the server came back: %d", n)
		}
		f.env.Clock.Advance(24 * time.Hour)
		f.deliver(t)
		msgs := f.smtp.Wait(t, 2, 5*time.Second)
		if len(msgs) != 2 {
			t.Fatalf("%d messages, want exactly 2", len(msgs))
		}
		// The link works: the token minted on the second attempt is the live one.
		m := f.smtp.To("marc@acme.com")[0]
		if !m.TLS || m.AuthUser != "roster" {
			t.Fatalf("delivery without TLS or authentication: %+v", m)
		}
		if _, err := f.env.App.Invitations.Accept(ctx, roster.Anonymous("192.0.2.9", "t"),
			app.AcceptInput{Token: m.Token("/invitations/accept"), Name: "Marc", Password: testenv.Password}); err != nil {
			t.Fatalf("accept with the delivered link: %v", err)
		}
	})
}

func TestDeliveryFailsForGoodAfterADay(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newFixture(t, e, smtptest.Options{})
		f.smtp.Stop()
		inv := f.invite(t, "marc@acme.com")
		start := f.env.Clock.Now()
		for attempt := 1; attempt <= app.OutboxMaxAttempts; attempt++ {
			if n := f.deliver(t); n < 1 {
				t.Fatalf("attempt %d: nothing claimed", attempt)
			}
			f.env.Clock.Advance(app.Backoff(attempt))
		}
		if elapsed := f.env.Clock.Now().Sub(start); elapsed < 20*time.Hour || elapsed > 36*time.Hour {
			t.Fatalf("gave up after %v, want about a day", elapsed)
		}
		got, err := f.env.App.Invitations.Get(ctx, f.owner, inv.ID)
		if err != nil || got.DeliveryError != app.DeliveryFailedMessage {
			t.Fatalf("invitation after failing: %v %+v", err, got)
		}
		events, err := f.env.App.Audit.List(ctx, f.owner, f.org.ID, app.AuditFilter{Action: "invitation.delivery_failed"})
		if err != nil || len(events.Items) != 1 || events.Items[0].TargetID != inv.ID {
			t.Fatalf("audit: %v %+v", err, events.Items)
		}
		// Nothing more is tried.
		f.smtp.Restart()
		f.env.Clock.Advance(48 * time.Hour)
		f.deliver(t)
		if n := len(f.smtp.To("marc@acme.com")); n != 0 {
			t.Fatalf("a failed message went out later: %d", n)
		}
		// A resend starts afresh and clears the failure.
		f.env.Clock.Advance(time.Hour)
		re, err := f.env.App.Invitations.Resend(ctx, f.owner, inv.ID)
		if err != nil || re.DeliveryError != "" {
			t.Fatalf("resend after failure: %v %+v", err, re)
		}
		f.deliver(t)
		f.smtp.Wait(t, 1, 5*time.Second)
	})
}

func TestRefusedRecipientFailsAtOnce(t *testing.T) {
	f := newFixture(t, sqlstore.SQLite, smtptest.Options{RejectRcpt: "ghost@acme.com"})
	inv := f.invite(t, "ghost@acme.com")
	f.deliver(t)
	got, _ := f.env.App.Invitations.Get(ctx, f.owner, inv.ID)
	if got.DeliveryError == "" {
		t.Fatal("a refused recipient is not recorded on the invitation")
	}
}

// TestCrashMidSendIsRetriedSoon: a worker killed after claiming leaves its emails to be
// delivered half a minute later, not after minutes; the retry mints a new link.
func TestCrashMidSendIsRetriedSoon(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newFixture(t, e, smtptest.Options{})
		f.invite(t, "marc@acme.com")
		claimed, err := f.env.App.Outbox.ClaimEmails(ctx, 10) // a worker claims, then dies
		if err != nil || len(claimed) != 1 || claimed[0].Link == "" {
			t.Fatalf("claim: %v %+v", err, claimed)
		}
		if n := f.deliver(t); n != 0 {
			t.Fatalf("a leased message was claimed again: %d", n)
		}
		f.env.Clock.Advance(31 * time.Second) // the restarted process's worker
		if n := f.deliver(t); n != 1 {
			t.Fatalf("31 s after the kill: %d delivered", n)
		}
		m := f.smtp.Wait(t, 1, 5*time.Second)[0]
		if tok := m.Token("/invitations/accept"); tok == "" || claimed[0].Link == m.Link("/invitations/accept") {
			t.Fatal("the retry did not mint a new link")
		}
	})
}

// TestLeaseRenewal: a live worker renews its lease, so a slow delivery is never claimed by
// another worker; a worker whose lease ran out and was claimed by another cannot renew it.
func TestLeaseRenewal(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newFixture(t, e, smtptest.Options{})
		f.invite(t, "marc@acme.com")
		f.invite(t, "ana@acme.com")
		claimed, err := f.env.App.Outbox.ClaimEmails(ctx, 10)
		if err != nil || len(claimed) != 2 {
			t.Fatalf("claim: %v %+v", err, claimed)
		}
		ids := []string{claimed[0].ID, claimed[1].ID}
		f.env.Clock.Advance(app.OutboxLease * 2 / 3)
		lease, kept, err := f.env.App.Outbox.RenewLease(ctx, ids, claimed[0].LeaseUntil)
		if err != nil || len(kept) != 2 {
			t.Fatalf("renew: %v %v", err, kept)
		}
		f.env.Clock.Advance(app.OutboxLease * 2 / 3) // past the first lease, within the renewed one
		if again, err := f.env.App.Outbox.ClaimEmails(ctx, 10); err != nil || len(again) != 0 {
			t.Fatalf("claimed under a renewed lease: %v %d", err, len(again))
		}
		f.env.Clock.Advance(app.OutboxLease) // the worker died: another claims
		if again, err := f.env.App.Outbox.ClaimEmails(ctx, 10); err != nil || len(again) != 2 {
			t.Fatalf("after the renewed lease ran out: %v %d", err, len(again))
		}
		if _, kept, err := f.env.App.Outbox.RenewLease(ctx, ids, lease); err != nil || len(kept) != 0 {
			t.Fatalf("a lost lease was renewed: %v %v", err, kept)
		}
	})
}

// TestMessageIDIsStable: delivery is at least once, so an email may go out twice (a worker
// killed between the server's acceptance and the record of it); both copies carry the same
// Message-ID, the outbox ID at ROSTER_BASE_URL's host, so that receivers keep one. An email
// with a one-time link gets a new link, so a new Message-ID, on each attempt.
func TestMessageIDIsStable(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newFixture(t, e, smtptest.Options{})
		// A sign-up with a taken address tells its owner: an email without a link.
		owner, err := f.env.App.Accounts.Me(ctx, f.owner)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.env.App.Auth.Signup(ctx, roster.Anonymous("192.0.2.9", "t"), app.SignupInput{Email: owner.Email, Name: "M", Password: testenv.Password}); err != nil {
			t.Fatal(err)
		}
		f.invite(t, "marc@acme.com")
		attempt := func() {
			t.Helper()
			if n := f.deliver(t); n != 2 {
				t.Fatalf("delivered %d, want 2", n)
			}
			// Killed before recording the deliveries: the emails are due again.
			if _, err := f.env.SQL(t).Exec(`UPDATE outbox SET status = 'pending', lease_until = 0 WHERE status = 'sent' AND template IN ('signup_attempt', 'invitation')`); err != nil {
				t.Fatal(err)
			}
		}
		attempt()
		attempt()
		msgs := f.smtp.Wait(t, 4, 5*time.Second)
		ids := map[string][]string{}
		for _, m := range msgs {
			ids[m.To[0]] = append(ids[m.To[0]], m.Header.Get("Message-ID"))
		}
		notice, invitation := ids[owner.Email], ids["marc@acme.com"]
		if len(notice) != 2 || notice[0] != notice[1] || !strings.HasPrefix(notice[0], "<msg_") || !strings.HasSuffix(notice[0], "@roster.example>") {
			t.Errorf("Message-IDs of two attempts of a notice: %q", notice)
		}
		if len(invitation) != 2 || invitation[0] == invitation[1] || !strings.HasSuffix(invitation[0], "@roster.example>") {
			t.Errorf("Message-IDs of two attempts of an invitation (a new link each): %q", invitation)
		}
	})
}

// TestUnknownKindIsNotSentAsEmail: the outbox's kind is real. A message of a kind this worker
// has no sender for (one a newer version writes) stays for a worker that has one.
func TestUnknownKindIsNotSentAsEmail(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newFixture(t, e, smtptest.Options{})
		now := f.env.Clock.Now().UnixMicro()
		if _, err := f.env.SQL(t).Exec(testenv.Rebind(e, `INSERT INTO outbox (id, kind, template, recipient, locale, data, next_attempt_at, created_at)
			VALUES ('msg_future', 'future_kind', 'member.added', 'https://hooks.example/x', 'en', '{}', ?, ?)`), now, now); err != nil {
			t.Fatal(err)
		}
		f.invite(t, "marc@acme.com")
		if n := f.deliver(t); n != 1 {
			t.Fatalf("claimed %d, want the email alone", n)
		}
		f.smtp.Wait(t, 1, 5*time.Second)
		if msgs := f.smtp.Messages(); len(msgs) != 1 || msgs[0].To[0] != "marc@acme.com" {
			t.Fatalf("sent %d messages: %+v", len(msgs), msgs)
		}
		status, attempts, err := f.env.DB.Read().OutboxStatus(ctx, "msg_future")
		if err != nil || status != "pending" || attempts != 0 {
			t.Fatalf("the future kind's row: %s, %d attempts, %v", status, attempts, err)
		}
	})
}

func TestWorkersNeverSendTwice(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newFixture(t, e, smtptest.Options{})
		const n = 30
		for i := range n {
			f.invite(t, fmt.Sprintf("p%d@acme.com", i))
		}
		// Two Roster processes over one database, each with its worker.
		other := testenv.NewEnvOn(t, f.env)
		workers := []*outbox.Worker{f.w, worker(t, other, f.smtp)}
		var wg sync.WaitGroup
		for _, w := range workers {
			for range 2 {
				wg.Go(func() {
					for {
						k, err := w.DeliverDue(ctx)
						if err != nil {
							t.Error(err)
							return
						}
						if k == 0 {
							return
						}
					}
				})
			}
		}
		wg.Wait()
		msgs := f.smtp.Wait(t, n, 10*time.Second)
		seen := map[string]int{}
		for _, m := range msgs {
			seen[m.To[0]]++
		}
		if len(msgs) != n || len(seen) != n {
			t.Fatalf("%d messages to %d recipients, want %d each once", len(msgs), len(seen), n)
		}
	})
}

func TestRunWakesOnCommit(t *testing.T) {
	f := newFixture(t, sqlstore.SQLite, smtptest.Options{})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { f.w.Run(runCtx); close(done) }()
	defer func() { cancel(); <-done }()
	f.invite(t, "marc@acme.com") // the poll is an hour: only the commit's signal can deliver it
	f.smtp.Wait(t, 1, 10*time.Second)
}

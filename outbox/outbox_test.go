package outbox_test

import (
	"context"
	"fmt"
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

func newFixture(t *testing.T, e sqlstore.Engine, o smtptest.Options) *fixture {
	env := testenv.NewEnv(t, e)
	srv := smtptest.Start(t, o)
	f := &fixture{env: env, smtp: srv, w: worker(t, env, srv)}
	f.owner, _ = env.User(t, "Olivia")
	f.org = env.Org(t, f.owner, "Acme")
	// The owner's verification email is not what these tests are about: mark it sent.
	claimed, err := env.App.ClaimEmails(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range claimed {
		if err := env.App.EmailSent(ctx, m.ID); err != nil {
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
	inv, err := f.env.App.CreateInvitation(ctx, f.owner, f.org.ID, app.InvitationInput{Email: addr})
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
		if _, err := f.env.App.AcceptInvitation(ctx, roster.Anonymous("192.0.2.9", "t"),
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
		got, err := f.env.App.Invitation(ctx, f.owner, inv.ID)
		if err != nil || got.DeliveryError != app.DeliveryFailedMessage {
			t.Fatalf("invitation after failing: %v %+v", err, got)
		}
		events, err := f.env.App.AuditEvents(ctx, f.owner, f.org.ID, app.AuditFilter{Action: "invitation.delivery_failed"})
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
		re, err := f.env.App.ResendInvitation(ctx, f.owner, inv.ID)
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
	got, _ := f.env.App.Invitation(ctx, f.owner, inv.ID)
	if got.DeliveryError == "" {
		t.Fatal("a refused recipient is not recorded on the invitation")
	}
}

func TestCrashMidSendIsRetriedAfterTheLease(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		f := newFixture(t, e, smtptest.Options{})
		f.invite(t, "marc@acme.com")
		claimed, err := f.env.App.ClaimEmails(ctx, 10) // a worker claims, then dies
		if err != nil || len(claimed) != 1 || claimed[0].Link == "" {
			t.Fatalf("claim: %v %+v", err, claimed)
		}
		if n := f.deliver(t); n != 0 {
			t.Fatalf("a leased message was claimed again: %d", n)
		}
		f.env.Clock.Advance(5*time.Minute + time.Second)
		if n := f.deliver(t); n != 1 {
			t.Fatalf("after the lease: %d", n)
		}
		m := f.smtp.Wait(t, 1, 5*time.Second)[0]
		if tok := m.Token("/invitations/accept"); tok == "" || claimed[0].Link == m.Link("/invitations/accept") {
			t.Fatal("the retry did not mint a new link")
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

package testenv

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/rosterhq/roster/mail"
	"github.com/rosterhq/roster/outbox"
)

// Outbox delivers an Env's emails on demand into a development mailbox, so tests read what
// was sent and follow its links.
type Outbox struct {
	Box    *mail.Mailbox
	Worker *outbox.Worker
}

// Outbox returns the env's outbox delivery, into a mailbox of its own.
func (env *Env) Outbox(t testing.TB) *Outbox {
	t.Helper()
	r, err := mail.NewRenderer("")
	if err != nil {
		t.Fatal(err)
	}
	box := mail.NewMailbox(10000, nil)
	return &Outbox{Box: box, Worker: outbox.New(env.App, r, box, Logger(t), outbox.Options{Batch: 100})}
}

// RunOutbox runs the env's outbox worker as serve does, sending its emails through send
// (webhooks and logout tokens go out on their own), until the test ends. It looks for due
// work every poll besides waking at each commit that writes some.
func (env *Env) RunOutbox(t testing.TB, send mail.Sender, poll time.Duration) {
	t.Helper()
	r, err := mail.NewRenderer("")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		outbox.New(env.App, r, send, Logger(t), outbox.Options{Poll: poll}).Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// Deliver sends every email that is due and returns the mailbox, newest first.
func (o *Outbox) Deliver(t testing.TB) []mail.Message {
	t.Helper()
	for {
		n, err := o.Worker.DeliverDue(Ctx)
		if err != nil {
			t.Fatalf("deliver: %v", err)
		}
		if n == 0 {
			return o.Box.Messages()
		}
	}
}

// Last delivers what is due and returns the newest email of a template to an address; it
// fails the test when there is none.
func (o *Outbox) Last(t testing.TB, to, template string) mail.Message {
	t.Helper()
	for _, m := range o.Deliver(t) {
		if m.To == to && m.Template == template {
			return m
		}
	}
	t.Fatalf("no %s email to %s", template, to)
	return mail.Message{}
}

// Count delivers what is due and counts the emails of a template to an address.
func (o *Outbox) Count(t testing.TB, to, template string) int {
	t.Helper()
	n := 0
	for _, m := range o.Deliver(t) {
		if m.To == to && m.Template == template {
			n++
		}
	}
	return n
}

var tokenPattern = regexp.MustCompile(`token=(rl_[A-Za-z0-9_-]{43})`)

// Token returns the one-time token of the link in an email, "" when it has none.
func Token(m mail.Message) string {
	if s := tokenPattern.FindStringSubmatch(m.Text); s != nil {
		return s[1]
	}
	return ""
}

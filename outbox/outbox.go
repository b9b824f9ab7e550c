// Package outbox is the worker that delivers the emails written to the outbox by Roster's
// use cases: at least once, with retries and backoff, from one or several processes. The
// rules (claiming, minting links, when to retry or give up) are app's; this package runs
// the loop, renders with package mail and hands messages to a sender.
package outbox

import (
	"context"
	"log/slog"
	"time"

	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/mail"
)

// Options tune the worker.
type Options struct {
	Poll        time.Duration // how often to look for due emails without being woken; 10 s when zero
	Batch       int           // emails claimed at once; 20 when zero
	SendTimeout time.Duration // bound on one delivery; 60 s when zero
}

// Worker delivers the outbox's emails.
type Worker struct {
	app    *app.App
	render *mail.Renderer
	send   mail.Sender
	log    *slog.Logger
	opts   Options
}

// New returns a worker delivering with send.
func New(a *app.App, r *mail.Renderer, send mail.Sender, log *slog.Logger, o Options) *Worker {
	if o.Poll <= 0 {
		o.Poll = 10 * time.Second
	}
	if o.Batch <= 0 {
		o.Batch = 20
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = 60 * time.Second
	}
	return &Worker{app: a, render: r, send: send, log: log, opts: o}
}

// Run delivers until ctx ends: at once when a use case commits an email, and every poll
// interval for retries that fall due and emails written by other processes.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.opts.Poll)
	defer t.Stop()
	for {
		for ctx.Err() == nil {
			n, err := w.DeliverDue(ctx)
			if err != nil {
				if ctx.Err() == nil {
					w.log.Error("outbox: claim emails", "err", err)
				}
				break
			}
			if n < w.opts.Batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-w.app.OutboxSignal():
		case <-t.C:
		}
	}
}

// DeliverDue claims the emails that are due and delivers them one by one; it returns how
// many it claimed. Each outcome is recorded as soon as it is known.
func (w *Worker) DeliverDue(ctx context.Context) (int, error) {
	emails, err := w.app.ClaimEmails(ctx, w.opts.Batch)
	if err != nil {
		return 0, err
	}
	for _, e := range emails {
		if ctx.Err() != nil {
			break // the lease runs out and another run takes the rest
		}
		w.deliver(ctx, e)
	}
	return len(emails), nil
}

func (w *Worker) deliver(ctx context.Context, e app.OutboundEmail) {
	link := e.Link
	if link == "" {
		link, _ = e.Data["url"].(string) // a plain link to a page, never a secret
	}
	msg, err := w.render.Render(mail.Email{ID: e.ID, Template: e.Template, Locale: e.Locale, To: e.To, Data: e.Data, Link: link})
	if err == nil {
		sendCtx, cancel := context.WithTimeout(ctx, w.opts.SendTimeout)
		err = w.send.Send(sendCtx, msg)
		cancel()
	}
	// Logs name the message, its recipient and subject: never its content or link.
	if err != nil {
		permanent := mail.IsPermanent(err)
		w.log.Warn("outbox: email not delivered", "id", e.ID, "template", e.Template, "to", e.To, "attempt", e.Attempts,
			"permanent", permanent, "err", err)
		if ferr := w.app.EmailFailed(context.WithoutCancel(ctx), e, err, permanent); ferr != nil {
			w.log.Error("outbox: record failed delivery", "id", e.ID, "err", ferr)
		}
		return
	}
	if err := w.app.EmailSent(context.WithoutCancel(ctx), e.ID); err != nil {
		w.log.Error("outbox: record delivery", "id", e.ID, "err", err)
		return
	}
	w.log.Info("outbox: email sent", "id", e.ID, "template", e.Template, "to", e.To, "subject", msg.Subject)
}

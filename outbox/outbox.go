// Package outbox is the worker that delivers the emails written to the outbox by Roster's
// use cases: at least once, with retries and backoff, from one or several processes. The
// rules (claiming, minting links, when to retry or give up) are app's; this package runs
// the loop, renders with package mail and hands messages to a sender.
package outbox

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/mail"
)

// Options tune the worker.
type Options struct {
	Poll        time.Duration // how often to look for due emails without being woken; 10 s when zero
	Batch       int           // emails claimed at once; 20 when zero
	SendTimeout time.Duration // bound on one delivery; 60 s when zero
}

// Worker delivers the outbox's messages, each kind with its sender.
type Worker struct {
	app     *app.App
	render  *mail.Renderer
	send    mail.Sender
	log     *slog.Logger
	opts    Options
	senders map[string]func(context.Context, app.OutboundEmail)
	kinds   []string // the keys of senders: what this worker claims
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
	w := &Worker{app: a, render: r, send: send, log: log, opts: o}
	w.senders = map[string]func(context.Context, app.OutboundEmail){app.KindEmail: w.deliver, app.KindWebhook: w.deliverWebhook}
	for k := range w.senders {
		w.kinds = append(w.kinds, k)
	}
	return w
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
				switch {
				case ctx.Err() != nil:
				case roster.ErrorCode(err) == roster.EUnavailable:
					// the database logs its outage once; the next round tries again
					w.log.Debug("outbox: claim", "err", err)
				default:
					w.log.Error("outbox: claim", "err", err)
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

// DeliverDue claims the messages that are due and delivers them one by one, each with the
// sender of its kind; it returns how many it claimed. Each outcome is recorded as soon as it
// is known. While it delivers, it renews the lease of the messages not yet delivered.
func (w *Worker) DeliverDue(ctx context.Context) (int, error) {
	claimed, err := w.app.ClaimOutbox(ctx, w.kinds, w.opts.Batch)
	if err != nil || len(claimed) == 0 {
		return 0, err
	}
	l := newLease(claimed)
	renewCtx, stop := context.WithCancel(ctx)
	renewed := make(chan struct{})
	go func() { defer close(renewed); w.renew(renewCtx, l) }()
	defer func() { stop(); <-renewed }()
	for _, e := range claimed {
		if ctx.Err() != nil {
			break // the lease runs out and another run takes the rest
		}
		if !l.holds(e.ID) {
			w.log.Warn("outbox: lease lost before delivery; another worker has the message", "id", e.ID)
			continue
		}
		send, ok := w.senders[e.Kind]
		if !ok { // ClaimOutbox returns only the kinds asked for
			w.log.Error("outbox: no sender for the kind of a claimed message", "id", e.ID, "kind", e.Kind)
			continue
		}
		send(ctx, e)
		l.done(e.ID)
	}
	return len(claimed), nil
}

// lease is what one round of a worker holds: the messages whose outcome is not recorded yet
// and the lease they share.
type lease struct {
	mu      sync.Mutex
	until   time.Time
	pending map[string]bool
}

func newLease(claimed []app.OutboundEmail) *lease {
	l := &lease{until: claimed[0].LeaseUntil, pending: map[string]bool{}}
	for _, e := range claimed {
		l.pending[e.ID] = true
	}
	return l
}

// holds reports whether the round still holds a message's lease.
func (l *lease) holds(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pending[id]
}

// done lets go of a message whose outcome is recorded (which ended its lease).
func (l *lease) done(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.pending, id)
}

// renew extends the lease of the messages not delivered yet, the one being delivered
// included, every third of the lease until ctx ends: a slow mail server (up to SendTimeout
// per message) never lets the lease run out under a live worker.
func (w *Worker) renew(ctx context.Context, l *lease) {
	t := time.NewTicker(app.OutboxLease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		l.mu.Lock()
		ids := make([]string, 0, len(l.pending))
		for id := range l.pending {
			ids = append(ids, id)
		}
		held := l.until
		l.mu.Unlock()
		until, kept, err := w.app.RenewLease(ctx, ids, held)
		if err != nil {
			if ctx.Err() == nil {
				w.log.Warn("outbox: renew lease", "err", err)
			}
			continue
		}
		l.mu.Lock()
		l.until = until
		keep := map[string]bool{}
		for _, id := range kept {
			keep[id] = true
		}
		for id := range l.pending {
			if !keep[id] {
				delete(l.pending, id) // another worker may have it now
			}
		}
		l.mu.Unlock()
	}
}

func (w *Worker) deliver(ctx context.Context, e app.OutboundEmail) {
	link := e.Link
	if link == "" {
		link, _ = e.Data["url"].(string) // a plain link to a page, never a secret
	}
	msg, err := w.render.Render(mail.Email{ID: e.ID, Template: e.Template, Locale: e.Locale, To: e.To, Data: e.Data, Link: link})
	if err == nil {
		msg.MessageID = e.MessageID
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

// deliverWebhook makes one attempt at a webhook delivery; app signs, sends (with its own
// bounds: 10 s, no redirects, no private addresses) and records the outcome.
func (w *Worker) deliverWebhook(ctx context.Context, e app.OutboundEmail) {
	if err := w.app.DeliverWebhook(ctx, e); err != nil && ctx.Err() == nil {
		// Not recorded: the lease runs out and the delivery is attempted again.
		w.log.Error("outbox: webhook delivery", "id", e.ID, "err", err)
	}
}

// Package outbox is the worker that delivers what Roster's use cases write to the outbox:
// emails, webhook deliveries (one event to one endpoint) and back-channel logouts (one user's
// logout at one application), at least once, with retries and backoff, from one or several
// processes. Each kind has its own loop, so that an email
// never waits behind receivers that hang. The rules (claiming, the order of an endpoint's
// deliveries, minting links, when to retry or give up) are app's; this package runs the
// loops, renders emails with package mail and hands them to a sender.
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
	Poll        time.Duration // how often to look for due messages without being woken; 10 s when zero
	Batch       int           // emails claimed at once; 20 when zero
	SendTimeout time.Duration // bound on one email's delivery; 60 s when zero
	// Webhooks is how many webhook deliveries are in flight at once, each to a different
	// endpoint; 16 when zero.
	Webhooks int
	// Run is how many deliveries in a row a webhook slot makes to one endpoint (a backlog)
	// before it goes back to the claim round, where other endpoints' deliveries compete;
	// 100 when zero.
	Run int
}

// Worker delivers the outbox's messages: emails in one loop, webhook deliveries in another,
// so that an email never waits behind webhooks to receivers that hang.
type Worker struct {
	app    *app.App
	render *mail.Renderer
	send   mail.Sender
	log    *slog.Logger
	opts   Options
}

// New returns a worker delivering emails with send and webhooks with app.
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
	if o.Webhooks <= 0 {
		o.Webhooks = 16
	}
	if o.Run <= 0 {
		o.Run = 100
	}
	return &Worker{app: a, render: r, send: send, log: log, opts: o}
}

// Run delivers until ctx ends, in three loops of their own: emails one batch at a time,
// webhooks with up to Options.Webhooks deliveries in flight (one per endpoint), and
// back-channel logouts a batch at a time, the batch's posts in parallel. Each loop starts at
// once when a commit wrote work for it (app.Outbox.Wake: in this process, or on PostgreSQL in any),
// and every poll interval for retries that fall due.
func (w *Worker) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { w.runBatches(ctx, app.KindEmail, w.DeliverEmails) })
	wg.Go(func() { w.runWebhooks(ctx) })
	wg.Go(func() { w.runBatches(ctx, app.KindBackChannelLogout, w.DeliverLogouts) })
	wg.Wait()
}

func (w *Worker) claimFailed(ctx context.Context, err error) {
	switch {
	case ctx.Err() != nil:
	case roster.ErrorCode(err) == roster.EUnavailable:
		// the database logs its outage once; the next round tries again
		w.log.Debug("outbox: claim", "err", err)
	default:
		w.log.Error("outbox: claim", "err", err)
	}
}

// runBatches delivers batches of a kind with deliver, which returns how many it claimed, while
// they are full, then waits to be woken for that kind or for the poll interval.
func (w *Worker) runBatches(ctx context.Context, kind string, deliver func(context.Context) (int, error)) {
	t := time.NewTicker(w.opts.Poll)
	defer t.Stop()
	for {
		wake := w.app.Outbox.Wake(kind) // before looking: a commit from now on closes it
		for ctx.Err() == nil {
			n, err := deliver(ctx)
			if err != nil {
				w.claimFailed(ctx, err)
				break
			}
			if n < w.opts.Batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-t.C:
		}
	}
}

// runWebhooks claims the heads of the endpoints' orders while it has free slots, and hands
// each endpoint's deliveries to a slot of its own.
func (w *Worker) runWebhooks(ctx context.Context) {
	t := time.NewTicker(w.opts.Poll)
	defer t.Stop()
	rec := newRecorder(w.app)
	defer rec.stop() // after the slots: they may still record
	var slots sync.WaitGroup
	defer slots.Wait()
	freed := make(chan struct{}, w.opts.Webhooks) // never full: one send per busy slot
	busy := 0
	for {
		wake := w.app.Outbox.Wake(app.KindWebhook)
		if busy < w.opts.Webhooks && ctx.Err() == nil {
			claimed, err := w.app.Webhooks.Claim(ctx, w.opts.Webhooks-busy)
			if err != nil {
				w.claimFailed(ctx, err)
			}
			for _, group := range byEndpoint(claimed) {
				busy++
				slots.Go(func() {
					defer func() { freed <- struct{}{} }()
					w.deliverWebhooks(ctx, group, rec.record)
				})
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-freed:
			busy--
		case <-wake:
		case <-t.C:
		}
	}
}

// byEndpoint groups claimed deliveries by endpoint, in claim order: an instance-wide
// endpoint may have several (of different organizations), sent one after the other.
func byEndpoint(claimed []app.OutboundEmail) [][]app.OutboundEmail {
	var groups [][]app.OutboundEmail
	at := map[string]int{}
	for _, m := range claimed {
		i, ok := at[m.EndpointID]
		if !ok {
			i = len(groups)
			at[m.EndpointID] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], m)
	}
	return groups
}

// DeliverDue delivers what is due now and returns how many messages it claimed: a batch of
// emails, a batch of back-channel logouts, then the webhook deliveries at the head of their
// endpoints' orders, each followed by the rest of its endpoint's backlog (up to Options.Run).
// Tests and tools call it; Run is the worker's loop.
func (w *Worker) DeliverDue(ctx context.Context) (int, error) {
	n, err := w.DeliverEmails(ctx)
	if err != nil {
		return n, err
	}
	logouts, err := w.DeliverLogouts(ctx)
	n += logouts
	if err != nil {
		return n, err
	}
	claimed, err := w.app.Webhooks.Claim(ctx, w.opts.Batch)
	if err != nil {
		return n, err
	}
	for _, group := range byEndpoint(claimed) {
		w.deliverWebhooks(ctx, group, func(ctx context.Context, o app.WebhookOutcome) (app.WebhookNext, error) {
			n, err := w.app.Webhooks.Record(ctx, []app.WebhookOutcome{o})
			if err != nil {
				return app.WebhookNext{}, err
			}
			return n[0], nil
		})
	}
	return n + len(claimed), nil
}

// DeliverEmails claims the emails that are due and delivers them one by one; it returns how
// many it claimed. Each outcome is recorded as soon as it is known. While it delivers, it
// renews the lease of the emails not yet delivered.
func (w *Worker) DeliverEmails(ctx context.Context) (int, error) {
	claimed, err := w.app.Outbox.Claim(ctx, []string{app.KindEmail}, w.opts.Batch)
	if err != nil || len(claimed) == 0 {
		return 0, err
	}
	l := w.hold(ctx, claimed)
	defer l.release()
	for _, e := range claimed {
		if ctx.Err() != nil {
			break // the lease runs out and another run takes the rest
		}
		if !l.holds(e.ID) {
			w.log.Warn("outbox: lease lost before delivery; another worker has the message", "id", e.ID)
			continue
		}
		w.deliver(ctx, e)
		l.done(e.ID)
	}
	return len(claimed), nil
}

// DeliverLogouts claims the back-channel logouts that are due and posts them in parallel (each
// bounded by a few seconds); it returns how many it claimed. Each outcome is recorded as soon
// as it is known; the lease of those still in flight is renewed meanwhile.
func (w *Worker) DeliverLogouts(ctx context.Context) (int, error) {
	claimed, err := w.app.Outbox.ClaimLogouts(ctx, w.opts.Batch)
	if err != nil || len(claimed) == 0 {
		return 0, err
	}
	l := w.hold(ctx, claimed)
	defer l.release()
	var posts sync.WaitGroup
	for _, m := range claimed {
		posts.Go(func() {
			defer l.done(m.ID)
			if err := w.app.Outbox.DeliverLogout(ctx, m); err != nil && ctx.Err() == nil {
				// Not recorded: the lease runs out and the logout is attempted again.
				w.log.Error("outbox: back-channel logout", "id", m.ID, "err", err)
			}
		})
	}
	posts.Wait()
	return len(claimed), nil
}

// recordFunc records the outcome of an attempt and returns the delivery claimed next.
type recordFunc func(context.Context, app.WebhookOutcome) (app.WebhookNext, error)

// deliverWebhooks sends claimed deliveries to one endpoint one after the other, each followed
// by the next ones of its endpoint's order while they are due and succeed (up to
// Options.Run): a backlog drains in order without waiting for claim rounds.
func (w *Worker) deliverWebhooks(ctx context.Context, group []app.OutboundEmail, record recordFunc) {
	l := w.hold(ctx, group)
	defer l.release()
	for _, m := range group {
		for n := 1; ctx.Err() == nil; n++ {
			if !l.holds(m.ID) {
				w.log.Warn("outbox: lease lost before delivery; another worker has the message", "id", m.ID)
				break
			}
			var next app.WebhookNext
			o, toRecord, err := w.app.Webhooks.Attempt(ctx, m, n < w.opts.Run)
			if err == nil && toRecord {
				next, err = record(ctx, o)
			}
			l.done(m.ID)
			if err != nil {
				if ctx.Err() == nil {
					// Not recorded: the lease runs out and the delivery is attempted again.
					w.log.Error("outbox: webhook delivery", "id", m.ID, "err", err)
				}
				break
			}
			if !next.OK {
				break
			}
			l.add(next.Next)
			m = next.Next
		}
	}
}

// recorder records the outcomes of the webhook slots in shared transactions: each takes
// every outcome waiting at that moment (up to 64), so that concurrent deliveries share a
// commit instead of queueing for one each.
type recorder struct {
	app  *app.App
	reqs chan recordReq
	done chan struct{}
}

type recordReq struct {
	ctx   context.Context
	o     app.WebhookOutcome
	reply chan recordRes
}

type recordRes struct {
	next app.WebhookNext
	err  error
}

const recordBatch = 64

// recorders is how many transactions record at once: one on SQLite, where writes take turns
// (so a batch is as large as it gets), four on PostgreSQL, where they overlap.
func recorders(a *app.App) int {
	if a.Engine() == "postgres" {
		return 4
	}
	return 1
}

func newRecorder(a *app.App) *recorder {
	r := &recorder{app: a, reqs: make(chan recordReq), done: make(chan struct{})}
	var running sync.WaitGroup
	for range recorders(a) {
		running.Go(r.run)
	}
	go func() { running.Wait(); close(r.done) }()
	return r
}

// record hands an outcome to the recorder and waits until it is committed.
func (r *recorder) record(ctx context.Context, o app.WebhookOutcome) (app.WebhookNext, error) {
	reply := make(chan recordRes, 1)
	r.reqs <- recordReq{ctx: ctx, o: o, reply: reply}
	res := <-reply
	return res.next, res.err
}

func (r *recorder) stop() { close(r.reqs); <-r.done }

func (r *recorder) run() {
	for req := range r.reqs {
		batch := []recordReq{req}
	drain:
		for len(batch) < recordBatch {
			select {
			case more, ok := <-r.reqs:
				if !ok {
					break drain
				}
				batch = append(batch, more)
			default:
				break drain
			}
		}
		outcomes := make([]app.WebhookOutcome, len(batch))
		for i, b := range batch {
			outcomes[i] = b.o
		}
		// The slots share the worker's context: the first request's is everyone's.
		next, err := r.app.Webhooks.Record(batch[0].ctx, outcomes)
		for i, b := range batch {
			if err != nil {
				b.reply <- recordRes{err: err}
			} else {
				b.reply <- recordRes{next: next[i]}
			}
		}
	}
}

// lease is what a round of a worker holds: the messages whose outcome is not recorded yet,
// each with the lease it holds (those claimed together share one).
type lease struct {
	mu      sync.Mutex
	pending map[string]time.Time
	stop    func()
}

// hold starts holding claimed messages: their lease is renewed every third of it until
// release, so that a slow receiver never lets it run out under a live worker.
func (w *Worker) hold(ctx context.Context, claimed []app.OutboundEmail) *lease {
	l := &lease{pending: map[string]time.Time{}}
	for _, m := range claimed {
		l.add(m)
	}
	renewCtx, stop := context.WithCancel(ctx)
	renewed := make(chan struct{})
	go func() { defer close(renewed); w.renew(renewCtx, l) }()
	l.stop = func() { stop(); <-renewed }
	return l
}

func (l *lease) release() { l.stop() }

func (l *lease) add(m app.OutboundEmail) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending[m.ID] = m.LeaseUntil
}

// holds reports whether the round still holds a message's lease.
func (l *lease) holds(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.pending[id]
	return ok
}

// done lets go of a message whose outcome is recorded (which ended its lease).
func (l *lease) done(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.pending, id)
}

// renew extends the lease of the messages not delivered yet, the one being delivered
// included, every third of the lease until ctx ends.
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
		byLease := map[time.Time][]string{}
		for id, until := range l.pending {
			byLease[until] = append(byLease[until], id)
		}
		l.mu.Unlock()
		for held, ids := range byLease {
			until, kept, err := w.app.Outbox.RenewLease(ctx, ids, held)
			if err != nil {
				if ctx.Err() == nil {
					w.log.Warn("outbox: renew lease", "err", err)
				}
				continue
			}
			keep := map[string]bool{}
			for _, id := range kept {
				keep[id] = true
			}
			l.mu.Lock()
			for _, id := range ids {
				if _, still := l.pending[id]; !still {
					continue // delivered meanwhile
				}
				if keep[id] {
					l.pending[id] = until
				} else {
					delete(l.pending, id) // another worker may have it now
				}
			}
			l.mu.Unlock()
		}
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
		if ferr := w.app.Outbox.EmailFailed(context.WithoutCancel(ctx), e, err, permanent); ferr != nil {
			w.log.Error("outbox: record failed delivery", "id", e.ID, "err", ferr)
		}
		return
	}
	if err := w.app.Outbox.EmailSent(context.WithoutCancel(ctx), e.ID); err != nil {
		w.log.Error("outbox: record delivery", "id", e.ID, "err", err)
		return
	}
	w.log.Info("outbox: email sent", "id", e.ID, "template", e.Template, "to", e.To, "subject", msg.Subject)
}

package mail

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// DefaultMailboxSize is how many messages the development mailbox keeps.
const DefaultMailboxSize = 500

// Mailbox is the development mailbox: with no SMTP server configured, every message lands
// here, in memory, the oldest dropped beyond its size. Operators read it through the API
// (GET /v1/admin/mailbox) and the console. It logs each message's subject and recipient,
// never its content: the content may hold a one-time link.
type Mailbox struct {
	mu   sync.Mutex
	msgs []Message // oldest first
	size int
	log  *slog.Logger
	now  func() time.Time
}

// NewMailbox returns a mailbox keeping at most size messages (DefaultMailboxSize when size < 1).
func NewMailbox(size int, log *slog.Logger) *Mailbox {
	if size < 1 {
		size = DefaultMailboxSize
	}
	return &Mailbox{size: size, log: log, now: func() time.Time { return time.Now().UTC() }}
}

// Send keeps a message.
func (b *Mailbox) Send(ctx context.Context, m Message) error {
	b.mu.Lock()
	m.At = b.now()
	b.msgs = append(b.msgs, m)
	if len(b.msgs) > b.size {
		b.msgs = slices.Delete(b.msgs, 0, len(b.msgs)-b.size)
	}
	b.mu.Unlock()
	if b.log != nil {
		b.log.InfoContext(ctx, "email kept in the development mailbox (no SMTP configured): read it at GET /v1/admin/mailbox",
			"to", m.To, "subject", m.Subject, "template", m.Template)
	}
	return nil
}

// Messages returns the messages kept, newest first.
func (b *Mailbox) Messages() []Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := slices.Clone(b.msgs)
	slices.Reverse(out)
	return out
}

// Len returns how many messages are kept.
func (b *Mailbox) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.msgs)
}

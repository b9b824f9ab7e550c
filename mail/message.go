// Package mail turns the outbox's emails into messages people read, and delivers them:
// templates (HTML and plain text, in English, French and Spanish) and the senders: SMTP
// (ROSTER_SMTP_URL) and, when no SMTP server is configured, a development mailbox in memory.
package mail

import (
	"context"
	"errors"
	"time"
)

// Message is a rendered email, ready to send.
type Message struct {
	ID string // the outbox ID
	// MessageID is the Message-ID header, without angle brackets; the outbox ID at the SMTP
	// server's host when empty.
	MessageID string
	Template  string
	Locale    string
	To        string
	Subject   string
	Text      string
	HTML      string
	At        time.Time // when it was handed to the sender
}

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// permanentError marks a failure that retrying cannot cure: a recipient the server refuses
// for good, a message that cannot be rendered.
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent marks err as a failure that retrying cannot cure.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether a delivery failed for good (see Permanent).
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

package api

import (
	"context"
	"net/http"

	"github.com/rosterhq/roster/mail"
)

// MailboxMessage is an email kept by the development mailbox.
type MailboxMessage struct {
	ID       string `json:"id"`
	Template string `json:"template"`
	Locale   string `json:"locale"`
	To       string `json:"to"`
	Subject  string `json:"subject"`
	Text     string `json:"text"`
	HTML     string `json:"html"`
	At       Time   `json:"at"`
}

type mailboxOutput struct {
	CacheControl string `header:"Cache-Control"`
	Body         struct {
		Messages []MailboxMessage `json:"messages"`
	}
}

func (s *Server) registerMailbox() {
	register(s.api, op("admin-mailbox", http.MethodGet, "/v1/admin/mailbox", "Read the development mailbox", "Operators"),
		func(ctx context.Context, _ *struct{}) (*mailboxOutput, error) {
			msgs, err := s.app.Outbox.Mailbox(ctx, actor(ctx))
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &mailboxOutput{CacheControl: "no-store"}
			out.Body.Messages = mapSlice(msgs, func(m mail.Message) MailboxMessage {
				return MailboxMessage{ID: m.ID, Template: m.Template, Locale: m.Locale, To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML, At: Time(m.At)}
			})
			return out, nil
		}, withDescription("Without ROSTER_SMTP_URL, every email lands here (the latest 500, newest first), links included. Operators only."))
}

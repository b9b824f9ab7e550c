package mail_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/smtptest"
	"github.com/rosterhq/roster/mail"
)

// sampleData gives every template the data the use cases give it.
func sampleData(template string) map[string]any {
	d := map[string]any{"name": "Marc", "org_name": "Acme <b>Shops</b>", "inviter_name": "Olivia", "role": "member",
		"expires_at": "2026-11-29T09:00:00Z", "new_email": "m•••c@acme.com", "invitee_name": "Marc", "invitee_email": "marc@acme.com",
		"from_name": "Olivia", "to_name": "Ana", "requested_by": "Olivia",
		"key_name": "Zendesk", "by_name": "Olivia", "by_other": true, "passkey_name": "Laptop"}
	if template == "webhook_disabled" {
		d["endpoint_url"], d["days"], d["gone"], d["last_error"] = "https://hooks.acme.com/roster", 3, false, "HTTP Service Unavailable"
	}
	if template == "api_key_created" {
		d["store_name"] = "Shop A"
	}
	if template == "second_factor_failures" {
		d["count"] = 3
	}
	if template == "invitation" {
		d["stores"] = []any{map[string]any{"name": "Shop A", "role": "admin", "role_name": "Admin"},
			map[string]any{"name": "Shop B", "role": "rol_x", "role_name": "Creators"}}
		d["message"] = "Welcome aboard!\nSee you soon."
		delete(d, "name")
	}
	return d
}

func TestEveryTemplateRendersInEveryLocale(t *testing.T) {
	r, err := mail.NewRenderer("")
	if err != nil {
		t.Fatal(err)
	}
	// The templates are parsed on the first email: a broken one fails here, in the tests.
	if _, err := r.Render(mail.Email{Template: "password_changed", To: "a@b.co", Data: sampleData("password_changed")}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Locales(), ","); got != "en,es,fr" {
		t.Fatalf("locales %s", got)
	}
	link := "https://roster.example/invitations/accept?token=rl_abc"
	for _, loc := range r.Locales() {
		for _, name := range mail.Templates {
			m, err := r.Render(mail.Email{ID: "msg_1", Template: name, Locale: loc, To: "marc@acme.com", Data: sampleData(name), Link: link})
			if err != nil {
				t.Fatalf("%s/%s: %v", loc, name, err)
			}
			for part, s := range map[string]string{"subject": m.Subject, "text": m.Text, "html": m.HTML} {
				if s == "" || strings.Contains(s, "<no value>") || strings.Contains(s, "{{") {
					t.Errorf("%s/%s %s: %q", loc, name, part, s)
				}
			}
			if strings.ContainsAny(m.Subject, "\r\n") {
				t.Errorf("%s/%s: line break in subject", loc, name)
			}
			if !strings.Contains(m.Text, link) || !strings.Contains(m.HTML, `href="`+strings.ReplaceAll(link, "&", "&amp;")+`"`) {
				t.Errorf("%s/%s: link missing", loc, name)
			}
			if strings.Contains(m.HTML, "<b>Shops</b>") {
				t.Errorf("%s/%s: data not escaped in HTML", loc, name)
			}
		}
	}
	// The invitation names the organization, the inviter, the stores and the expiry, in the
	// recipient's language.
	m, _ := r.Render(mail.Email{Template: "invitation", Locale: "fr", To: "a@b.co", Data: sampleData("invitation"), Link: link})
	for _, want := range []string{"Olivia", "Acme <b>Shops</b>", "Shop A (Administrateur)", "Shop B (Creators)", "29 novembre 2026", "Accepter l'invitation"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("French invitation lacks %q:\n%s", want, m.Text)
		}
	}
	m, _ = r.Render(mail.Email{Template: "invitation", Locale: "xx", To: "a@b.co", Data: sampleData("invitation"), Link: link})
	if m.Locale != "en" || !strings.Contains(m.Subject, "invited you") {
		t.Errorf("unknown locale falls back to English: %q", m.Subject)
	}
}

func TestRenderRefusesHeaderInjection(t *testing.T) {
	r, err := mail.NewRenderer("")
	if err != nil {
		t.Fatal(err)
	}
	d := sampleData("invitation")
	d["org_name"] = "Acme\r\nBcc: victim@example.com"
	if _, err := r.Render(mail.Email{Template: "invitation", To: "a@b.co", Data: d}); !mail.IsPermanent(err) {
		t.Fatalf("CR/LF in the subject: %v", err)
	}
	if _, err := r.Render(mail.Email{Template: "password_changed", To: "a@b.co\r\nBcc: x@y.z", Data: sampleData("x")}); !mail.IsPermanent(err) {
		t.Fatalf("CR/LF in the recipient: %v", err)
	}
	if _, err := r.Render(mail.Email{Template: "nope", To: "a@b.co"}); !mail.IsPermanent(err) {
		t.Fatalf("unknown template: %v", err)
	}
}

func render(t *testing.T) mail.Message {
	t.Helper()
	r, err := mail.NewRenderer("")
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Render(mail.Email{ID: "msg_test", Template: "password_reset", Locale: "es", To: "marc@acme.com", Data: sampleData("password_reset"),
		Link: "https://roster.example/reset-password?token=rl_secret"})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSMTPModes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		opts    smtptest.Options
		wantTLS bool
	}{
		{"plain relay", smtptest.Options{}, false},
		{"relay offering STARTTLS", smtptest.Options{StartTLS: true}, true},
		{"credentials over STARTTLS", smtptest.Options{StartTLS: true, User: "roster", Password: "s3cret pass"}, true},
		{"implicit TLS", smtptest.Options{ImplicitTLS: true, User: "roster", Password: "pw"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := smtptest.Start(t, c.opts)
			s, err := mail.NewSMTP(mail.SMTPConfig{URL: srv.URL(), From: "Roster <roster@example.com>", TLS: srv.ClientTLS(), Timeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			m := render(t)
			if err := s.Send(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			got := srv.Wait(t, 1, 5*time.Second)[0]
			if got.TLS != c.wantTLS || got.AuthUser != c.opts.User || got.From != "roster@example.com" || got.To[0] != "marc@acme.com" {
				t.Fatalf("received %+v", got)
			}
			if got.Subject != m.Subject || got.Token("reset-password") != "rl_secret" || !strings.Contains(got.HTML, "rl_secret") {
				t.Fatalf("content: subject %q, text %q", got.Subject, got.Text)
			}
		})
	}
}

func TestSMTPCredentialsNeverInClear(t *testing.T) {
	t.Parallel()
	// A server that offers no STARTTLS: with credentials, Roster refuses to send.
	srv := smtptest.Start(t, smtptest.Options{})
	s, err := mail.NewSMTP(mail.SMTPConfig{URL: "smtp://user:pw@" + srv.Addr(), From: "roster@example.com", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), render(t)); err == nil || mail.IsPermanent(err) {
		t.Fatalf("credentials without TLS: %v", err)
	}
	if len(srv.Messages()) != 0 {
		t.Fatal("a message went out without TLS")
	}
}

func TestSMTPFailures(t *testing.T) {
	t.Parallel()
	srv := smtptest.Start(t, smtptest.Options{RejectRcpt: "marc@acme.com"})
	s, err := mail.NewSMTP(mail.SMTPConfig{URL: srv.URL(), From: "roster@example.com", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), render(t)); !mail.IsPermanent(err) {
		t.Fatalf("refused recipient is permanent: %v", err)
	}
	srv.Stop()
	if err := s.Send(context.Background(), render(t)); err == nil || mail.IsPermanent(err) {
		t.Fatalf("server down is temporary: %v", err)
	}
}

func TestConfig(t *testing.T) {
	for _, bad := range []string{"http://x", "smtp://", "smtp://host:0", "smtp://host/path", "smtp://host?x=1", "smtps://host:99999"} {
		if _, _, _, _, _, err := mail.ParseSMTPURL(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for raw, port := range map[string]int{"smtp://h": 25, "smtp://u:p@h": 587, "smtps://h": 465, "smtp://h:2525": 2525} {
		if _, p, _, _, _, err := mail.ParseSMTPURL(raw); err != nil || p != port {
			t.Errorf("%q: port %d %v", raw, p, err)
		}
	}
	if _, err := mail.ParseFrom("Roster <r@x.com>\r\nBcc: y@z.com"); err == nil {
		t.Error("CR/LF in From accepted")
	}
}

func TestMailboxIsBounded(t *testing.T) {
	b := mail.NewMailbox(3, nil)
	for i := range 5 {
		_ = b.Send(context.Background(), mail.Message{ID: string(rune('a' + i)), To: "x@y.z", Subject: "s"})
	}
	msgs := b.Messages()
	if len(msgs) != 3 || msgs[0].ID != "e" || msgs[2].ID != "c" {
		t.Fatalf("mailbox %+v", msgs)
	}
}

// TestOrganizationLogoInEmails: an email about an organization with a logo shows it at the
// top of the HTML, named by the organization; a value that is not a web address is ignored;
// without a logo the product's name stands there.
func TestOrganizationLogoInEmails(t *testing.T) {
	r, err := mail.NewRenderer("")
	if err != nil {
		t.Fatal(err)
	}
	d := sampleData("invitation")
	d["org_name"] = "Acme & Co"
	d["org_logo_url"] = "https://roster.example/logos/org_1/img_2"
	m, err := r.Render(mail.Email{Template: "invitation", To: "a@b.co", Data: d})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.HTML, `<img src="https://roster.example/logos/org_1/img_2" alt="Acme &amp; Co"`) {
		t.Fatalf("no logo in the HTML:\n%s", m.HTML)
	}
	for _, bad := range []string{"javascript:alert(1)", "", "//evil.example/x.png"} {
		d["org_logo_url"] = bad
		m, err := r.Render(mail.Email{Template: "invitation", To: "a@b.co", Data: d})
		if err != nil || strings.Contains(m.HTML, "<img") {
			t.Errorf("logo %q: %v, an image is shown", bad, err)
		}
	}
}

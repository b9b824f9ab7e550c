package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/smtptest"
	"github.com/rosterhq/roster/internal/testenv"
)

// serveWith starts roster serve with the given environment and returns its URL.
func serveWith(t *testing.T, env map[string]string) (string, *testenv.SyncBuffer) {
	t.Helper()
	if _, ok := env["ROSTER_ENCRYPTION_KEY"]; !ok {
		env["ROSTER_ENCRYPTION_KEY"] = testEncryptionKey // required with an https base URL
	}
	logs := &testenv.SyncBuffer{}
	started := make(chan string, 1)
	m := &Main{Stdout: logs, Stderr: logs, Getenv: func(k string) string { return env[k] }, Started: started}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, []string{"serve", "--listen", "127.0.0.1:0"}) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case u := <-started:
		return u, logs
	case err := <-done:
		t.Fatalf("serve: %v\n%s", err, logs)
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start")
	}
	return "", nil
}

func post(t *testing.T, url, token string, body any, host string) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if host != "" {
		req.Host = host
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func TestServeSendsEmailOverSMTP(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	base, logs := serveWith(t, map[string]string{
		"ROSTER_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "roster.db"),
		"ROSTER_BASE_URL":     "https://roster.example",
		"ROSTER_SMTP_URL":     srv.URL(),
		"ROSTER_MAIL_FROM":    "Roster <no-reply@roster.example>",
	})
	if code, body := post(t, base+"/v1/auth/signup", "", map[string]any{"email": "marc@acme.example", "name": "Marc", "password": testenv.Password}, "evil.example"); code != 202 {
		t.Fatalf("signup: %d %v", code, body)
	}
	m := srv.Wait(t, 1, 20*time.Second)[0]
	if m.From != "no-reply@roster.example" || !strings.HasPrefix(m.Link("token="), "https://roster.example/verify-email?token=rl_") {
		t.Fatalf("email from %s with link %q", m.From, m.Link("token="))
	}
	if code, _ := post(t, base+"/v1/auth/verify-email", "", map[string]any{"token": m.Token("token=")}, ""); code != 200 {
		t.Fatalf("verify: %d", code)
	}
	if strings.Contains(logs.String(), m.Token("token=")) {
		t.Fatal("the link's token is in the log")
	}
}

var setPasswordLink = regexp.MustCompile(`https?://\S+/reset-password\?token=(rl_\S+)`)

func TestServeDevMailbox(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "roster.db")
	env := map[string]string{"ROSTER_DATABASE_URL": db, "ROSTER_BASE_URL": "https://roster.example"}
	base, logs := serveWith(t, env)
	if !strings.Contains(logs.String(), "development mailbox") {
		t.Fatalf("the log does not say where emails go:\n%s", logs)
	}
	// An operator, made on the command line.
	var out bytes.Buffer
	cli := &Main{Stdout: &out, Stderr: &out, Getenv: func(k string) string { return env[k] }}
	if err := cli.Run(context.Background(), []string{"admin", "create-operator", "--email", "op@roster.example", "--name", "Op"}); err != nil {
		t.Fatalf("create-operator: %v\n%s", err, out.String())
	}
	link := setPasswordLink.FindStringSubmatch(out.String())
	if link == nil {
		t.Fatalf("no link in %s", out.String())
	}
	if code, body := post(t, base+"/v1/auth/password-reset/confirm", "", map[string]any{"token": link[1], "password": testenv.Password}, ""); code != 200 {
		t.Fatalf("set password: %d %v", code, body)
	}
	_, login := post(t, base+"/v1/auth/login", "", map[string]any{"email": "op@roster.example", "password": testenv.Password}, "")
	op, _ := login["token"].(string)
	if code, _ := post(t, base+"/v1/auth/signup", "", map[string]any{"email": "ana@acme.example", "name": "Ana", "password": testenv.Password}, ""); code != 202 {
		t.Fatal("signup")
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		req, _ := http.NewRequest("GET", base+"/v1/admin/mailbox", nil)
		req.Header.Set("Authorization", "Bearer "+op)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var box struct {
			Messages []struct{ To, Subject, Text, Template string }
		}
		_ = json.NewDecoder(res.Body).Decode(&box)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("mailbox: %d", res.StatusCode)
		}
		if len(box.Messages) > 0 && box.Messages[0].To == "ana@acme.example" {
			m := box.Messages[0]
			if m.Template != "verify_email" || !strings.Contains(m.Text, "https://roster.example/verify-email?token=rl_") {
				t.Fatalf("mailbox message: %+v", m)
			}
			tok := m.Text[strings.Index(m.Text, "token=")+6:][:46]
			logged := logs.String()
			if !strings.Contains(logged, "ana@acme.example") || !strings.Contains(logged, m.Subject) || strings.Contains(logged, tok) {
				t.Fatalf("the log names the message but never its link:\n%s", logged)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the mailbox has no message for ana: %+v", box)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

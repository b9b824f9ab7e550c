package client_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/client"
	"github.com/rosterhq/roster/internal/testenv"
)

// signScript signs deliveries with the official Standard Webhooks library (npm
// standardwebhooks): the verifier is tested against an implementation it shares nothing with.
const signScript = `
const { Webhook } = require("standardwebhooks");
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(cases.map(c =>
  new Webhook(c.secret).sign(c.id, new Date(c.timestamp * 1000), c.payload))));
`

func TestWebhookVerifierAgainstStandardWebhooks(t *testing.T) {
	node := testenv.Node(t, "testdata/standardwebhooks")
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	const other = "whsec_aGVsbG8gd29ybGQgdGhpcyBpcyBhIHNlY3JldA=="
	now := time.Unix(1_800_000_000, 0)
	payload := `{"type":"member.added","data":{"organization_id":"org_1","user_id":"usr_1"}}`
	type signCase struct {
		Secret    string `json:"secret"`
		ID        string `json:"id"`
		Timestamp int64  `json:"timestamp"`
		Payload   string `json:"payload"`
	}
	cases := []signCase{
		{secret, "evt_1", now.Unix(), payload},
		{other, "evt_2", now.Unix(), payload},
		{secret, "evt_3", now.Add(-10 * time.Minute).Unix(), payload},
	}
	in, _ := json.Marshal(cases)
	cmd := exec.Command(node, "-e", signScript)
	cmd.Dir = "testdata/standardwebhooks"
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var sigs []string
	if err := json.Unmarshal(out, &sigs); err != nil || len(sigs) != len(cases) {
		t.Fatalf("signatures %q: %v", out, err)
	}
	headers := func(i int, sig string) http.Header {
		h := http.Header{}
		h.Set("webhook-id", cases[i].ID)
		h.Set("webhook-timestamp", itoa(cases[i].Timestamp))
		h.Set("webhook-signature", sig)
		return h
	}
	v, err := client.NewWebhookVerifier(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(headers(0, sigs[0]), []byte(payload), now); err != nil {
		t.Errorf("a delivery signed by standardwebhooks: %v", err)
	}
	for name, err := range map[string]error{
		"a changed body":         v.Verify(headers(0, sigs[0]), []byte(strings.Replace(payload, "usr_1", "usr_2", 1)), now),
		"another secret":         v.Verify(headers(1, sigs[1]), []byte(payload), now),
		"ten minutes old":        v.Verify(headers(2, sigs[2]), []byte(payload), now),
		"another id":             v.Verify(headers(1, sigs[0]), []byte(payload), now),
		"no signature":           v.Verify(headers(0, ""), []byte(payload), now),
		"an unknown version":     v.Verify(headers(0, strings.Replace(sigs[0], "v1,", "v2,", 1)), []byte(payload), now),
		"received ten min later": v.Verify(headers(0, sigs[0]), []byte(payload), now.Add(10*time.Minute)),
	} {
		if !errors.Is(err, client.ErrWebhookSignature) {
			t.Errorf("%s: %v, want ErrWebhookSignature", name, err)
		}
	}
	// During a secret rotation the sender signs with both; a receiver holding either verifies,
	// and one holding both verifies either.
	both := sigs[1] + " " + sigs[0]
	if err := v.Verify(headers(0, both), []byte(payload), now); err != nil {
		t.Errorf("two signatures, one with the receiver's secret: %v", err)
	}
	v2, err := client.NewWebhookVerifier(other, secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := v2.Verify(headers(1, sigs[1]), []byte(payload), now); err != nil {
		t.Errorf("a receiver holding the old and the new secret: %v", err)
	}
	if _, err := client.NewWebhookVerifier("whsec_not base64!"); err == nil {
		t.Error("a malformed secret is accepted")
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

package client

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// WebhookTolerance is how far a delivery's timestamp may be from the receiver's clock: older
// (or newer) deliveries are refused, so that a captured one cannot be replayed later.
const WebhookTolerance = 5 * time.Minute

// ErrWebhookSignature is returned for a delivery whose signature, timestamp or headers do not
// verify.
var ErrWebhookSignature = errors.New("client: the webhook's signature does not verify")

// WebhookVerifier checks the Standard Webhooks signatures (https://www.standardwebhooks.com)
// of the deliveries Roster sends to an endpoint.
type WebhookVerifier struct {
	keys [][]byte
}

// NewWebhookVerifier returns a verifier for an endpoint's secrets ("whsec_…", as Roster shows
// them once). Give the old and the new secret while a rotation's overlap lasts: a delivery
// verifies when any of its signatures matches any secret.
func NewWebhookVerifier(secrets ...string) (*WebhookVerifier, error) {
	if len(secrets) == 0 {
		return nil, errors.New("client: a webhook verifier needs a secret")
	}
	v := &WebhookVerifier{}
	for _, s := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
		if err != nil || len(key) == 0 {
			return nil, fmt.Errorf("client: %q is not a webhook secret (whsec_ and base64)", mask(s))
		}
		v.keys = append(v.keys, key)
	}
	return v, nil
}

// Verify checks one delivery as received: its headers (webhook-id, webhook-timestamp,
// webhook-signature) and its body, byte for byte, at the receiver's time now. Decode the
// body only after it verifies. The webhook-id identifies the event: a receiver that keeps the
// ids it has handled ignores a redelivery.
func (v *WebhookVerifier) Verify(h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return fmt.Errorf("%w: missing webhook-id, webhook-timestamp or webhook-signature", ErrWebhookSignature)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: bad webhook-timestamp", ErrWebhookSignature)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > WebhookTolerance || d < -WebhookTolerance {
		return fmt.Errorf("%w: the timestamp is %v away from now", ErrWebhookSignature, d.Round(time.Second))
	}
	signed := []byte(id + "." + ts + "." + string(body))
	for _, key := range v.keys {
		mac := hmac.New(sha256.New, key)
		mac.Write(signed)
		want := mac.Sum(nil)
		for _, s := range strings.Fields(sigs) {
			version, b64, ok := strings.Cut(s, ",")
			if !ok || version != "v1" {
				continue
			}
			got, err := base64.StdEncoding.DecodeString(b64)
			if err == nil && hmac.Equal(got, want) {
				return nil
			}
		}
	}
	return ErrWebhookSignature
}

func mask(s string) string {
	if len(s) <= 10 {
		return "…"
	}
	return s[:10] + "…"
}

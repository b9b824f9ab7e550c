package app_test

import (
	"crypto/x509"
	"encoding/base64"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

func withKey(b byte) func(*app.Config) {
	return func(c *app.Config) {
		c.EncryptionKey = make([]byte, app.EncryptionKeySize)
		for i := range c.EncryptionKey {
			c.EncryptionKey[i] = b + byte(i)
		}
	}
}

// TestSigningKeysAreSharedAndSealed: two nodes with the same encryption key sign with the
// same key from the database; its private half is stored sealed, never as a parseable key;
// a node with another encryption key cannot read it and makes its own; a rotation makes a
// new key that signs at once while the old one stays published, then expires.
func TestSigningKeysAreSharedAndSealed(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e, withKey(1))
		node2 := testenv.NewEnvOn(t, env, withKey(1))
		k1, err := env.App.SigningKeys.Current(testenv.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		k2, err := node2.App.SigningKeys.Current(testenv.Ctx)
		if err != nil || k2.ID != k1.ID || k1.Algorithm != "ES256" {
			t.Fatalf("second node: %v %q, first %q", err, k2.ID, k1.ID)
		}
		var sealed string
		if err := env.SQL(t).QueryRow(testenv.Rebind(e, "SELECT private_sealed FROM oidc_keys WHERE id = ?"), k1.ID).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		raw, err := base64.StdEncoding.DecodeString(sealed)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(raw); i++ {
			if _, err := x509.ParsePKCS8PrivateKey(raw[i:]); err == nil {
				t.Fatal("the private key is stored in clear")
			}
		}
		other := testenv.NewEnvOn(t, env, withKey(2))
		k3, err := other.App.SigningKeys.Current(testenv.Ctx)
		if err != nil || k3.ID == k1.ID {
			t.Fatalf("a node with another encryption key signed with %q (%v)", k3.ID, err)
		}
		noKey := testenv.NewEnvOn(t, env)
		if _, err := noKey.App.SigningKeys.Rotate(testenv.Ctx, roster.System()); err == nil {
			t.Fatal("rotated without an encryption key")
		}

		if _, err := env.App.SigningKeys.Rotate(testenv.Ctx, roster.Anonymous("192.0.2.1", "test")); roster.ErrorCode(err) != roster.EUnauthenticated {
			t.Fatalf("rotation by an anonymous actor: %v", err)
		}
		kid, err := env.App.SigningKeys.Rotate(testenv.Ctx, roster.System())
		if err != nil {
			t.Fatal(err)
		}
		if k, _ := node2.App.SigningKeys.Current(testenv.Ctx); k.ID != kid {
			t.Fatalf("after rotation the second node signs with %q, want %q", k.ID, kid)
		}
		published := func() map[string]bool {
			keys, err := env.App.SigningKeys.Public(testenv.Ctx)
			if err != nil {
				t.Fatal(err)
			}
			m := map[string]bool{}
			for _, k := range keys {
				m[k.KeyID] = true
				if !k.IsPublic() {
					t.Fatal("a private key is published")
				}
			}
			return m
		}
		if p := published(); !p[k1.ID] || !p[kid] {
			t.Fatalf("published after rotation: %v", p)
		}
		env.Clock.Advance(app.MaxAccessTokenTTL + 11*time.Minute)
		env.App.Cleanup(testenv.Ctx)
		if p := published(); p[k1.ID] || !p[kid] {
			t.Fatalf("published once the old key's tokens expired: %v", p)
		}
		// Cleanup deleted it (after the expired requests and tokens, in the same transaction).
		if n := env.Int(t, "SELECT COUNT(*) FROM oidc_keys WHERE id = ?", k1.ID); n != 0 {
			t.Fatal("an expired key is kept")
		}
	})
}

// TestScheduledKeyRotation: once the signing key is older than the rotation interval, the
// scheduled rotation publishes a new key that does not sign until an hour later; then it signs,
// and the old key is retired but stays published until the tokens it signed have expired. Of
// two nodes running the rotation at once, one makes the key.
func TestScheduledKeyRotation(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e, withKey(3), func(c *app.Config) { c.KeyRotation = 30 * 24 * time.Hour })
		node2 := testenv.NewEnvOn(t, env, withKey(3), func(c *app.Config) { c.KeyRotation = 30 * 24 * time.Hour })
		published := func() []string {
			t.Helper()
			keys, err := env.App.SigningKeys.Public(testenv.Ctx)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, k := range keys {
				ids = append(ids, k.KeyID)
			}
			return ids
		}
		signing := func() string {
			t.Helper()
			k, err := env.App.SigningKeys.Current(testenv.Ctx)
			if err != nil {
				t.Fatal(err)
			}
			return k.ID
		}
		first := signing()
		if made, err := env.App.SigningKeys.RotateIfDue(testenv.Ctx); err != nil || made {
			t.Fatalf("a fresh key rotated: %v %v", made, err)
		}
		env.Clock.Advance(31 * 24 * time.Hour)
		var made1, made2 bool
		var err1, err2 error
		done := make(chan struct{})
		go func() { made2, err2 = node2.App.SigningKeys.RotateIfDue(testenv.Ctx); close(done) }()
		made1, err1 = env.App.SigningKeys.RotateIfDue(testenv.Ctx)
		<-done
		if err1 != nil || err2 != nil || made1 == made2 {
			t.Fatalf("two nodes rotating at once: made %v and %v (%v, %v), want exactly one", made1, made2, err1, err2)
		}
		ids := published()
		if len(ids) != 2 || signing() != first {
			t.Fatalf("after the rotation: published %v, signing %s (want the new key published and the first still signing)", ids, signing())
		}
		next := ids[0]
		if next == first {
			next = ids[1]
		}
		env.Clock.Advance(59 * time.Minute)
		if signing() != first {
			t.Fatal("the new key signs before its hour of publication")
		}
		env.Clock.Advance(2 * time.Minute)
		if signing() != next {
			t.Fatalf("an hour later the new key does not sign: %s", signing())
		}
		if made, err := env.App.SigningKeys.RotateIfDue(testenv.Ctx); err != nil || made {
			t.Fatalf("rotated again at once: %v %v", made, err)
		}
		if ids := published(); len(ids) != 2 {
			t.Fatalf("the retired key must stay published while its tokens live: %v", ids)
		}
		env.Clock.Advance(2 * time.Hour)
		if ids := published(); len(ids) != 1 || ids[0] != next {
			t.Fatalf("long after: published %v, want only %s", ids, next)
		}
	})
}

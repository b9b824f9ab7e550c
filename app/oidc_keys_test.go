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
		k1, err := env.App.OIDCSigningKey(testenv.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		k2, err := node2.App.OIDCSigningKey(testenv.Ctx)
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
		k3, err := other.App.OIDCSigningKey(testenv.Ctx)
		if err != nil || k3.ID == k1.ID {
			t.Fatalf("a node with another encryption key signed with %q (%v)", k3.ID, err)
		}
		noKey := testenv.NewEnvOn(t, env)
		if _, err := noKey.App.RotateOIDCKeys(testenv.Ctx, roster.System()); err == nil {
			t.Fatal("rotated without an encryption key")
		}

		if _, err := env.App.RotateOIDCKeys(testenv.Ctx, roster.Anonymous("192.0.2.1", "test")); roster.ErrorCode(err) != roster.EUnauthenticated {
			t.Fatalf("rotation by an anonymous actor: %v", err)
		}
		kid, err := env.App.RotateOIDCKeys(testenv.Ctx, roster.System())
		if err != nil {
			t.Fatal(err)
		}
		if k, _ := node2.App.OIDCSigningKey(testenv.Ctx); k.ID != kid {
			t.Fatalf("after rotation the second node signs with %q, want %q", k.ID, kid)
		}
		published := func() map[string]bool {
			keys, err := env.App.OIDCPublicKeys(testenv.Ctx)
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

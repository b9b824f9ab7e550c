package app

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/token"
)

// The OpenID provider's signing keys live in the database, so that every node signs and
// verifies with the same set. Their private half is sealed with AES-256-GCM under the
// instance's encryption key (Config.EncryptionKey, from ROSTER_ENCRYPTION_KEY); the key ID is
// the additional data, so a sealed key cannot be moved to another row.

// EncryptionKeySize is the length of Config.EncryptionKey: AES-256.
const EncryptionKeySize = 32

// keyRetention is how long a retired key stays published: longer than any token it signed
// lives (access and ID tokens last at most MaxAccessTokenTTL).
const keyRetention = MaxAccessTokenTTL + 10*time.Minute

// SigningKey is the key that signs tokens now.
type SigningKey struct {
	ID        string
	Algorithm jose.SignatureAlgorithm
	Key       crypto.Signer
}

// keyCache keeps the keys already unsealed and parsed, by key ID.
type keyCache struct {
	mu      sync.Mutex
	private map[string]crypto.Signer
	public  map[string]jose.JSONWebKey
	loaded  time.Time
}

func (a *App) sealer() (cipher.AEAD, error) {
	if len(a.cfg.EncryptionKey) != EncryptionKeySize {
		return nil, roster.Errorf(roster.EInternal, "no encryption key is configured (ROSTER_ENCRYPTION_KEY): sign-in with Roster and webhooks are unavailable")
	}
	block, err := aes.NewCipher(a.cfg.EncryptionKey)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func (a *App) seal(kid string, plain []byte) (string, error) {
	g, err := a.sealer()
	if err != nil {
		return "", err
	}
	nonce := make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(g.Seal(nonce, nonce, plain, []byte(kid))), nil
}

func (a *App) unseal(kid, sealed string) ([]byte, error) {
	g, err := a.sealer()
	if err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(b) < g.NonceSize() {
		return nil, errors.New("malformed sealed key")
	}
	return g.Open(nil, b[:g.NonceSize()], b[g.NonceSize():], []byte(kid))
}

// newOIDCKey makes a new ES256 key, sealed for storage.
func (a *App) newOIDCKey(now time.Time) (sqlstore.OIDCKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return sqlstore.OIDCKey{}, err
	}
	kid := token.Random()[:22] // 128 bits
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return sqlstore.OIDCKey{}, err
	}
	sealed, err := a.seal(kid, der)
	if err != nil {
		return sqlstore.OIDCKey{}, err
	}
	pub, err := json.Marshal(jose.JSONWebKey{Key: &priv.PublicKey, KeyID: kid, Algorithm: string(jose.ES256), Use: "sig"})
	if err != nil {
		return sqlstore.OIDCKey{}, err
	}
	return sqlstore.OIDCKey{ID: kid, Alg: string(jose.ES256), PublicJWK: string(pub), PrivateSealed: sealed, CreatedAt: now}, nil
}

// OIDCSigningKey returns the key that signs tokens now: the newest key not retired whose
// private half this instance can unseal. The first call on a new database creates one.
func (a *App) OIDCSigningKey(ctx context.Context) (SigningKey, error) {
	now := a.clock.Now()
	keys, err := a.read().OIDCKeys(ctx, now)
	if err != nil {
		return SigningKey{}, err
	}
	for _, k := range keys {
		if !k.Active(now) { // retired, or published ahead of its activation
			continue
		}
		if s, err := a.privateKey(k); err == nil {
			return SigningKey{ID: k.ID, Algorithm: jose.SignatureAlgorithm(k.Alg), Key: s}, nil
		} else {
			a.log.Warn("an OpenID signing key cannot be unsealed with this instance's encryption key; skipped", "kid", k.ID, "err", err)
		}
	}
	if _, err := a.sealer(); err != nil {
		return SigningKey{}, err
	}
	k, err := a.newOIDCKey(now)
	if err != nil {
		return SigningKey{}, err
	}
	if err := a.db.InTx(ctx, func(tx *sqlstore.Tx) error { return tx.CreateOIDCKey(ctx, k) }); err != nil {
		return SigningKey{}, err
	}
	a.log.Info("created an OpenID signing key", "kid", k.ID, "alg", k.Alg)
	s, err := a.privateKey(k)
	return SigningKey{ID: k.ID, Algorithm: jose.SignatureAlgorithm(k.Alg), Key: s}, err
}

func (a *App) privateKey(k sqlstore.OIDCKey) (crypto.Signer, error) {
	a.keys.mu.Lock()
	s, ok := a.keys.private[k.ID]
	a.keys.mu.Unlock()
	if ok {
		return s, nil
	}
	der, err := a.unseal(k.ID, k.PrivateSealed)
	if err != nil {
		return nil, err
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	s, ok = parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("key %s: not a signing key", k.ID)
	}
	a.keys.mu.Lock()
	if a.keys.private == nil {
		a.keys.private = map[string]crypto.Signer{}
	}
	a.keys.private[k.ID] = s
	a.keys.mu.Unlock()
	return s, nil
}

// OIDCPublicKeys returns the published key set: every key that signs or signed tokens that
// may still be valid.
func (a *App) OIDCPublicKeys(ctx context.Context) ([]jose.JSONWebKey, error) {
	keys, err := a.read().OIDCKeys(ctx, a.clock.Now())
	if err != nil {
		return nil, err
	}
	out := make([]jose.JSONWebKey, 0, len(keys))
	for _, k := range keys {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON([]byte(k.PublicJWK)); err != nil {
			return nil, fmt.Errorf("key %s: %w", k.ID, err)
		}
		out = append(out, jwk)
	}
	return out, nil
}

// publicKey returns a published key by its ID, from memory when it was seen in the last
// minute; an unknown ID reloads the set at most once a second, so forged key IDs cannot
// turn every request into a database read.
func (a *App) publicKey(ctx context.Context, kid string) (jose.JSONWebKey, bool, error) {
	now := a.clock.Now()
	a.keys.mu.Lock()
	k, ok := a.keys.public[kid]
	fresh := now.Sub(a.keys.loaded) < time.Minute
	recent := now.Sub(a.keys.loaded) < time.Second
	a.keys.mu.Unlock()
	if (ok && fresh) || (!ok && recent) {
		return k, ok, nil
	}
	keys, err := a.OIDCPublicKeys(ctx)
	if err != nil {
		return jose.JSONWebKey{}, false, err
	}
	m := make(map[string]jose.JSONWebKey, len(keys))
	for _, k := range keys {
		m[k.KeyID] = k
	}
	a.keys.mu.Lock()
	a.keys.public, a.keys.loaded = m, now
	a.keys.mu.Unlock()
	k, ok = m[kid]
	return k, ok, nil
}

// RotateOIDCKeys makes a new signing key at once: tokens are signed with it from now on, and
// the keys it replaces stay published until every token they signed has expired. Operators
// only.
func (a *App) RotateOIDCKeys(ctx context.Context, actor roster.Actor) (string, error) {
	if err := requireOperator(actor); err != nil {
		return "", err
	}
	now := a.clock.Now()
	k, err := a.newOIDCKey(now)
	if err != nil {
		return "", err
	}
	err = a.write(ctx, actor, func(t *txn) error {
		if err := t.RetireOIDCKeys(t.ctx, t.now, t.now.Add(keyRetention)); err != nil {
			return err
		}
		if err := t.CreateOIDCKey(t.ctx, k); err != nil {
			return err
		}
		return t.audit(roster.AuditEvent{Action: "oidc.keys_rotated", TargetType: "oidc_key", TargetID: k.ID})
	})
	return k.ID, err
}

// keyPrePublish is how long a key made by scheduled rotation is published before it signs:
// clients that cache the key set fetch it in the meantime, so no token they receive names a
// key they do not have.
const keyPrePublish = time.Hour

// RotateOIDCKeysIfDue is the scheduled rotation, run periodically by every node (serve): when
// the newest key is older than Config.KeyRotation, it publishes a new key that signs from
// keyPrePublish later; once that key signs, the keys it replaces are retired and stay
// published until every token they signed has expired (keyRetention). The key rows are locked,
// so of several nodes one makes the key. It reports whether it made one.
func (a *App) RotateOIDCKeysIfDue(ctx context.Context) (bool, error) {
	if a.cfg.KeyRotation <= 0 {
		return false, nil
	}
	if _, err := a.sealer(); err != nil {
		return false, nil // no encryption key: the provider has no keys to rotate
	}
	now := a.clock.Now()
	next, err := a.newOIDCKey(now) // made outside the transaction; unused when not due
	if err != nil {
		return false, err
	}
	activates := now.Add(keyPrePublish)
	next.ActivatesAt = &activates
	made, err := txValue(ctx, a.db, func(tx *sqlstore.Tx) (bool, error) {
		if err := tx.LockOIDCKeys(ctx); err != nil {
			return false, err
		}
		keys, err := tx.OIDCKeys(ctx, now)
		if err != nil || len(keys) == 0 {
			return false, err // the first key is made when first needed (OIDCSigningKey)
		}
		for _, k := range keys {
			if k.Active(now) { // the newest key that signs: those before it are replaced
				if err := tx.RetireOIDCKeysBefore(ctx, k.ID, k.CreatedAt, now, now.Add(keyRetention)); err != nil {
					return false, err
				}
				break
			}
		}
		newest := keys[0]
		if (newest.ActivatesAt != nil && newest.ActivatesAt.After(now)) || now.Sub(newest.CreatedAt) < a.cfg.KeyRotation {
			return false, nil // one is published already, or none is due
		}
		return true, tx.CreateOIDCKey(ctx, next)
	})
	if made {
		a.log.Info("scheduled rotation: a new OpenID signing key is published; it signs from", "kid", next.ID, "at", activates)
	}
	return made, err
}

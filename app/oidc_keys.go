package app

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/token"
)

// SigningKeys is the OpenID provider's signing keys: sealed in the database, published, rotated.
type SigningKeys struct{ *core }

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

func (a *core) sealer() (cipher.AEAD, error) {
	if len(a.cfg.EncryptionKey) != EncryptionKeySize {
		return nil, roster.Errorf(roster.EInternal, "no encryption key is configured (ROSTER_ENCRYPTION_KEY): sign-in with Roster and webhooks are unavailable")
	}
	return aead(a.cfg.EncryptionKey)
}

func aead(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func (a *core) seal(kid string, plain []byte) (string, error) {
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

func (a *core) unseal(kid, sealed string) ([]byte, error) {
	plain, _, err := a.unsealAny(kid, sealed)
	return plain, err
}

// unsealAny opens what the current key or a previous one sealed; old says it was a previous
// one, so that the caller may seal it again under the current key.
func (a *core) unsealAny(kid, sealed string) (plain []byte, old bool, err error) {
	g, err := a.sealer()
	if err != nil {
		return nil, false, err
	}
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(b) < g.NonceSize() {
		return nil, false, errors.New("malformed sealed key")
	}
	nonce, box := b[:g.NonceSize()], b[g.NonceSize():]
	plain, err = g.Open(nil, nonce, box, []byte(kid))
	if err == nil {
		return plain, false, nil
	}
	for _, k := range a.cfg.PreviousEncryptionKeys {
		prev, perr := aead(k)
		if perr != nil {
			continue
		}
		if p, perr := prev.Open(nil, nonce, box, []byte(kid)); perr == nil {
			return p, true, nil
		}
	}
	return nil, false, err
}

// Signing algorithms: ES256 signs by default; a client registered with RS256 gets its ID and
// access tokens signed with an RSA key of the same set (for relying parties that only know
// RSA). Each algorithm has its own keys, made when first needed and rotated together.
const (
	AlgES256 = string(jose.ES256)
	AlgRS256 = string(jose.RS256)
)

// SigningAlgorithms are the algorithms a client may be registered with.
var SigningAlgorithms = []string{AlgES256, AlgRS256}

// rsaKeyBits is the size of the RSA signing keys.
const rsaKeyBits = 2048

// newOIDCKey makes a new key for alg (ES256 or RS256), sealed for storage.
func (a *SigningKeys) newOIDCKey(now time.Time, alg string) (sqlstore.OIDCKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case AlgES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgRS256:
		priv, err = rsa.GenerateKey(rand.Reader, rsaKeyBits)
	default:
		return sqlstore.OIDCKey{}, fmt.Errorf("unknown signing algorithm %q", alg)
	}
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
	pub, err := json.Marshal(jose.JSONWebKey{Key: priv.Public(), KeyID: kid, Algorithm: alg, Use: "sig"})
	if err != nil {
		return sqlstore.OIDCKey{}, err
	}
	return sqlstore.OIDCKey{ID: kid, Alg: alg, PublicJWK: string(pub), PrivateSealed: sealed, CreatedAt: now}, nil
}

// Current returns the ES256 key that signs tokens now (SigningKeys.For).
func (a *SigningKeys) Current(ctx context.Context) (SigningKey, error) {
	return a.For(ctx, AlgES256)
}

// For returns the key of the algorithm alg that signs tokens now: the newest key
// of alg not retired whose private half this instance can unseal. The first call for an
// algorithm on a new database creates one. Within one request (PerRequest) it is read once.
func (a *SigningKeys) For(ctx context.Context, alg string) (SigningKey, error) {
	if alg == "" {
		alg = AlgES256
	}
	return memo(ctx, func(s *sharedScopes) *map[string]SigningKey { return &s.keys }, alg, func() (SigningKey, error) { return a.signingKey(ctx, alg) })
}

func (a *SigningKeys) signingKey(ctx context.Context, alg string) (SigningKey, error) {
	now := a.clock.Now()
	keys, err := a.read().OIDCKeys(ctx, now)
	if err != nil {
		return SigningKey{}, err
	}
	for _, k := range keys {
		if k.Alg != alg || !k.Active(now) { // retired, or published ahead of its activation
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
	k, err := a.newOIDCKey(now, alg)
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

// SignOIDC signs payload with the published key kid, with the JOSE header typ: the door
// re-signs the library's access tokens as "at+jwt" (RFC 9068) with the key that signed them.
func (a *SigningKeys) Sign(ctx context.Context, kid, typ string, payload []byte) (string, error) {
	a.keys.mu.Lock()
	s, ok := a.keys.private[kid]
	a.keys.mu.Unlock()
	if !ok {
		keys, err := a.read().OIDCKeys(ctx, a.clock.Now())
		if err != nil {
			return "", err
		}
		i := slices.IndexFunc(keys, func(k sqlstore.OIDCKey) bool { return k.ID == kid })
		if i < 0 {
			return "", fmt.Errorf("no signing key %q", kid)
		}
		if s, err = a.privateKey(keys[i]); err != nil {
			return "", err
		}
	}
	alg := jose.ES256
	if _, isRSA := s.Public().(*rsa.PublicKey); isRSA {
		alg = jose.RS256
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: s, KeyID: kid}},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

func (a *SigningKeys) privateKey(k sqlstore.OIDCKey) (crypto.Signer, error) {
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

// Public returns the published key set: every key that signs or signed tokens that
// may still be valid.
func (a *SigningKeys) Public(ctx context.Context) ([]jose.JSONWebKey, error) {
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
func (a *SigningKeys) publicKey(ctx context.Context, kid string) (jose.JSONWebKey, bool, error) {
	now := a.clock.Now()
	a.keys.mu.Lock()
	k, ok := a.keys.public[kid]
	fresh := now.Sub(a.keys.loaded) < time.Minute
	recent := now.Sub(a.keys.loaded) < time.Second
	a.keys.mu.Unlock()
	if (ok && fresh) || (!ok && recent) {
		return k, ok, nil
	}
	keys, err := a.Public(ctx)
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

// States of a signing key, as the operator's console shows them.
const (
	KeyNext     = "next"     // published ahead of its activation: clients fetch it before it signs
	KeyActive   = "active"   // signs tokens of its algorithm now
	KeyRetiring = "retiring" // replaced: signs no more, published until the tokens it signed expire
)

// OIDCKeyInfo is a signing key as operators see it: never its private half.
type OIDCKeyInfo struct {
	ID, Algorithm, State string
	CreatedAt            time.Time
	ActivatesAt          time.Time // when it signs (or signed) first
	// RetiresAt is when it stops signing: for an active key, the activation of the next one, or
	// else the scheduled rotation (zero without one); for a retiring key, when it stopped (zero
	// when a newer key signs already and the next rotation check retires it).
	RetiresAt      time.Time
	PublishedUntil time.Time // a retiring key's removal from the key set
}

// List lists the published signing keys, newest first, with where each is in its life.
// Operators only.
func (a *SigningKeys) List(ctx context.Context, actor roster.Actor) ([]OIDCKeyInfo, error) {
	if err := requireOperator(actor); err != nil {
		return nil, err
	}
	now := a.clock.Now()
	keys, err := a.read().OIDCKeys(ctx, now)
	if err != nil {
		return nil, err
	}
	out := make([]OIDCKeyInfo, 0, len(keys))
	signing := map[string]bool{}     // algorithms whose signing key is listed (keys come newest first)
	nextAt := map[string]time.Time{} // the activation of an algorithm's next key
	for _, k := range keys {
		info := OIDCKeyInfo{ID: k.ID, Algorithm: k.Alg, CreatedAt: k.CreatedAt, ActivatesAt: k.CreatedAt}
		if k.ActivatesAt != nil {
			info.ActivatesAt = *k.ActivatesAt
		}
		switch {
		case k.RetiredAt != nil:
			info.State, info.RetiresAt = KeyRetiring, *k.RetiredAt
			if k.ExpiresAt != nil {
				info.PublishedUntil = *k.ExpiresAt
			}
		case !k.Active(now):
			info.State = KeyNext
			nextAt[k.Alg] = info.ActivatesAt
		case !signing[k.Alg]:
			info.State, signing[k.Alg] = KeyActive, true
			if at, ok := nextAt[k.Alg]; ok {
				info.RetiresAt = at
			} else if a.cfg.KeyRotation > 0 {
				info.RetiresAt = k.CreatedAt.Add(a.cfg.KeyRotation + keyPrePublish)
			}
		default:
			info.State = KeyRetiring
		}
		out = append(out, info)
	}
	return out, nil
}

// Rotate makes a new signing key at once: tokens are signed with it from now on, and
// the keys it replaces stay published until every token they signed has expired. Operators
// only.
func (a *SigningKeys) Rotate(ctx context.Context, actor roster.Actor) (string, error) {
	if err := requireOperator(actor); err != nil {
		return "", err
	}
	now := a.clock.Now()
	keys, err := a.read().OIDCKeys(ctx, now)
	if err != nil {
		return "", err
	}
	var made []sqlstore.OIDCKey
	for _, alg := range SigningAlgorithms { // ES256 always; RS256 when some client uses it
		if alg != AlgES256 && !slices.ContainsFunc(keys, func(k sqlstore.OIDCKey) bool { return k.Alg == alg }) {
			continue
		}
		k, err := a.newOIDCKey(now, alg)
		if err != nil {
			return "", err
		}
		made = append(made, k)
	}
	err = a.write(ctx, actor, func(t *txn) error {
		if err := t.RetireOIDCKeys(t.ctx, t.now, t.now.Add(keyRetention)); err != nil {
			return err
		}
		for _, k := range made {
			if err := t.CreateOIDCKey(t.ctx, k); err != nil {
				return err
			}
		}
		return t.audit(roster.AuditEvent{Action: "oidc.keys_rotated", TargetType: "oidc_key", TargetID: made[0].ID})
	})
	return made[0].ID, err
}

// keyPrePublish is how long a key made by scheduled rotation is published before it signs:
// clients that cache the key set fetch it in the meantime, so no token they receive names a
// key they do not have.
const keyPrePublish = time.Hour

// RotateIfDue is the scheduled rotation, run periodically by every node (serve): for
// each algorithm in use, when its newest key is older than Config.KeyRotation, it publishes a
// new key that signs from keyPrePublish later; once that key signs, the keys it replaces are
// retired and stay published until every token they signed has expired (keyRetention). The
// key rows are locked, so of several nodes one makes the key. It reports whether it made one.
func (a *SigningKeys) RotateIfDue(ctx context.Context) (bool, error) {
	if a.cfg.KeyRotation <= 0 {
		return false, nil
	}
	if _, err := a.sealer(); err != nil {
		return false, nil // no encryption key: the provider has no keys to rotate
	}
	made := false
	for _, alg := range SigningAlgorithms {
		m, err := a.rotateIfDue(ctx, alg)
		if err != nil {
			return made, err
		}
		made = made || m
	}
	return made, nil
}

func (a *SigningKeys) rotateIfDue(ctx context.Context, alg string) (bool, error) {
	now := a.clock.Now()
	var next *sqlstore.OIDCKey // made outside the transaction when due (an RSA key takes a while)
	for {
		var due bool
		made, err := txValue(ctx, a.db, func(tx *sqlstore.Tx) (bool, error) {
			if err := tx.LockOIDCKeys(ctx); err != nil {
				return false, err
			}
			all, err := tx.OIDCKeys(ctx, now)
			if err != nil {
				return false, err
			}
			var keys []sqlstore.OIDCKey
			for _, k := range all {
				if k.Alg == alg {
					keys = append(keys, k)
				}
			}
			if len(keys) == 0 {
				return false, nil // the first key is made when first needed (SigningKeys.For)
			}
			for _, k := range keys {
				if k.Active(now) { // the newest key that signs: those before it are replaced
					if err := tx.RetireOIDCKeysBefore(ctx, alg, k.ID, k.CreatedAt, now, now.Add(keyRetention)); err != nil {
						return false, err
					}
					break
				}
			}
			newest := keys[0]
			if (newest.ActivatesAt != nil && newest.ActivatesAt.After(now)) || now.Sub(newest.CreatedAt) < a.cfg.KeyRotation {
				return false, nil // one is published already, or none is due
			}
			if next == nil {
				due = true
				return false, nil
			}
			return true, tx.CreateOIDCKey(ctx, *next)
		})
		if err != nil || !due {
			if made {
				a.log.Info("scheduled rotation: a new OpenID signing key is published; it signs from", "kid", next.ID, "alg", alg, "at", next.ActivatesAt)
			}
			return made, err
		}
		k, err := a.newOIDCKey(now, alg)
		if err != nil {
			return false, err
		}
		activates := now.Add(keyPrePublish)
		k.ActivatesAt = &activates
		next = &k
	}
}

package app

import (
	"context"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// Re-sealing after a change of encryption key. The secrets Roster keeps sealed (AES-256-GCM
// under ROSTER_ENCRYPTION_KEY, seal in oidc_keys.go) are each bound to what they belong to —
// their associated data, named here for every kind sqlstore lists. After the key changes, with
// the old one kept in ROSTER_ENCRYPTION_KEY_PREVIOUS, SigningKeys.Reseal (roster keys reseal)
// opens each with whichever key sealed it and seals it again under the current one, so that
// the previous key can be dropped at once rather than once every secret has been used or
// replaced.

// sealedAD is the associated data a stored sealed secret was sealed with.
func sealedAD(s sqlstore.Sealed) string {
	switch s.Kind {
	case sqlstore.SealedSSOSecret:
		return ssoKID(s.ID, "client_secret")
	case sqlstore.SealedSSOKey:
		return ssoKID(s.ID, "sp_key")
	case sqlstore.SealedSSOLoginVerify:
		return ssoKID(s.ID, "verifier")
	case sqlstore.SealedTOTP:
		return totpAD(s.ID)
	}
	return s.ID // signing keys by key ID, webhook secrets by endpoint ID
}

// ResealResult counts what Reseal found.
type ResealResult struct {
	Resealed   int // sealed under a previous key, now under the current one
	Current    int // already under the current key
	Unreadable int // no configured key opens it: left as it was
}

// Reseal seals again, under the current encryption key, every stored secret that a previous
// key sealed (operators). Each is rewritten only if it did not change meanwhile; a secret no
// configured key opens is counted and left alone (its owner replaces it: Roster says how where
// it is used). Audited as instance.secrets_resealed.
func (a *SigningKeys) Reseal(ctx context.Context, actor roster.Actor) (ResealResult, error) {
	var res ResealResult
	if err := requireOperator(actor); err != nil {
		return res, err
	}
	if _, err := a.sealer(); err != nil {
		return res, err
	}
	all, err := a.read().SealedSecrets(ctx)
	if err != nil {
		return res, err
	}
	type change struct {
		s      sqlstore.Sealed
		sealed string
	}
	var changes []change
	for _, s := range all {
		ad := sealedAD(s)
		plain, old, err := a.unsealAny(ad, s.Sealed)
		switch {
		case err != nil:
			res.Unreadable++
			a.log.Warn("a sealed secret opens with none of the configured encryption keys; left as it is", "kind", s.Kind, "id", s.ID)
		case !old:
			res.Current++
		default:
			sealed, err := a.seal(ad, plain)
			if err != nil {
				return res, err
			}
			changes = append(changes, change{s, sealed})
		}
	}
	return writeValue(ctx, a.core, actor, func(t *txn) (ResealResult, error) {
		out := res // counted again if the transaction is retried
		for _, c := range changes {
			ok, err := t.Reseal(t.ctx, c.s, c.sealed)
			if err != nil {
				return out, err
			}
			if ok {
				out.Resealed++
			} else {
				out.Current++ // replaced meanwhile, under the current key
			}
		}
		return out, t.audit(roster.AuditEvent{Action: "instance.secrets_resealed", TargetType: "instance",
			After: map[string]any{"resealed": out.Resealed, "current": out.Current, "unreadable": out.Unreadable}})
	})
}

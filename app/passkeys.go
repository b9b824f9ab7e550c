package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
	"github.com/rosterhq/roster/token"
)

// Passkeys (WebAuthn, with go-webauthn). A user registers several, names and removes them,
// and uses one as the second step of a login (in place of a code) or to sign in without a
// password (a discoverable credential names its account).
//
// Every ceremony has two steps: Begin returns the options the browser hands to
// navigator.credentials, and keeps what the library needs to check the answer (its
// SessionData) on the server, under the SHA-256 of the challenge; Finish finds it again by the
// challenge the answer carries (inside the signed client data), spends it in one statement
// (a ceremony works once, for LoginChallengeLifetime), checks it belongs to the same user and
// session or login challenge, and lets the library verify the answer. The relying party is
// the host of ROSTER_BASE_URL, the only origin accepted is the base URL's.
//
// A passkey used at the second step counts as an attempt at the account's credentials, as a
// code does (reserveAttempt). A signature counter that does not move forward (the library's
// CloneWarning: two copies of the key may exist) refuses the passkey, is audited and emailed.
// Signing in without a password asks the authenticator to verify the user (a PIN or a
// biometric), so the passkey alone is two factors; elsewhere verification is preferred.

// Passkeys is a user's own passkeys: registering, naming and removing them. Using one to sign
// in (as the second step, or without a password) is Auth's (BeginPasskeyLogin,
// BeginPasskeySecondFactor); the helpers both use (relyingParty, the ceremonies) are the
// core's.
type Passkeys struct{ *core }

// MethodPasskey names a passkey as a login's second factor.
const MethodPasskey = "passkey"

// Ceremony kinds.
const (
	ceremonyRegister     = "register"
	ceremonySecondFactor = "second_factor"
	ceremonyPasswordless = "passwordless"
	ceremonyStepUp       = "step_up" // a signed-in person confirming a dangerous action (stepup.go)
)

// Passkey is one of a user's passkeys, as they see it.
type Passkey struct {
	ID             string
	Name           string
	CreatedAt      time.Time
	LastUsedAt     *time.Time
	BackupEligible bool // a synced passkey (a password manager, a platform account) rather than a device-bound one
	BackupState    bool // backed up when last seen
}

func passkeyOf(p sqlstore.Passkey) Passkey {
	return Passkey{ID: p.ID, Name: p.Name, CreatedAt: p.CreatedAt, LastUsedAt: p.LastUsedAt, BackupEligible: p.BackupEligible, BackupState: p.BackupState}
}

// PasskeyOptions is what the browser hands to navigator.credentials.create or .get: the
// library's CredentialCreation or CredentialAssertion as JSON ({"publicKey": …}).
type PasskeyOptions = json.RawMessage

// relyingParty is the WebAuthn relying party of this instance: the host of the base URL,
// and the base URL's origin.
func (a *core) relyingParty() (*webauthn.WebAuthn, error) {
	u := a.cfg.BaseURL
	if u == nil || u.Hostname() == "" {
		return nil, roster.Errorf(roster.EMFAUnavailable, "passkeys need the instance's address: the operator sets ROSTER_BASE_URL")
	}
	return webauthn.New(&webauthn.Config{
		RPID:                  u.Hostname(),
		RPDisplayName:         "Roster",
		RPOrigins:             []string{u.Scheme + "://" + u.Host},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementPreferred, UserVerification: protocol.VerificationPreferred,
		},
		// Expiry is Roster's (the ceremony row, on the app's clock), not the library's.
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: LoginChallengeLifetime, TimeoutUVD: LoginChallengeLifetime},
			Registration: webauthn.TimeoutConfig{Timeout: LoginChallengeLifetime, TimeoutUVD: LoginChallengeLifetime},
		},
	})
}

// passkeyUser is a user as the library sees one: the user handle and the passkeys.
type passkeyUser struct {
	u       roster.User
	handle  []byte
	creds   []webauthn.Credential
	records []sqlstore.Passkey // creds[i] is records[i]
}

func (p *passkeyUser) WebAuthnID() []byte                         { return p.handle }
func (p *passkeyUser) WebAuthnName() string                       { return p.u.Email }
func (p *passkeyUser) WebAuthnDisplayName() string                { return p.u.Name }
func (p *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return p.creds }

// record returns the stored passkey of a credential ID.
func (p *passkeyUser) record(id []byte) (sqlstore.Passkey, bool) {
	for i, c := range p.creds {
		if bytes.Equal(c.ID, id) {
			return p.records[i], true
		}
	}
	return sqlstore.Passkey{}, false
}

// loadPasskeyUser reads a user's handle (handle: "" when none is needed yet) and their
// passkeys for this relying party.
func loadPasskeyUser(ctx context.Context, c *sqlstore.Conn, u roster.User, rpID, handle string) (*passkeyUser, error) {
	if handle == "" {
		h, err := c.PasskeyHandleOf(ctx, u.ID)
		if err != nil && roster.ErrorCode(err) != roster.ENotFound {
			return nil, err
		}
		handle = h
	}
	raw, err := base64.RawURLEncoding.DecodeString(handle)
	if err != nil {
		return nil, err
	}
	pu := &passkeyUser{u: u, handle: raw}
	if pu.records, err = c.Passkeys(ctx, u.ID, rpID); err != nil {
		return nil, err
	}
	for _, r := range pu.records {
		var cred webauthn.Credential
		if err := json.Unmarshal([]byte(r.Credential), &cred); err != nil {
			return nil, err
		}
		pu.creds = append(pu.creds, cred)
	}
	return pu, nil
}

// newCeremony stores what the library's Begin step returned, for LoginChallengeLifetime.
func (a *core) newCeremony(ctx context.Context, actor roster.Actor, w sqlstore.Ceremony, session *webauthn.SessionData, options any) (PasskeyOptions, error) {
	data, err := json.Marshal(session)
	if err != nil {
		return nil, err
	}
	out, err := json.Marshal(options)
	if err != nil {
		return nil, err
	}
	w.ChallengeHash, w.SessionData = token.Hash("webauthn:"+session.Challenge), string(data)
	err = a.write(ctx, actor, func(t *txn) error {
		w := w
		w.ExpiresAt = t.now.Add(LoginChallengeLifetime)
		return t.CreateCeremony(t.ctx, w, t.now)
	})
	return out, err
}

// useCeremony spends the ceremony of a kind that an answer's client data names; none (unknown,
// used, expired) is not_found.
func (a *core) useCeremony(ctx context.Context, actor roster.Actor, challenge, kind string) (sqlstore.Ceremony, webauthn.SessionData, error) {
	var session webauthn.SessionData
	w, err := writeValue(ctx, a, actor, func(t *txn) (sqlstore.Ceremony, error) {
		return t.UseCeremony(t.ctx, token.Hash("webauthn:"+challenge), kind, t.now)
	})
	if err != nil {
		return w, session, err
	}
	return w, session, json.Unmarshal([]byte(w.SessionData), &session)
}

// BeginRegistration starts adding a passkey to the actor's account: the options for
// navigator.credentials.create. Like setting up an authenticator app it needs the password
// entered in the last few minutes, or given now (pw). The passkeys the account has already
// are excluded, so one authenticator is not registered twice.
func (a *Passkeys) BeginRegistration(ctx context.Context, actor roster.Actor, pw string) (PasskeyOptions, error) {
	if err := requireUser(actor); err != nil {
		return nil, err
	}
	rp, err := a.relyingParty()
	if err != nil {
		return nil, err
	}
	c := a.read()
	if err := a.stepUp(ctx, c, actor, pw); err != nil {
		return nil, err
	}
	u, err := c.User(ctx, actor.UserID)
	if err != nil {
		return nil, err
	}
	if n, err := c.CountPasskeys(ctx, u.ID); err != nil || n >= roster.MaxPasskeys {
		if err != nil {
			return nil, err
		}
		return nil, roster.Errorf(roster.EConflict, "an account has at most %d passkeys; remove one first", roster.MaxPasskeys)
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	handle, err := writeValue(ctx, a.core, actor, func(t *txn) (string, error) {
		return t.PasskeyHandle(t.ctx, u.ID, base64.RawURLEncoding.EncodeToString(fresh), t.now)
	})
	if err != nil {
		return nil, err
	}
	pu, err := loadPasskeyUser(ctx, c, u, rp.Config.RPID, handle)
	if err != nil {
		return nil, err
	}
	creation, session, err := rp.BeginRegistration(pu,
		webauthn.WithExclusions(webauthn.Credentials(pu.creds).CredentialDescriptors()),
		webauthn.WithExtensions(webauthn.WithExtensionCredProps()))
	if err != nil {
		return nil, err
	}
	return a.newCeremony(ctx, actor, sqlstore.Ceremony{Kind: ceremonyRegister, UserID: u.ID, SessionID: actor.SessionID}, session, creation)
}

// AddedPasskey is a passkey just added, with the recovery codes made with it: the first
// second factor of an account without recovery codes gets a set, shown this once.
type AddedPasskey struct {
	Passkey
	RecoveryCodes []string
}

// FinishRegistration checks the browser's answer to BeginPasskeyRegistration and adds
// the passkey under name (a default name when empty). The user is told by email.
func (a *Passkeys) FinishRegistration(ctx context.Context, actor roster.Actor, name string, answer []byte) (AddedPasskey, error) {
	if err := requireUser(actor); err != nil {
		return AddedPasskey{}, err
	}
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > roster.MaxNameLength {
		return AddedPasskey{}, roster.Invalidf("name", "a passkey's name is at most %d characters", roster.MaxNameLength)
	}
	rp, err := a.relyingParty()
	if err != nil {
		return AddedPasskey{}, err
	}
	unreadable := roster.Invalidf("credential", "the browser's answer to the passkey request cannot be read; try again")
	if len(answer) == 0 || len(answer) > roster.MaxPasskeyJSON {
		return AddedPasskey{}, unreadable
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(answer)
	if err != nil {
		return AddedPasskey{}, unreadable
	}
	expired := roster.Errorf(roster.EConflict, "this passkey request expired or was already used; start again")
	w, session, err := a.useCeremony(ctx, actor, parsed.Response.CollectedClientData.Challenge, ceremonyRegister)
	if roster.ErrorCode(err) == roster.ENotFound || err == nil && (w.UserID != actor.UserID || w.SessionID != actor.SessionID) {
		return AddedPasskey{}, expired
	}
	if err != nil {
		return AddedPasskey{}, err
	}
	c := a.read()
	u, err := c.User(ctx, actor.UserID)
	if err != nil {
		return AddedPasskey{}, err
	}
	pu, err := loadPasskeyUser(ctx, c, u, rp.Config.RPID, "")
	if err != nil {
		return AddedPasskey{}, err
	}
	cred, err := rp.CreateCredential(pu, session, parsed)
	if err != nil {
		a.log.Info("a passkey registration was refused", "user", u.ID, "err", err)
		return AddedPasskey{}, roster.Invalidf("credential", "the passkey could not be registered; try again")
	}
	raw, err := json.Marshal(cred)
	if err != nil {
		return AddedPasskey{}, err
	}
	if name == "" {
		name = "Passkey " + a.clock.Now().UTC().Format("2006-01-02")
	}
	p := sqlstore.Passkey{
		ID: roster.NewID(roster.PrefixPasskey), UserID: u.ID, RPID: rp.Config.RPID, CredentialID: base64.RawURLEncoding.EncodeToString(cred.ID),
		Name: name, Credential: string(raw), SignCount: int64(cred.Authenticator.SignCount),
		BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState,
	}
	codes, hashes := newRecoveryCodes()
	return writeValue(ctx, a.core, actor, func(t *txn) (AddedPasskey, error) {
		p := p
		p.CreatedAt = t.now
		if n, err := t.CountPasskeys(t.ctx, u.ID); err != nil || n >= roster.MaxPasskeys {
			if err != nil {
				return AddedPasskey{}, err
			}
			return AddedPasskey{}, roster.Errorf(roster.EConflict, "an account has at most %d passkeys; remove one first", roster.MaxPasskeys)
		}
		if err := t.CreatePasskey(t.ctx, p); err != nil {
			return AddedPasskey{}, err
		}
		if err := t.audit(roster.AuditEvent{Action: "user.passkey_added", TargetType: "user", TargetID: u.ID,
			After: map[string]any{"passkey_id": p.ID, "name": p.Name, "backup_eligible": p.BackupEligible}}); err != nil {
			return AddedPasskey{}, err
		}
		added := AddedPasskey{Passkey: passkeyOf(p)}
		if left, err := t.RecoveryCodesLeft(t.ctx, u.ID); err != nil || left > 0 {
			return added, cmpErr(err, t.notifyUser(u, "passkey_added", "", map[string]any{"passkey_name": p.Name}))
		}
		if err := t.ReplaceRecoveryCodes(t.ctx, u.ID, hashes, t.now); err != nil {
			return AddedPasskey{}, err
		}
		if err := t.audit(roster.AuditEvent{Action: "user.recovery_codes_regenerated", TargetType: "user", TargetID: u.ID,
			After: map[string]any{"with_passkey": p.ID}}); err != nil {
			return AddedPasskey{}, err
		}
		added.RecoveryCodes = codes
		return added, t.notifyUser(u, "passkey_added", "", map[string]any{"passkey_name": p.Name})
	})
}

// List lists the actor's passkeys, oldest first.
func (a *Passkeys) List(ctx context.Context, actor roster.Actor) ([]Passkey, error) {
	if err := requireUser(actor); err != nil {
		return nil, err
	}
	rp, err := a.relyingParty()
	if err != nil {
		return nil, nil // no base URL, no passkeys
	}
	recs, err := a.read().Passkeys(ctx, actor.UserID, rp.Config.RPID)
	if err != nil {
		return nil, err
	}
	out := make([]Passkey, 0, len(recs))
	for _, r := range recs {
		out = append(out, passkeyOf(r))
	}
	return out, nil
}

// Rename renames one of the actor's passkeys.
func (a *Passkeys) Rename(ctx context.Context, actor roster.Actor, id, name string) (Passkey, error) {
	if err := requireUser(actor); err != nil {
		return Passkey{}, err
	}
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > roster.MaxNameLength {
		return Passkey{}, roster.Invalidf("name", "a passkey's name is 1 to %d characters", roster.MaxNameLength)
	}
	if err := a.write(ctx, actor, func(t *txn) error {
		if err := t.RenamePasskey(t.ctx, actor.UserID, id, name); err != nil {
			return err
		}
		return t.audit(roster.AuditEvent{Action: "user.passkey_renamed", TargetType: "user", TargetID: actor.UserID,
			After: map[string]any{"passkey_id": id, "name": name}})
	}); err != nil {
		return Passkey{}, err
	}
	keys, err := a.app.Passkeys.List(ctx, actor)
	for _, k := range keys {
		if k.ID == id {
			return k, err
		}
	}
	return Passkey{}, cmpErr(err, roster.NotFound("passkey"))
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// Remove removes one of the actor's passkeys after a proof (withOwnerProof: the password, a
// code or a passkey). Removing the last second factor turns two-factor authentication off:
// that is a step-up (a code, a recovery code or a passkey, never the password alone), and the
// recovery codes go with it. The user is told by email.
func (a *Passkeys) Remove(ctx context.Context, actor roster.Actor, id string, proof OwnerProof) error {
	if err := requireUser(actor); err != nil {
		return err
	}
	c := a.read()
	n, err := c.CountPasskeys(ctx, actor.UserID)
	if err != nil {
		return err
	}
	methods, err := a.secondFactorMethods(ctx, c, actor.UserID)
	if err != nil {
		return err
	}
	last := n == 1 && !slices.Contains(methods, MethodTOTP)
	remove := func(t *txn, u roster.User) error {
		p, err := t.DeletePasskey(t.ctx, u.ID, id)
		if err != nil {
			return err
		}
		if last {
			if err := t.DeleteRecoveryCodes(t.ctx, u.ID); err != nil {
				return err
			}
		}
		if err := t.audit(roster.AuditEvent{Action: "user.passkey_removed", TargetType: "user", TargetID: u.ID,
			Before: map[string]any{"passkey_id": p.ID, "name": p.Name}}); err != nil {
			return err
		}
		return t.notifyUser(u, "passkey_removed", "", map[string]any{"passkey_name": p.Name})
	}
	if !last {
		return a.withOwnerProof(ctx, actor, proof, remove)
	}
	return a.withStepUp(ctx, actor, proof, remove)
}

// BeginPasskeySecondFactor starts the second step of a login with a passkey: the options for
// navigator.credentials.get, limited to the account's passkeys, bound to the login challenge
// (token, as Login returned it).
func (a *Auth) BeginPasskeySecondFactor(ctx context.Context, actor roster.Actor, tok string) (PasskeyOptions, error) {
	if ok, wait := a.ipRate.allow("login:"+actor.IP, a.clock.Now()); !ok {
		return nil, rateLimited(wait)
	}
	u, hash, err := a.pendingLogin(ctx, tok)
	if err != nil {
		return nil, err
	}
	return a.beginAssertion(ctx, actor, u, sqlstore.Ceremony{Kind: ceremonySecondFactor, UserID: u.ID, LoginChallenge: hash})
}

// beginAssertion starts a ceremony w in which u proves a passkey of theirs: the options for
// navigator.credentials.get, limited to u's passkeys of this relying party.
func (a *core) beginAssertion(ctx context.Context, actor roster.Actor, u roster.User, w sqlstore.Ceremony) (PasskeyOptions, error) {
	rp, err := a.relyingParty()
	if err != nil {
		return nil, err
	}
	pu, err := loadPasskeyUser(ctx, a.read(), u, rp.Config.RPID, "")
	if err != nil {
		return nil, err
	}
	if len(pu.creds) == 0 {
		return nil, roster.Errorf(roster.EConflict, "this account has no passkey; use a code")
	}
	assertion, session, err := rp.BeginLogin(pu)
	if err != nil {
		return nil, err
	}
	return a.newCeremony(ctx, actor, w, session, assertion)
}

// pendingLogin returns the user of an unused, unexpired login challenge and its hash.
func (a *core) pendingLogin(ctx context.Context, tok string) (roster.User, string, error) {
	expired := roster.Errorf(roster.EMFAExpired, "this sign-in expired or was already completed; log in again")
	if !token.WellFormed(token.PrefixLogin, tok) {
		return roster.User{}, "", expired
	}
	hash := token.Hash(tok)
	c := a.read()
	userID, err := c.LoginChallengeUser(ctx, hash, a.clock.Now())
	if roster.ErrorCode(err) == roster.ENotFound {
		return roster.User{}, "", expired
	}
	if err != nil {
		return roster.User{}, "", err
	}
	u, err := c.User(ctx, userID)
	return u, hash, err
}

// SecondFactorMethods names the factors that can complete a pending login (token, as Login
// returned it): for a page asking again after a refusal.
func (a *Auth) SecondFactorMethods(ctx context.Context, tok string) ([]string, error) {
	u, _, err := a.pendingLogin(ctx, tok)
	if err != nil {
		return nil, err
	}
	return a.secondFactorMethods(ctx, a.read(), u.ID)
}

// secondFactorMethods names a user's factors: the authenticator app with its recovery codes,
// and passkeys.
// hasSecondFactor reports whether a user has a second factor that signs in: a confirmed
// authenticator app or a passkey (recovery codes alone are a way back, not a factor).
func (a *core) hasSecondFactor(ctx context.Context, c *sqlstore.Conn, userID string) (bool, error) {
	methods, err := a.secondFactorMethods(ctx, c, userID)
	return slices.Contains(methods, MethodTOTP) || slices.Contains(methods, MethodPasskey), err
}

func (a *core) secondFactorMethods(ctx context.Context, c *sqlstore.Conn, userID string) ([]string, error) {
	var methods []string
	f, err := c.TOTP(ctx, userID)
	if err != nil && roster.ErrorCode(err) != roster.ENotFound {
		return nil, err
	}
	if err == nil && f.ConfirmedAt != nil {
		methods = append(methods, MethodTOTP)
	}
	if left, err := c.RecoveryCodesLeft(ctx, userID); err != nil || left > 0 {
		if err != nil {
			return nil, err
		}
		methods = append(methods, MethodRecoveryCode)
	}
	if n, err := c.CountPasskeys(ctx, userID); err != nil || n > 0 {
		if err != nil {
			return nil, err
		}
		methods = append(methods, MethodPasskey)
	}
	return methods, nil
}

// verifyPasskeyStep checks a passkey's answer at the second step of u's login (the login
// challenge hashed as challengeHash).
func (a *core) verifyPasskeyStep(ctx context.Context, actor roster.Actor, u roster.User, challengeHash string, answer []byte, then func(t *txn) error) error {
	return a.verifyPasskeyAnswer(ctx, actor, u, answer, ceremonySecondFactor, func(w sqlstore.Ceremony) bool { return w.LoginChallenge == challengeHash },
		secondStepFailed, then)
}

// verifyPasskeyAnswer checks a passkey's answer as u's second factor to a ceremony of kind
// that match accepts. Like a code, the attempt is reserved in the failure count of u's address
// first; a success records the passkey's use, clears the count and runs then in one
// transaction; a refusal is audited as failAction and answered passkey_refused.
func (a *core) verifyPasskeyAnswer(ctx context.Context, actor roster.Actor, u roster.User, answer []byte, kind string, match func(sqlstore.Ceremony) bool,
	failAction string, then func(t *txn) error) error {
	key := loginKey(u.Email)
	if err := a.reserveAttempt(ctx, actor, key); err != nil {
		return err
	}
	refused := roster.Errorf(roster.EPasskeyRefused, "the passkey was not accepted; try again, or use another passkey or a code")
	rp, err := a.relyingParty()
	if err != nil {
		return err
	}
	parsed, err := parseAssertion(answer)
	if err == nil {
		var w sqlstore.Ceremony
		var session webauthn.SessionData
		w, session, err = a.useCeremony(ctx, actor, parsed.Response.CollectedClientData.Challenge, kind)
		if err == nil && (w.UserID != u.ID || !match(w)) {
			err = roster.NotFound("passkey request")
		}
		if err == nil {
			err = a.checkAssertion(ctx, actor, rp, u, session, parsed, then, key)
		}
	}
	if err == nil || !errors.Is(err, errPasskeyRefused) && roster.ErrorCode(err) != roster.ENotFound {
		return err
	}
	if err := a.attemptFailed(ctx, actor, key, u.ID, failAction); err != nil {
		return err
	}
	return refused
}

// errPasskeyRefused ends a check whose answer did not prove the account.
var errPasskeyRefused = errors.New("passkey refused")

func parseAssertion(answer []byte) (*protocol.ParsedCredentialAssertionData, error) {
	if len(answer) == 0 || len(answer) > roster.MaxPasskeyJSON {
		return nil, errPasskeyRefused
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(answer)
	if err != nil {
		return nil, errPasskeyRefused
	}
	return parsed, nil
}

// checkAssertion lets the library verify an answer for u against session, refuses a passkey
// whose counter went back (audited and emailed), and records the use with then in one
// transaction that also clears the failure count key.
func (a *core) checkAssertion(ctx context.Context, actor roster.Actor, rp *webauthn.WebAuthn, u roster.User, session webauthn.SessionData,
	parsed *protocol.ParsedCredentialAssertionData, then func(t *txn) error, key string) error {
	pu, err := loadPasskeyUser(ctx, a.read(), u, rp.Config.RPID, "")
	if err != nil {
		return err
	}
	if len(pu.handle) == 0 || len(pu.creds) == 0 {
		return errPasskeyRefused
	}
	var cred *webauthn.Credential
	if len(session.UserID) == 0 { // a discoverable sign-in: the answer's user handle named u
		_, cred, err = rp.ValidatePasskeyLogin(func(_, _ []byte) (webauthn.User, error) { return pu, nil }, session, parsed)
	} else {
		cred, err = rp.ValidateLogin(pu, session, parsed)
	}
	if err != nil {
		a.log.Info("a passkey was refused", "user", u.ID, "err", err)
		return errPasskeyRefused
	}
	rec, ok := pu.record(cred.ID)
	if !ok {
		return errPasskeyRefused
	}
	if cred.Authenticator.CloneWarning {
		// The counter did not move forward: another copy of the key may be in use. The library
		// leaves the decision to the relying party; Roster refuses the passkey and says so.
		a.log.Warn("a passkey's signature counter went back: refused", "user", u.ID, "passkey", rec.ID,
			"stored", rec.SignCount, "presented", cred.Authenticator.SignCount)
		if err := a.write(ctx, actor, func(t *txn) error {
			t.actor.Kind, t.actor.UserID = roster.ActorUser, u.ID
			if err := t.audit(roster.AuditEvent{Action: "user.passkey_counter_regressed", TargetType: "user", TargetID: u.ID,
				After: map[string]any{"passkey_id": rec.ID, "name": rec.Name, "stored": rec.SignCount, "presented": cred.Authenticator.SignCount}}); err != nil {
				return err
			}
			return t.notifyUser(u, "passkey_cloned", "", map[string]any{"passkey_name": rec.Name})
		}); err != nil {
			return err
		}
		return errPasskeyRefused
	}
	raw, err := json.Marshal(cred)
	if err != nil {
		return err
	}
	err = a.write(ctx, actor, func(t *txn) error {
		t.actor.Kind, t.actor.UserID = roster.ActorUser, u.ID
		if err := t.UsePasskey(t.ctx, rec.ID, rec.SignCount, string(raw), int64(cred.Authenticator.SignCount), cred.Flags.BackupState, t.now); err != nil {
			if roster.ErrorCode(err) == roster.ENotFound { // used at the same moment, or removed
				return errPasskeyRefused
			}
			return err
		}
		if err := t.ClearLoginFailures(t.ctx, key); err != nil {
			return err
		}
		return then(t)
	})
	return err
}

// BeginPasskeyLogin starts signing in with a passkey and no password: options for
// navigator.credentials.get naming no account (the authenticator offers its discoverable
// credentials for this site), and asking it to verify the user.
func (a *Auth) BeginPasskeyLogin(ctx context.Context, actor roster.Actor) (PasskeyOptions, error) {
	if ok, wait := a.ipRate.allow("login:"+actor.IP, a.clock.Now()); !ok {
		return nil, rateLimited(wait)
	}
	rp, err := a.relyingParty()
	if err != nil {
		return nil, err
	}
	assertion, session, err := rp.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, err
	}
	return a.newCeremony(ctx, actor, sqlstore.Ceremony{Kind: ceremonyPasswordless}, session, assertion)
}

// FinishPasskeyLogin checks the browser's answer to BeginPasskeyLogin and opens a session for
// the account the passkey belongs to, as Login does after a password and a second factor.
// Every refusal is passkey_refused, whatever went wrong (an unknown passkey, a wrong
// signature, an expired request).
func (a *Auth) FinishPasskeyLogin(ctx context.Context, actor roster.Actor, answer []byte) (LoginResult, error) {
	if ok, wait := a.ipRate.allow("login:"+actor.IP, a.clock.Now()); !ok {
		return LoginResult{}, rateLimited(wait)
	}
	refused := roster.Errorf(roster.EPasskeyRefused, "the passkey was not accepted; try again, or log in with your password")
	rp, err := a.relyingParty()
	if err != nil {
		return LoginResult{}, err
	}
	parsed, err := parseAssertion(answer)
	if err != nil {
		return LoginResult{}, refused
	}
	_, session, err := a.useCeremony(ctx, actor, parsed.Response.CollectedClientData.Challenge, ceremonyPasswordless)
	if roster.ErrorCode(err) == roster.ENotFound {
		return LoginResult{}, refused
	}
	if err != nil {
		return LoginResult{}, err
	}
	// The answer names its account by the user handle; nothing is proved until the library
	// has checked the signature with a public key of that account.
	c := a.read()
	userID, err := c.UserOfPasskeyHandle(ctx, base64.RawURLEncoding.EncodeToString(parsed.Response.UserHandle))
	if roster.ErrorCode(err) == roster.ENotFound || len(parsed.Response.UserHandle) == 0 {
		return LoginResult{}, refused
	}
	if err != nil {
		return LoginResult{}, err
	}
	u, err := c.User(ctx, userID)
	if err != nil {
		return LoginResult{}, err
	}
	key := loginKey(u.Email)
	if err := a.reserveAttempt(ctx, actor, key); err != nil {
		return LoginResult{}, err
	}
	// The library checks the handle against the account, the credential against its
	// passkeys, and the user verification that the request required.
	res, err := committed(func(attempt func(*txn) error) error {
		return a.checkAssertion(ctx, actor, rp, u, session, parsed, func(t *txn) error {
			if u.Status != roster.UserActive {
				return roster.Errorf(roster.EUserDeactivated, "this account has been deactivated; contact your administrator")
			}
			return attempt(t)
		}, key)
	}, func(t *txn) (LoginResult, error) {
		res, err := a.openSession(t, u)
		if err != nil {
			return LoginResult{}, err
		}
		return res, t.audit(roster.AuditEvent{Action: "user.logged_in", TargetType: "session", TargetID: res.Session.ID,
			After: map[string]any{"method": MethodPasskey}})
	})
	if errors.Is(err, errPasskeyRefused) {
		if err := a.attemptFailed(ctx, actor, key, u.ID, "user.login_failed"); err != nil {
			return LoginResult{}, err
		}
		return LoginResult{}, refused
	}
	return res, err
}

// Factor is one of a user's second factors, as their profile lists them.
type Factor struct {
	ID         string // "totp", or the passkey's ID
	Type       string // MethodTOTP or MethodPasskey
	Name       string // the passkey's name; empty for the authenticator app
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// Factors lists the actor's second factors (the authenticator app, then the passkeys) and
// how many recovery codes are left.
func (a *MFA) Factors(ctx context.Context, actor roster.Actor) ([]Factor, int, error) {
	if err := requireUser(actor); err != nil {
		return nil, 0, err
	}
	c := a.read()
	var out []Factor
	f, err := c.TOTP(ctx, actor.UserID)
	if err != nil && roster.ErrorCode(err) != roster.ENotFound {
		return nil, 0, err
	}
	if err == nil && f.ConfirmedAt != nil {
		used := totpStepTime(f.LastStep)
		out = append(out, Factor{ID: MethodTOTP, Type: MethodTOTP, CreatedAt: *f.ConfirmedAt, LastUsedAt: &used})
	}
	keys, err := a.app.Passkeys.List(ctx, actor)
	if err != nil {
		return nil, 0, err
	}
	for _, k := range keys {
		out = append(out, Factor{ID: k.ID, Type: MethodPasskey, Name: k.Name, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt})
	}
	left, err := c.RecoveryCodesLeft(ctx, actor.UserID)
	return out, left, err
}

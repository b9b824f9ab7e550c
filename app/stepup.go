package app

import (
	"context"
	"slices"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/sqlstore"
)

// Step-up: the dangerous actions — transferring an organization, deleting it, making an API
// key (new or cloned), changing an organization's policy, turning off one's authenticator app —
// ask the person for the strongest proof their account has: a second factor (a code of the
// authenticator app, a recovery code or a passkey) when it has one, otherwise the password.
// A proof counts for StepUpWindow in the session it was given in (sessions.step_up_at, also
// set when the session opens, since a login asks for the same proof): a stolen session cookie
// is not enough, and a person doing several of these in a row is asked once. A person acting
// through a Roster access token has no session to remember it: they give the proof each time.
// API keys, service tokens and machine clients never step up, and none of them may do these
// actions (only an owner holds what they need; a key is itself made after a step-up).

// StepUpWindow is how long a proof given in a session confirms the dangerous actions.
const StepUpWindow = 10 * time.Minute

// StepUpState says what a dangerous action would ask the actor for now.
type StepUpState struct {
	Fresh   bool     // a proof was given in this session in the last StepUpWindow: nothing is asked
	Methods []string // the second factors that prove it (MethodTOTP, MethodRecoveryCode, MethodPasskey); none: the password
}

// Password reports whether the password is the proof asked (the account has no second factor).
func (s StepUpState) Password() bool { return !strongMethods(s.Methods) }

// Has reports whether method proves it.
func (s StepUpState) Has(method string) bool { return slices.Contains(s.Methods, method) }

// strongMethods reports whether methods hold a second factor that signs in (recovery codes
// alone are a way back, not a factor).
func strongMethods(methods []string) bool {
	return slices.Contains(methods, MethodTOTP) || slices.Contains(methods, MethodPasskey)
}

// StepUpState says what the actor's next dangerous action would ask for.
func (a *Auth) StepUpState(ctx context.Context, actor roster.Actor) (StepUpState, error) {
	if err := requireUser(actor); err != nil {
		return StepUpState{}, err
	}
	st, _, err := a.stepUpState(ctx, a.read(), actor)
	return st, err
}

func (a *core) stepUpState(ctx context.Context, c *sqlstore.Conn, actor roster.Actor) (StepUpState, roster.User, error) {
	u, err := c.User(ctx, actor.UserID)
	if err != nil {
		return StepUpState{}, u, err
	}
	methods, err := a.secondFactorMethods(ctx, c, u.ID)
	if err != nil {
		return StepUpState{}, u, err
	}
	st := StepUpState{Methods: methods}
	if !strongMethods(methods) {
		st.Methods = nil
	}
	if actor.SessionID != "" {
		s, err := c.SessionByID(ctx, actor.SessionID)
		if err != nil && roster.ErrorCode(err) != roster.ENotFound {
			return st, u, err
		}
		at := s.StepUpAt
		if st.Password() && s.ReauthAt.After(at) { // without a second factor, the password is the strongest proof
			at = s.ReauthAt
		}
		st.Fresh = err == nil && s.UserID == u.ID && a.clock.Now().Sub(at) < StepUpWindow
	}
	return st, u, nil
}

// StepUp checks a proof given ahead of a dangerous action and records it in the actor's
// session, so that the actions of the next StepUpWindow ask for none: the console's
// confirmation page and POST /v1/me/step-up.
func (a *Auth) StepUp(ctx context.Context, actor roster.Actor, proof OwnerProof) error {
	if err := requireUser(actor); err != nil {
		return err
	}
	if actor.SessionID == "" {
		return roster.Errorf(roster.EInvalid, "only a session remembers a confirmation; give the proof with the action itself")
	}
	if proof.empty() {
		st, _, err := a.stepUpState(ctx, a.read(), actor)
		if err != nil {
			return err
		}
		return stepUpAsked(st)
	}
	return a.proveStepUp(ctx, actor, proof, true)
}

// requireStepUp lets a dangerous action go ahead: a proof given in the actor's session in the
// last StepUpWindow, or proof given now (then recorded in the session). Wrong proofs count
// with the account's failed logins and are audited user.reauth_failed.
func (a *core) requireStepUp(ctx context.Context, actor roster.Actor, proof OwnerProof) error {
	if actor.Kind != roster.ActorUser || actor.UserID == "" {
		return roster.Forbidden("this needs a signed-in person who confirms it is them; API keys and machine clients cannot")
	}
	return a.proveStepUp(ctx, actor, proof, false)
}

func (a *core) proveStepUp(ctx context.Context, actor roster.Actor, proof OwnerProof, always bool) error {
	st, u, err := a.stepUpState(ctx, a.read(), actor)
	if err != nil {
		return err
	}
	if st.Fresh && !always {
		return nil
	}
	given, err := a.checkProof(ctx, actor, u, proof, st.Password(), !st.Password(), func(t *txn) error {
		if actor.SessionID == "" {
			return nil
		}
		if err := t.SetSessionStepUp(t.ctx, actor.SessionID, t.now); err != nil {
			return err
		}
		return t.audit(roster.AuditEvent{Action: "user.stepped_up", TargetType: "session", TargetID: actor.SessionID})
	})
	if !given {
		return stepUpAsked(st)
	}
	return err
}

// withStepUp runs then, as the actor, once requireStepUp lets the action go ahead.
func (a *core) withStepUp(ctx context.Context, actor roster.Actor, proof OwnerProof, then func(t *txn, u roster.User) error) error {
	if err := a.requireStepUp(ctx, actor, proof); err != nil {
		return err
	}
	return a.write(ctx, actor, func(t *txn) error {
		u, err := t.User(t.ctx, actor.UserID)
		if err != nil {
			return err
		}
		return then(t, u)
	})
}

// checkProof checks the proof u gave, of the kinds allowed — the password, or a second factor
// (a passkey's answer to BeginStepUpPasskey, a code of the app or a recovery code) — and runs
// then as u in the transaction that records the success. given is false when no proof of an
// allowed kind was given. Wrong proofs count with the account's failed logins and are audited
// user.reauth_failed.
func (a *core) checkProof(ctx context.Context, actor roster.Actor, u roster.User, proof OwnerProof, password, secondFactor bool,
	then func(t *txn) error) (given bool, err error) {
	asUser := func(t *txn) error {
		t.actor.Kind, t.actor.UserID = roster.ActorUser, u.ID
		return then(t)
	}
	switch {
	case secondFactor && len(proof.Passkey) > 0:
		return true, a.verifyPasskeyAnswer(ctx, actor, u, proof.Passkey, ceremonyStepUp,
			func(w sqlstore.Ceremony) bool { return w.SessionID == actor.SessionID }, "user.reauth_failed", asUser)
	case secondFactor && proof.Code != "":
		return true, a.verifySecondFactor(ctx, actor, u, proof.Code, "user.reauth_failed", func(t *txn, _ string) error { return asUser(t) })
	case password && proof.Password != "":
		_, err := a.verifyCredential(ctx, actor, u.Email, proof.Password, "user.reauth_failed", func(t *txn, _ roster.User) error { return asUser(t) })
		if roster.ErrorCode(err) == roster.EInvalidCredentials {
			err = &roster.Error{Code: roster.EInvalidCredentials, Field: "password", Message: "the password is not correct"}
		}
		return true, err
	}
	return false, nil
}

// stepUpAsked is the answer to a dangerous action without the proof it needs, on the field that
// gives it: reauthentication_required (the password) or step_up_required (a second factor).
func stepUpAsked(st StepUpState) error {
	switch {
	case st.Password():
		return &roster.Error{Code: roster.EReauthRequired, Field: "password", Message: "enter your password to confirm"}
	case st.Has(MethodTOTP) || st.Has(MethodRecoveryCode):
		return &roster.Error{Code: roster.EStepUpRequired, Field: "code",
			Message: "confirm with a code from your authenticator app, a recovery code or a passkey: your account has two-factor authentication, so the password is not enough"}
	}
	return &roster.Error{Code: roster.EStepUpRequired, Field: "passkey", Message: "confirm with one of your passkeys: your account has two-factor authentication, so the password is not enough"}
}

// BeginStepUpPasskey starts confirming with a passkey: the options for navigator.credentials.get,
// limited to the actor's passkeys and bound to their session. The answer goes to StepUp (or
// to the dangerous action itself) as OwnerProof.Passkey.
func (a *Auth) BeginStepUpPasskey(ctx context.Context, actor roster.Actor) (PasskeyOptions, error) {
	if err := requireUser(actor); err != nil {
		return nil, err
	}
	u, err := a.read().User(ctx, actor.UserID)
	if err != nil {
		return nil, err
	}
	return a.beginAssertion(ctx, actor, u, sqlstore.Ceremony{Kind: ceremonyStepUp, UserID: u.ID, SessionID: actor.SessionID})
}

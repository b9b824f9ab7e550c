package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

// Second factors: /v1/me/factors (the authenticator app, passkeys, recovery codes), and the
// passkey steps of a login. A passkey ceremony is two calls: one returns the options to hand
// to navigator.credentials.create or .get ({"publicKey": …}, WebAuthn's JSON with base64url
// fields), the next takes the browser's answer as PublicKeyCredential.toJSON() gives it.

// Factor is one of the caller's second factors.
type Factor struct {
	ID         string `json:"id" doc:"totp for the authenticator app, else the passkey's ID"`
	Type       string `json:"type" enum:"totp,passkey"`
	Name       string `json:"name,omitempty" doc:"The passkey's name"`
	CreatedAt  Time   `json:"created_at"`
	LastUsedAt *Time  `json:"last_used_at,omitempty" doc:"For the authenticator app: the time step of the last code accepted"`
}

// Passkey is one of the caller's passkeys.
type Passkey struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	CreatedAt      Time   `json:"created_at"`
	LastUsedAt     *Time  `json:"last_used_at,omitempty"`
	BackupEligible bool   `json:"backup_eligible" doc:"A synced passkey (password manager, platform account) rather than one bound to a device"`
	BackupState    bool   `json:"backup_state" doc:"Backed up when last used"`
}

func passkeyJSON(p app.Passkey) Passkey {
	return Passkey{ID: p.ID, Name: p.Name, CreatedAt: Time(p.CreatedAt), LastUsedAt: (*Time)(p.LastUsedAt), BackupEligible: p.BackupEligible, BackupState: p.BackupState}
}

type factorsOutput struct {
	Body struct {
		Factors           []Factor `json:"factors"`
		RecoveryCodesLeft int      `json:"recovery_codes_left"`
	}
}

type proofInput struct {
	Body *StepUp `required:"false"`
}

type passwordInput struct {
	Body *struct {
		Password string `json:"password,omitempty" maxLength:"1024" doc:"Your password, unless you entered it in this session in the last 10 minutes"`
	} `required:"false"`
}

func (in *passwordInput) password() string {
	if in.Body == nil {
		return ""
	}
	return in.Body.Password
}

type totpSetupOutput struct {
	Body struct {
		Secret string `json:"secret" doc:"The key, base32, to type into the app"`
		URL    string `json:"otpauth_url" doc:"The otpauth:// URL a QR code carries"`
	}
}

type confirmTOTPInput struct {
	Body struct {
		Code string `json:"code" maxLength:"64" doc:"The code the app shows now"`
	}
}

type recoveryCodesOutput struct {
	Body struct {
		RecoveryCodes []string `json:"recovery_codes" doc:"Shown once: each signs in once in place of a code"`
	}
}

// passkeyOptionsOutput is WebAuthn's options JSON, to hand to navigator.credentials.
type passkeyOptionsOutput struct {
	Body map[string]any
}

func optionsJSON(opts app.PasskeyOptions) (*passkeyOptionsOutput, error) {
	out := &passkeyOptionsOutput{}
	return out, json.Unmarshal(opts, &out.Body)
}

type addPasskeyInput struct {
	Body struct {
		Name       string         `json:"name,omitempty" maxLength:"100" doc:"A name to tell it from the others (default: Passkey and the date)"`
		Credential map[string]any `json:"credential" doc:"The browser's answer to navigator.credentials.create, as PublicKeyCredential.toJSON() gives it"`
	}
}

type passkeyOutput struct{ Body Passkey }

// AddedPasskey is a passkey just added, with the recovery codes made with it.
type AddedPasskey struct {
	Passkey
	RecoveryCodes []string `json:"recovery_codes,omitempty" doc:"Shown this once: made with the account's first second factor (an account without recovery codes). Each signs in once in place of a passkey or a code."`
}

type addedPasskeyOutput struct{ Body AddedPasskey }

// PasskeyPath names one of the caller's passkeys.
type PasskeyPath struct {
	Passkey string `path:"passkey" maxLength:"40"`
}

type renamePasskeyInput struct {
	PasskeyPath
	Body struct {
		Name string `json:"name" minLength:"1" maxLength:"100"`
	}
}

type removePasskeyInput struct {
	PasskeyPath
	Body *StepUp `required:"false"`
}

type loginMFAPasskeyOptionsInput struct {
	Body struct {
		MFAToken string `json:"mfa_token" maxLength:"200" doc:"The mfa_token of the login's answer"`
	}
}

type loginPasskeyInput struct {
	Body struct {
		Credential map[string]any `json:"credential" doc:"The browser's answer to navigator.credentials.get, as PublicKeyCredential.toJSON() gives it"`
	}
}

// answerBytes turns a browser's answer back into the bytes the app reads.
func answerBytes(m map[string]any) []byte {
	if m == nil {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil || len(b) > roster.MaxPasskeyJSON {
		return nil
	}
	return b
}

func (s *Server) registerFactors() {
	register(s.api, op("list-factors", http.MethodGet, "/v1/me/factors", "List my second factors", "Account"),
		func(ctx context.Context, _ *struct{}) (*factorsOutput, error) {
			fs, left, err := s.app.MFA.Factors(ctx, actor(ctx))
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &factorsOutput{}
			out.Body.RecoveryCodesLeft = left
			out.Body.Factors = mapSlice(fs, func(f app.Factor) Factor {
				return Factor{ID: f.ID, Type: f.Type, Name: f.Name, CreatedAt: Time(f.CreatedAt), LastUsedAt: (*Time)(f.LastUsedAt)}
			})
			return out, nil
		}, withDescription("The authenticator app (when set up) and the passkeys, with when each was added and last used, and how many recovery codes are left."))

	register(s.api, op("begin-totp", http.MethodPost, "/v1/me/factors/totp", "Begin setting up an authenticator app", "Account"),
		func(ctx context.Context, in *passwordInput) (*totpSetupOutput, error) {
			setup, err := s.app.MFA.BeginTOTP(ctx, actor(ctx), in.password())
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &totpSetupOutput{}
			out.Body.Secret, out.Body.URL = setup.Secret, setup.URL
			return out, nil
		}, withDescription("A new secret, which protects nothing until a first code confirms it (POST /v1/me/factors/totp/confirm). Needs the instance's encryption key (mfa_unavailable otherwise)."))

	register(s.api, op("confirm-totp", http.MethodPost, "/v1/me/factors/totp/confirm", "Turn on the authenticator app with a first code", "Account"),
		func(ctx context.Context, in *confirmTOTPInput) (*recoveryCodesOutput, error) {
			codes, err := s.app.MFA.ConfirmTOTP(ctx, actor(ctx), in.Body.Code)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &recoveryCodesOutput{}
			out.Body.RecoveryCodes = codes
			return out, nil
		}, withDescription("Answers the ten recovery codes, shown this once."))

	register(s.api, op("remove-totp", http.MethodDelete, "/v1/me/factors/totp", "Remove the authenticator app and the recovery codes", "Account"),
		func(ctx context.Context, in *proofInput) (*struct{}, error) {
			if err := s.app.MFA.Disable(ctx, actor(ctx), in.Body.proof()); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		}, withStatus(http.StatusNoContent), withDescription("A step-up (StepUp): a code or a passkey, never the password alone, unless given in this session in the last 10 minutes. Wrong ones count with the account's failed logins. Passkeys stay."))

	register(s.api, op("regenerate-recovery-codes", http.MethodPost, "/v1/me/factors/recovery-codes", "Make new recovery codes", "Account"),
		func(ctx context.Context, in *proofInput) (*recoveryCodesOutput, error) {
			codes, err := s.app.MFA.RegenerateRecoveryCodes(ctx, actor(ctx), in.Body.proof())
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			out := &recoveryCodesOutput{}
			out.Body.RecoveryCodes = codes
			return out, nil
		}, withDescription("Needs the password, a code or a passkey (or either given in this session in the last 10 minutes). The old codes stop working."))

	register(s.api, op("begin-passkey-registration", http.MethodPost, "/v1/me/factors/passkeys/options", "Begin adding a passkey", "Account"),
		func(ctx context.Context, in *passwordInput) (*passkeyOptionsOutput, error) {
			opts, err := s.app.Passkeys.BeginRegistration(ctx, actor(ctx), in.password())
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return optionsJSON(opts)
		}, withDescription("Answers the options for navigator.credentials.create ({\"publicKey\": …}); the answer goes to POST /v1/me/factors/passkeys within 5 minutes, once. "+
			"The relying party is the host of ROSTER_BASE_URL."))

	register(s.api, op("add-passkey", http.MethodPost, "/v1/me/factors/passkeys", "Add a passkey", "Account"),
		func(ctx context.Context, in *addPasskeyInput) (*addedPasskeyOutput, error) {
			p, err := s.app.Passkeys.FinishRegistration(ctx, actor(ctx), in.Body.Name, answerBytes(in.Body.Credential))
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &addedPasskeyOutput{Body: AddedPasskey{Passkey: passkeyJSON(p.Passkey), RecoveryCodes: p.RecoveryCodes}}, nil
		}, withStatus(http.StatusCreated), withDescription("Takes the browser's answer to the options of POST /v1/me/factors/passkeys/options. The user is told by email. "+
			"The first passkey of an account without recovery codes comes with ten, answered this once as recovery_codes."))

	register(s.api, op("rename-passkey", http.MethodPatch, "/v1/me/factors/passkeys/{passkey}", "Rename a passkey", "Account"),
		func(ctx context.Context, in *renamePasskeyInput) (*passkeyOutput, error) {
			p, err := s.app.Passkeys.Rename(ctx, actor(ctx), in.Passkey, in.Body.Name)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &passkeyOutput{Body: passkeyJSON(p)}, nil
		})

	register(s.api, op("remove-passkey", http.MethodDelete, "/v1/me/factors/passkeys/{passkey}", "Remove a passkey", "Account"),
		func(ctx context.Context, in *removePasskeyInput) (*struct{}, error) {
			if err := s.app.Passkeys.Remove(ctx, actor(ctx), in.Passkey, in.Body.proof()); err != nil {
				return nil, s.fail(ctx, err)
			}
			return nil, nil
		}, withStatus(http.StatusNoContent), withDescription("Needs the password, a code or a passkey (or either given in this session in the last 10 minutes). The user is told by email."))

	register(s.api, public(op("login-mfa-passkey-options", http.MethodPost, "/v1/auth/login/mfa/passkey-options", "Begin a login's second step with a passkey", "Authentication")),
		func(ctx context.Context, in *loginMFAPasskeyOptionsInput) (*passkeyOptionsOutput, error) {
			opts, err := s.app.Auth.BeginPasskeySecondFactor(ctx, actor(ctx), in.Body.MFAToken)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return optionsJSON(opts)
		}, withDescription("For a login whose methods include passkey: the options for navigator.credentials.get, limited to the account's passkeys. "+
			"Send the answer as passkey, with the mfa_token, to POST /v1/auth/login/mfa."))

	register(s.api, public(op("login-passkey-options", http.MethodPost, "/v1/auth/passkey/options", "Begin signing in with a passkey", "Authentication")),
		func(ctx context.Context, _ *struct{}) (*passkeyOptionsOutput, error) {
			opts, err := s.app.Auth.BeginPasskeyLogin(ctx, actor(ctx))
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return optionsJSON(opts)
		}, withDescription("Options for navigator.credentials.get naming no account: the authenticator offers its discoverable passkeys for this site, and must verify its user. "+
			"The answer goes to POST /v1/auth/passkey within 5 minutes, once."))

	register(s.api, public(op("login-passkey", http.MethodPost, "/v1/auth/passkey", "Sign in with a passkey", "Authentication")),
		func(ctx context.Context, in *loginPasskeyInput) (*loginOutput, error) {
			res, err := s.app.Auth.FinishPasskeyLogin(ctx, actor(ctx), answerBytes(in.Body.Credential))
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return s.loginJSON(res), nil
		}, withDescription("Opens a session for the account whose passkey answered, as a login with a password and a second factor does. "+
			"Any refusal (unknown passkey, wrong signature, a counter gone back, an expired request) is passkey_refused (401)."))
}

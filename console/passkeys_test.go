package console_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// localhostSite is a site whose base URL (so its WebAuthn relying party) is
// http://localhost:port: browsers refuse an IP address as a relying party ID, and treat
// localhost as a secure context without TLS.
func localhostSite(t *testing.T, e sqlstore.Engine) *site {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse(fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port))
	s := newSiteOn(t, e, ln, func(c *app.Config) { c.BaseURL = base })
	s.url = base.String()
	return s
}

// authenticator gives the tab Chromium's virtual authenticator (DevTools' WebAuthn domain):
// CTAP2, built in, with discoverable credentials and user verification that succeeds. It
// returns its ID.
func (b *tab) authenticator() webauthn.AuthenticatorID {
	b.t.Helper()
	b.spoil()
	var id webauthn.AuthenticatorID
	b.must(chromedp.Do(b.ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		res, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportInternal,
			HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
		}})
		id = res.AuthenticatorID
		return err
	})))
	return id
}

// credentials returns the credentials an authenticator holds.
func (b *tab) credentials(id webauthn.AuthenticatorID) []*webauthn.Credential {
	b.t.Helper()
	var out []*webauthn.Credential
	b.must(chromedp.Do(b.ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		res, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
		out = res.Credentials
		return err
	})))
	return out
}

// credential is what WebAuthn.addCredential takes of a credential: cdproto's Credential
// always sends the CMTG fields, which this Chromium refuses for a CTAP2 authenticator.
type credential struct {
	CredentialID         []byte `json:"credentialId"`
	IsResidentCredential bool   `json:"isResidentCredential"`
	RpID                 string `json:"rpId"`
	PrivateKey           []byte `json:"privateKey"`
	UserHandle           []byte `json:"userHandle"`
	SignCount            int64  `json:"signCount"`
}

type addCredentialParams struct {
	AuthenticatorID webauthn.AuthenticatorID `json:"authenticatorId"`
	Credential      credential               `json:"credential"`
}

var addCredential = cdp.Command[addCredentialParams, cdp.Empty]{Method: webauthn.CommandAddCredential}

// addCredential puts a credential into an authenticator, as a copied or forged key would be.
func (b *tab) addCredential(id webauthn.AuthenticatorID, c credential) {
	b.t.Helper()
	b.must(chromedp.Do(b.ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, addCredential, addCredentialParams{AuthenticatorID: id, Credential: c})
		return err
	})))
}

// passkeyButton waits until the script has enabled a passkey form's button, and presses it.
func (b *tab) passkeyButton(form string) {
	b.t.Helper()
	sel := form + " [data-passkey-button]"
	b.settle(fmt.Sprintf(`document.querySelector(%q) && !document.querySelector(%q).disabled`, sel, sel))
	b.submit(sel)
}

// TestPasskeysInChromium: with Chromium's virtual authenticator, a person adds a passkey on
// the account page, signs out, signs in with the password and the passkey as second step,
// signs out, signs in with the passkey alone (a discoverable credential, no address typed).
// A copy of the key with an older counter, and a key Roster never registered that claims the
// same account, are refused with a readable message. Removing the passkey (after a proof)
// ends what it can do.
func TestPasskeysInChromium(t *testing.T) {
	chromium(t)
	inLanguages(t, localhostSite, []string{"en", otherLanguage(t.Name())}, func(t *testing.T, s *site, lang string) {
		cat := catalogs[lang]
		b := s.browser(t, "paula", lang)
		auth := b.authenticator()
		email := addr("paula")
		b.signup("Paula Pérez", email)

		b.open("/account")
		b.expect("#passkeys", cat["passkey.none"])
		b.fill("#passkey-name", "Laptop")
		b.passkeyButton(`[data-testid=passkey-add]`)
		b.noError()
		b.expect(".flash.success", cat["flash.passkey_added_codes"]) // the first: with recovery codes
		b.expect(`[data-testid=recovery-codes]`, cat["twofa.codes_title"])
		b.expect(`[data-testid=passkey] .passkey-name`, "Laptop")
		if n := len(b.credentials(auth)); n != 1 {
			t.Fatalf("the authenticator holds %d credentials", n)
		}

		signOut := func() {
			t.Helper()
			b.menu("details.usermenu")
			b.submit(`details.usermenu form[action="/logout"] button`)
		}

		// The password, then the passkey.
		signOut()
		b.open("/login?next=%2Faccount")
		b.fill("#email", email, "#password", testenv.Password)
		b.submit(`form[action="/login"] button[type=submit]`)
		b.noError()
		b.expect("h1", cat["mfa.title"])
		if b.count("details.usermenu") != 0 || b.count("[data-testid=mfa-code]") != 0 {
			t.Fatal("signed in after the password alone, or asked for a code the account does not have")
		}
		b.passkeyButton(`[data-testid=mfa-passkey]`)
		b.noError()
		if p := b.path(); p != "/account" {
			t.Fatalf("after the passkey step: at %s, want /account", p)
		}
		b.expect("details.usermenu summary", "Paula Pérez")

		// The passkey alone.
		signOut()
		b.open("/login")
		b.passkeyButton(`[data-testid=passkey-login]`)
		b.noError()
		b.expect("details.usermenu summary", "Paula Pérez")
		creds := b.credentials(auth)
		if len(creds) != 1 || creds[0].SignCount < 2 {
			t.Fatalf("credentials after two sign-ins: %+v", creds)
		}

		// A copy of the key whose counter is behind: refused, and the page says so.
		thief := s.browser(t, "thief", lang)
		thiefAuth := thief.authenticator()
		orig := creds[0]
		thief.addCredential(thiefAuth, credential{CredentialID: orig.CredentialID, IsResidentCredential: true, RpID: "localhost",
			PrivateKey: orig.PrivateKey, UserHandle: orig.UserHandle, SignCount: 0})
		thief.open("/login")
		thief.passkeyButton(`[data-testid=passkey-login]`)
		thief.expect(".flash.error", cat["error.passkey_refused"])
		if thief.count("details.usermenu") != 0 {
			t.Fatal("a cloned passkey signed in")
		}
		// A key Roster never registered, claiming the same account (its user handle).
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		forged := credential{CredentialID: []byte("forged-credential-1"), IsResidentCredential: true, RpID: "localhost",
			PrivateKey: pkcs8, UserHandle: creds[0].UserHandle, SignCount: 100}
		thief.must(chromedp.Do(thief.ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, webauthn.ClearCredentials, webauthn.ClearCredentialsParams{AuthenticatorID: thiefAuth})
			return err
		})))
		thief.addCredential(thiefAuth, forged)
		thief.open("/login")
		thief.passkeyButton(`[data-testid=passkey-login]`)
		thief.expect(".flash.error", cat["error.passkey_refused"])

		// Removal of the last passkey, within ten minutes of signing in with it: nothing more is
		// asked (a step-up); then the passkey signs nobody in.
		b.open("/account")
		b.click(`[data-testid=passkey] details > summary`)
		id := b.attr(`[data-testid=passkey] form[action$="/remove"]`, "action")
		if b.count(fmt.Sprintf(`form[action=%q] input[name=password]`, id)) != 0 {
			t.Fatal("the password is asked within ten minutes of signing in with the passkey")
		}
		b.submit(fmt.Sprintf(`form[action=%q] button[type=submit]`, id))
		b.noError()
		b.expect(".flash.success", cat["flash.passkey_removed"])
		b.expect("#passkeys", cat["passkey.none"])
		signOut()
		b.open("/login")
		b.passkeyButton(`[data-testid=passkey-login]`)
		b.expect(".flash.error", cat["error.passkey_refused"])
		b.login(email) // the password alone again: no second factor left
		b.expect("details.usermenu summary", "Paula Pérez")
	})
}

// TestPasskeysWithoutWebAuthn: in a browser without WebAuthn the passkey button stays
// disabled and the page says why, in the page's language.
func TestPasskeysWithoutWebAuthn(t *testing.T) {
	chromium(t)
	languages(t, func(t *testing.T, s *site, lang string) {
		b := s.browser(t, "old", lang)
		b.spoil()
		b.must(chromedp.Do(b.ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
				Source: "delete window.PublicKeyCredential;"})
			return err
		})))
		b.open("/login")
		b.expect(`[data-testid=passkey-login] [data-passkey-unsupported]`, catalogs[lang]["passkey.unsupported"])
		if !b.is(`document.querySelector("[data-testid=passkey-login] [data-passkey-button]").disabled`) {
			t.Fatal("the passkey button is usable without WebAuthn")
		}
	})
}

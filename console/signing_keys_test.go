package console_test

import (
	"fmt"
	"testing"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
)

// TestOperatorSigningKeys: in Chromium, an operator reads the signing keys and their state in
// their language, asks to rotate them (nothing happens before the confirmation), confirms,
// and sees the new key active and the one it replaced retiring. Each language runs on a
// server of its own: a rotation is instance-wide.
func TestOperatorSigningKeys(t *testing.T) {
	chromium(t)
	languagesAlone(t, func(t *testing.T, s *site, lang string) {
		email := addr("kim")
		if err := s.env.App.Auth.Signup(testenv.Ctx, anon(), app.SignupInput{Email: email, Name: "Kim Keys", Password: testenv.Password, Locale: lang}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.env.App.Operator.CreateOperator(testenv.Ctx, roster.System(), email, ""); err != nil {
			t.Fatal(err)
		}
		first, err := s.env.App.SigningKeys.Current(testenv.Ctx)
		if err != nil {
			t.Fatal(err)
		}
		cat := catalogs[lang]
		op := s.browser(t, "operator", lang)
		op.login(email)
		op.open("/operator/keys")
		op.expect(fmt.Sprintf(`tr[data-kid=%q]`, first.ID), cat["signingkeys.state_active"])
		op.checkAxe()
		op.submit(`[data-testid=rotate]`) // asks first
		op.expect("dialog[open]", cat["signingkeys.rotate_title"])
		if k, err := s.env.App.SigningKeys.Current(testenv.Ctx); err != nil || k.ID != first.ID {
			t.Fatalf("one click rotated the keys: %v %s", err, k.ID)
		}
		op.checkAxe()
		op.submit(`[data-testid=confirm-rotate]`)
		op.noError()
		op.expect(".flash.success", cat["flash.keys_rotated"])
		next, err := s.env.App.SigningKeys.Current(testenv.Ctx)
		if err != nil || next.ID == first.ID {
			t.Fatalf("not rotated: %v", err)
		}
		op.expect(fmt.Sprintf(`tr[data-kid=%q]`, next.ID), cat["signingkeys.state_active"])
		op.expect(fmt.Sprintf(`tr[data-kid=%q]`, first.ID), cat["signingkeys.state_retiring"])
		if n := op.count("dialog[open]"); n != 0 {
			t.Fatalf("the confirmation is still open after the rotation: %d", n)
		}
	})
}

package console_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

// TestLogoTooLargeMessage: a logo whose decoding would exceed the cap is refused on the
// organization's details page with a readable message in the user's language, naming the
// size seen.
func TestLogoTooLargeMessage(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		s := newSite(t, e)
		bomb := testenv.PNG(t, 4096, 4096, 16, testenv.PNGRGBA, false)
		for lang, want := range map[string]string{
			"en": "This image is too large to process (4096×4096 pixels).",
			"fr": "Cette image est trop grande pour être traitée (4096×4096 pixels).",
			"es": "Esta imagen es demasiado grande para procesarla (4096×4096 píxeles).",
		} {
			email := addr("sam")
			if err := s.env.App.Auth.Signup(testenv.Ctx, anon(), app.SignupInput{Email: email, Name: "Sam", Password: testenv.Password, Locale: lang}); err != nil {
				t.Fatal(err)
			}
			org := s.env.Org(t, mustActor(t, s, email), "Acme")
			c := client(t)
			if res, _ := do(t, c, "POST", s.url+"/login", url.Values{"email": {email}, "password": {testenv.Password}}, nil); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("login: %d", res.StatusCode)
			}
			_, page := do(t, c, "GET", s.url+"/orgs/"+org.ID+"/details", nil, nil)
			m := csrfField.FindStringSubmatch(page)
			if m == nil {
				t.Fatal("no form token on the details page")
			}
			var body bytes.Buffer
			mw := multipart.NewWriter(&body)
			_ = mw.WriteField("csrf", m[1])
			fw, err := mw.CreateFormFile("logo", "logo.png")
			if err != nil {
				t.Fatal(err)
			}
			_, _ = fw.Write(bomb)
			_ = mw.Close()
			req, err := http.NewRequest("POST", s.url+"/orgs/"+org.ID+"/logo", &body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", mw.FormDataContentType())
			res, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(b), want) {
				t.Errorf("%s: %d, want 422 and %q", lang, res.StatusCode, want)
			}
		}
	})
}

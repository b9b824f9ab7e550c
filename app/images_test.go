package app_test

import (
	"bytes"
	"image"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
	"github.com/rosterhq/roster/internal/testenv"
	"github.com/rosterhq/roster/sqlstore"
)

func smallPNG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewNRGBA(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestLogoDecodeCap: the header decides, before any decoding, whether decoding an upload fits
// app.MaxImageDecodedBytes, counting the bytes per pixel of its color model and format.
// Within the cap, these header-only files go on to decoding and are refused as damaged.
func TestLogoDecodeCap(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		owner, _ := env.User(t, "Olivia")
		org := env.Org(t, owner, "Acme")
		for _, c := range []struct {
			what string
			data []byte
			code string
		}{
			{"4096×4096 16-bit RGBA: 128 MiB", testenv.PNG(t, 4096, 4096, 16, testenv.PNGRGBA, false), roster.EImageTooLarge},
			{"4096×4096 8-bit RGBA: 64 MiB", testenv.PNG(t, 4096, 4096, 8, testenv.PNGRGBA, false), roster.EImageTooLarge},
			{"2897×2897 8-bit RGB (decoded as RGBA): just over 32 MiB", testenv.PNG(t, 2897, 2897, 8, testenv.PNGRGB, false), roster.EImageTooLarge},
			{"2896×2896 8-bit RGBA: just under 32 MiB", testenv.PNG(t, 2896, 2896, 8, testenv.PNGRGBA, false), roster.EInvalidImage},
			{"4096×4096 16-bit grey: 32 MiB", testenv.PNG(t, 4096, 4096, 16, testenv.PNGGray, false), roster.EInvalidImage},
			{"4096×4096 paletted: 16 MiB", testenv.PNG(t, 4096, 4096, 8, testenv.PNGPaletted, false), roster.EInvalidImage},
			{"4097×1 grey: too wide", testenv.PNG(t, 4097, 1, 8, testenv.PNGGray, false), roster.EImageTooLarge},
			{"3000×3000 baseline JPEG: 26 MiB", testenv.JPEGHeader(3000, 3000, false), roster.EInvalidImage},
			{"3000×3000 progressive JPEG: 129 MiB with its coefficients", testenv.JPEGHeader(3000, 3000, true), roster.EImageTooLarge},
			{"1448×1448 progressive JPEG: 30 MiB", testenv.JPEGHeader(1448, 1448, true), roster.EInvalidImage},
		} {
			env.Clock.Advance(time.Hour) // past the upload rate limit
			_, err := env.App.Organizations.SetLogo(ctx, owner, org.ID, c.data)
			want(t, err, c.code, c.what)
			if e := roster.AsError(err); e.Field != "logo" {
				t.Errorf("%s: field %q", c.what, e.Field)
			}
		}
		// The refusal says what was seen, for the console's message.
		_, err := env.App.Organizations.SetLogo(ctx, owner, org.ID, testenv.PNG(t, 4096, 4096, 16, testenv.PNGRGBA, false))
		if e := roster.AsError(err); e == nil || e.Details["width"] != 4096 || e.Details["height"] != 4096 {
			t.Fatalf("details of the refusal: %#v", err)
		}
	})
}

// TestLogoUploadsAreRateLimited: one user makes app.LogoUploadsPerMinute logo uploads a
// minute, refused ones and those through other doors (stores) included; another user is not
// held back; the limit says when to come back.
func TestLogoUploadsAreRateLimited(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		owner, _ := env.User(t, "Olivia")
		other, _ := env.User(t, "Oscar")
		org := env.Org(t, owner, "Acme")
		otherOrg := env.Org(t, other, "Beta")
		store := env.Store(t, owner, org.ID, "Main")
		logo := smallPNG(t)
		for i := range app.LogoUploadsPerMinute {
			var err error
			switch {
			case i == 0:
				_, err = env.App.Organizations.SetLogo(ctx, owner, org.ID, []byte("not an image"))
				want(t, err, roster.EInvalidImage, "a refused upload")
			case i%2 == 0:
				_, err = env.App.Organizations.SetLogo(ctx, owner, org.ID, logo)
				want(t, err, "", "an organization logo within the limit")
			default:
				_, err = env.App.Stores.SetLogo(ctx, owner, store.ID, logo)
				want(t, err, "", "a store logo within the limit")
			}
		}
		_, err := env.App.Stores.SetLogo(ctx, owner, store.ID, logo)
		want(t, err, roster.ERateLimited, "one upload too many")
		if e := roster.AsError(err); e.RetryAfter <= 0 {
			t.Fatalf("no Retry-After: %#v", e)
		}
		_, err = env.App.Organizations.SetLogo(ctx, other, otherOrg.ID, logo)
		want(t, err, "", "another user's upload")
		env.Clock.Advance(time.Minute)
		_, err = env.App.Organizations.SetLogo(ctx, owner, org.ID, logo)
		want(t, err, "", "an upload a minute later")
	})
}

// TestLogoDecodesAreBounded: at most app.ImageDecodes logos are decoded at once; an upload
// that finds every slot taken is answered "unavailable" with a Retry-After instead of queueing,
// and a refused decode gives its slot back.
func TestLogoDecodesAreBounded(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		owner, _ := env.User(t, "Olivia")
		org := env.Org(t, owner, "Acme")
		release := app.HoldImageDecodes(env.App)
		_, err := env.App.Organizations.SetLogo(ctx, owner, org.ID, smallPNG(t))
		want(t, err, roster.EUnavailable, "an upload while every decode slot is taken")
		if e := roster.AsError(err); e.RetryAfter <= 0 {
			t.Fatalf("no Retry-After: %#v", e)
		}
		release()
		damaged := smallPNG(t)
		damaged = damaged[:len(damaged)-20]
		for range app.ImageDecodes + 1 {
			_, err = env.App.Organizations.SetLogo(ctx, owner, org.ID, damaged)
			want(t, err, roster.EInvalidImage, "a damaged image")
		}
		_, err = env.App.Organizations.SetLogo(ctx, owner, org.ID, smallPNG(t))
		want(t, err, "", "an upload once the slots are free")
	})
}

// TestPublicOrganizationLogo: the logo's public address (for emails and the invitation page)
// answers with the organization's current logo only: not an old one, not one of another
// organization under this one's ID, not a made-up ID, and nothing for an organization without one.
func TestPublicOrganizationLogo(t *testing.T) {
	testenv.Engines(t, func(t *testing.T, e sqlstore.Engine) {
		env := testenv.NewEnv(t, e)
		owner, _ := env.User(t, "Olivia")
		other, _ := env.User(t, "Oscar")
		org := env.Org(t, owner, "Acme")
		otherOrg := env.Org(t, other, "Beta")
		if u := env.App.Organizations.LogoURL(org); u != "" {
			t.Errorf("an organization without a logo has a logo address: %s", u)
		}
		first, err := env.App.Organizations.SetLogo(ctx, owner, org.ID, smallPNG(t))
		if err != nil {
			t.Fatal(err)
		}
		env.Clock.Advance(time.Minute)
		second, err := env.App.Organizations.SetLogo(ctx, owner, org.ID, smallPNG(t))
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := env.App.Organizations.SetLogo(ctx, other, otherOrg.ID, smallPNG(t))
		if err != nil {
			t.Fatal(err)
		}
		if u := env.App.Organizations.LogoURL(second.Organization); !strings.HasSuffix(u, "/logos/"+org.ID+"/"+second.LogoID) || !strings.HasPrefix(u, "http") {
			t.Errorf("logo address %q", u)
		}
		img, err := env.App.Organizations.PublicLogo(ctx, org.ID, second.LogoID)
		if err != nil || img.ContentType != "image/png" || len(img.Data) == 0 {
			t.Fatalf("the current logo: %v %q", err, img.ContentType)
		}
		for what, ids := range map[string][2]string{
			"the old logo":            {org.ID, first.LogoID},
			"another organization's":  {org.ID, theirs.LogoID},
			"a made-up image":         {org.ID, roster.NewID(roster.PrefixImage)},
			"not an image ID":         {org.ID, "../../etc/passwd"},
			"an unknown organization": {roster.NewID(roster.PrefixOrganization), second.LogoID},
		} {
			if _, err := env.App.Organizations.PublicLogo(ctx, ids[0], ids[1]); testenv.Code(err) != roster.ENotFound {
				t.Errorf("%s: %v", what, err)
			}
		}
	})
}

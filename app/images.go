package app

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // registers JPEG decoding
	_ "image/png"  // registers PNG decoding
	"time"

	_ "golang.org/x/image/webp" // registers WebP decoding

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/internal/gate"
)

// Limits on uploaded logos. A small file may declare a huge image (a PNG of zeros compresses
// about a thousandfold), so the file's size bounds nothing once decoded: the header is read
// first and the memory its decoding would take is capped, few decodes run at once, and each
// user uploads a bounded number of logos a minute.
const (
	maxImageSide = 4096 // pixels, each side

	// MaxImageDecodedBytes caps width × height × the bytes per pixel the decoder allocates
	// (see decodedBytes): 2896×2896 in 8-bit RGBA, 4096×4096 in 8-bit grey or baseline JPEG,
	// 1448×1448 in progressive JPEG.
	MaxImageDecodedBytes = 32 << 20

	// ImageDecodes is how many logos are decoded at once in one process; with the cap above,
	// decoding holds at most about 64 MiB.
	ImageDecodes = 2

	// LogoUploadsPerMinute is how many logo uploads one user (with their sessions and API keys)
	// may make a minute in one process, refused ones included.
	LogoUploadsPerMinute = 10

	imageDecodeWait = 2 * time.Second // how long an upload waits for a decode slot before a 503
)

var imageTypes = map[string]string{"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}

// imageGate bounds the work of logo uploads in one process: a rate per user, and a number of
// decodes running at once (an upload waits imageDecodeWait at most for a turn).
type imageGate struct {
	uploads *rateLimiter
	decodes *gate.Gate
}

func newImageGate() imageGate {
	return imageGate{uploads: newRateLimiter(LogoUploadsPerMinute, time.Minute), decodes: gate.New(ImageDecodes, 4*ImageDecodes, imageDecodeWait)}
}

// acquire takes a decode turn; release it with g.decodes.Leave.
func (g imageGate) acquire(ctx context.Context) error {
	if !g.decodes.Enter(ctx) {
		return &roster.Error{Code: roster.EUnavailable, Message: "too many images are being processed; try again shortly", RetryAfter: time.Second}
	}
	return nil
}

// uploader names whose budget of uploads an actor spends: a user's, whichever session or API
// key they use.
func uploader(actor roster.Actor) string {
	switch {
	case actor.UserID != "":
		return "user:" + actor.UserID
	case actor.ID() != "":
		return string(actor.Kind) + ":" + actor.ID()
	}
	return "ip:" + actor.IP
}

// checkImage proves an upload is a PNG, JPEG or WebP image of sensible size, whatever its name
// or declared type says, and returns its content type. It reads the header first and decodes
// the image only when decoding it fits the caps, within the actor's rate and a decode slot.
func (a *core) checkImage(ctx context.Context, actor roster.Actor, data []byte) (string, error) {
	if ok, wait := a.images.uploads.allow(uploader(actor), a.clock.Now()); !ok {
		return "", &roster.Error{Code: roster.ERateLimited, Message: "too many logo uploads; try again later", RetryAfter: wait.Round(time.Second)}
	}
	bad := func(msg string) error { return &roster.Error{Code: roster.EInvalidImage, Field: "logo", Message: msg} }
	if len(data) == 0 {
		return "", bad("the image is empty")
	}
	if len(data) > roster.MaxImageBytes {
		return "", bad("the image must be at most 1 MiB")
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", bad("the file is not a PNG, JPEG or WebP image")
	}
	ct, ok := imageTypes[format]
	if !ok {
		return "", bad("the file is not a PNG, JPEG or WebP image")
	}
	if cfg.Width < 1 || cfg.Height < 1 {
		return "", bad("the image has no pixels")
	}
	if n := decodedBytes(cfg, format, data); cfg.Width > maxImageSide || cfg.Height > maxImageSide || n > MaxImageDecodedBytes {
		return "", (&roster.Error{Code: roster.EImageTooLarge, Field: "logo",
			Message: fmt.Sprintf("the image is too large to process (%d×%d pixels, %d MiB once decoded): at most %d pixels a side and %d MiB decoded; 1024×1024 is plenty for a logo",
				cfg.Width, cfg.Height, (n+1<<20-1)>>20, maxImageSide, MaxImageDecodedBytes>>20)}).
			With("width", cfg.Width).With("height", cfg.Height).With("max_side", maxImageSide).With("max_mib", MaxImageDecodedBytes>>20)
	}
	if err := a.images.acquire(ctx); err != nil {
		return "", err
	}
	defer a.images.decodes.Leave()
	if _, _, err := image.Decode(bytes.NewReader(data)); err != nil {
		return "", bad("the image is damaged and cannot be read")
	}
	return ct, nil
}

// decodedBytes is the memory the decoder of format allocates for an image of cfg: its pixels
// times the bytes per pixel of the image it builds, and of the buffers it keeps beside it. Any
// color model not listed counts as 16-bit RGBA.
func decodedBytes(cfg image.Config, format string, data []byte) int64 {
	perPixel := int64(8)
	components := int64(3)
	if _, ok := cfg.ColorModel.(color.Palette); ok {
		perPixel = 1
	} else {
		switch cfg.ColorModel {
		case color.GrayModel, color.AlphaModel:
			perPixel, components = 1, 1
		case color.Gray16Model, color.Alpha16Model:
			perPixel = 2
		case color.RGBAModel, color.NRGBAModel:
			perPixel = 4
			if format == "webp" {
				perPixel = 8 // lossless WebP decodes to 32-bit words, then to NRGBA
			}
		case color.RGBA64Model, color.NRGBA64Model:
			perPixel = 8
		case color.YCbCrModel:
			perPixel = 3 // at worst 4:4:4
		case color.NYCbCrAModel:
			perPixel = 12 // lossy WebP with a lossless alpha plane: YCbCr, alpha, and the 8 bytes of its decoding
		case color.CMYKModel:
			perPixel, components = 8, 4 // Adobe JPEG: YCbCr and black planes, then CMYK
		}
	}
	if format == "jpeg" && jpegProgressive(data) {
		perPixel += 4 * components // the decoder keeps every DCT coefficient as an int32
	}
	return int64(cfg.Width) * int64(cfg.Height) * perPixel
}

// jpegProgressive reports whether a JPEG's frame is progressive (SOF2), walking its marker
// segments up to the first frame header.
func jpegProgressive(data []byte) bool {
	i := 2 // after SOI
	for i+4 <= len(data) {
		if data[i] != 0xff {
			return false
		}
		m := data[i+1]
		switch {
		case m == 0xff: // fill byte
			i++
			continue
		case m == 0xc2:
			return true
		case m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc, m == 0xd9, m == 0xda:
			return false // another frame type, the end, or the scan before any frame
		case m >= 0xd0 && m <= 0xd7, m == 0x01: // markers without a length
			i += 2
			continue
		}
		i += 2 + (int(data[i+2])<<8 | int(data[i+3]))
	}
	return false
}

// replaceImage stores a new image for an organization and deletes the one it replaces.
func (t *txn) replaceImage(orgID, oldID string, data []byte, contentType string) (string, error) {
	img := roster.Image{ID: roster.NewID(roster.PrefixImage), OrgID: orgID, ContentType: contentType, Data: data, CreatedAt: t.now}
	if err := t.CreateImage(t.ctx, img); err != nil {
		return "", err
	}
	if oldID != "" {
		if err := t.DeleteImage(t.ctx, orgID, oldID); err != nil {
			return "", err
		}
	}
	return img.ID, nil
}

// SetLogo replaces an organization's logo (owner), and returns the organization
// with the actor's access.
func (a *Organizations) SetLogo(ctx context.Context, actor roster.Actor, orgID string, data []byte) (OrganizationView, error) {
	ct, err := a.checkImage(ctx, actor, data)
	if err != nil {
		return OrganizationView{}, err
	}
	return orgWriteValue(ctx, a.core, actor, orgID, roster.PermOrgUpdate, func(t *txn, s scope) (OrganizationView, error) {
		org := s.org
		var err error
		if org.LogoID, err = t.replaceImage(orgID, s.org.LogoID, data, ct); err != nil {
			return OrganizationView{}, err
		}
		if err := t.SetOrganizationLogo(t.ctx, orgID, org.LogoID, t.now); err != nil {
			return OrganizationView{}, err
		}
		return OrganizationView{Organization: org, Access: s.acc}, t.audit(roster.AuditEvent{OrgID: orgID, Action: "organization.logo_changed",
			TargetType: "organization", TargetID: orgID,
			Before: map[string]any{"logo": s.org.LogoID}, After: map[string]any{"logo": org.LogoID, "content_type": ct, "bytes": len(data)}})
	})
}

// Logo returns an organization's logo to its members.
func (a *Organizations) Logo(ctx context.Context, actor roster.Actor, orgID string) (roster.Image, error) {
	c := a.read()
	s, err := a.orgScope(ctx, c, actor, orgID, false)
	if err != nil {
		return roster.Image{}, err
	}
	if s.org.LogoID == "" {
		return roster.Image{}, roster.NotFound("logo")
	}
	return c.Image(ctx, orgID, s.org.LogoID)
}

// LogoURL is the address of an organization's current logo under
// ROSTER_BASE_URL, for emails and the invitation page; "" when it has none. The address names
// the image, so it changes with the logo and may be cached for good (Organizations.PublicLogo).
func (a *Organizations) LogoURL(org roster.Organization) string {
	if p := a.organizationLogoPath(org); p != "" {
		return a.app.Link(p, nil)
	}
	return ""
}

// organizationLogoPath is Organizations.LogoURL's path, for pages of this site.
func (a *core) organizationLogoPath(org roster.Organization) string {
	if org.LogoID == "" || a.cfg.Pages.Logo == "" {
		return ""
	}
	return a.cfg.Pages.Logo + "/" + org.ID + "/" + org.LogoID
}

// PublicLogo returns an organization's logo to anyone who has its address (see
// Organizations.LogoURL): an email's reader, an invitee not yet a member. The address needs both
// IDs, the image's unguessable, and only the current logo answers; a company's logo is no
// secret, but nothing else of the organization is shown.
func (a *Organizations) PublicLogo(ctx context.Context, orgID, imageID string) (roster.Image, error) {
	if !roster.ValidID(roster.PrefixOrganization, orgID) || !roster.ValidID(roster.PrefixImage, imageID) {
		return roster.Image{}, roster.NotFound("logo")
	}
	c := a.read()
	org, err := c.Organization(ctx, orgID)
	if roster.ErrorCode(err) == roster.ENotFound || (err == nil && org.LogoID != imageID) {
		return roster.Image{}, roster.NotFound("logo")
	}
	if err != nil {
		return roster.Image{}, err
	}
	return c.Image(ctx, orgID, imageID)
}

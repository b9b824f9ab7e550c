package app

import (
	"bytes"
	"context"
	"image"
	_ "image/jpeg" // registers JPEG decoding
	_ "image/png"  // registers PNG decoding

	_ "golang.org/x/image/webp" // registers WebP decoding

	"github.com/rosterhq/roster"
)

// Limits on uploaded logos.
const (
	MaxImageBytes  = 1 << 20 // 1 MiB
	maxImagePixels = 4096
)

var imageTypes = map[string]string{"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}

// checkImage decodes an upload to prove it is a PNG, JPEG or WebP image of sensible size,
// whatever its name or declared type says, and returns its content type.
func checkImage(data []byte) (string, error) {
	bad := func(msg string) error { return &roster.Error{Code: roster.EInvalidImage, Field: "logo", Message: msg} }
	if len(data) == 0 {
		return "", bad("the image is empty")
	}
	if len(data) > MaxImageBytes {
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
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > maxImagePixels || cfg.Height > maxImagePixels {
		return "", bad("the image must be at most 4096×4096 pixels")
	}
	if _, _, err := image.Decode(bytes.NewReader(data)); err != nil {
		return "", bad("the image is damaged and cannot be read")
	}
	return ct, nil
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

// SetOrganizationLogo replaces an organization's logo (owner).
func (a *App) SetOrganizationLogo(ctx context.Context, actor roster.Actor, orgID string, data []byte) (roster.Organization, error) {
	ct, err := checkImage(data)
	if err != nil {
		return roster.Organization{}, err
	}
	var org roster.Organization
	err = a.orgWrite(ctx, actor, orgID, roster.PermOrgUpdate, func(t *txn, s scope) error {
		org = s.org
		if org.LogoID, err = t.replaceImage(orgID, s.org.LogoID, data, ct); err != nil {
			return err
		}
		if err := t.SetOrganizationLogo(t.ctx, orgID, org.LogoID, t.now); err != nil {
			return err
		}
		return t.audit(roster.AuditEvent{OrgID: orgID, Action: "organization.logo_changed", TargetType: "organization", TargetID: orgID,
			Before: map[string]any{"logo": s.org.LogoID}, After: map[string]any{"logo": org.LogoID, "content_type": ct, "bytes": len(data)}})
	})
	return org, err
}

// OrganizationLogo returns an organization's logo to its members.
func (a *App) OrganizationLogo(ctx context.Context, actor roster.Actor, orgID string) (roster.Image, error) {
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

package app

import (
	"context"

	"github.com/rosterhq/roster/internal/gate"
)

// HoldImageDecodes makes a's logo uploads find every decode turn taken and no room to wait,
// as a flood of decodes would; release puts the real gate back.
func HoldImageDecodes(a *App) (release func()) {
	real := a.images.decodes
	full := gate.New(1, 0, 0)
	full.Enter(context.Background())
	a.images.decodes = full
	return func() { a.images.decodes = real }
}

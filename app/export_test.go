package app

// HoldImageDecodes takes every decode slot of a's logo uploads and makes uploads wait for
// none, as a flood of decodes would; release gives the slots back.
func HoldImageDecodes(a *App) (release func()) {
	wait := a.images.wait
	a.images.wait = 0
	for range cap(a.images.slots) {
		a.images.slots <- struct{}{}
	}
	return func() {
		for range cap(a.images.slots) {
			<-a.images.slots
		}
		a.images.wait = wait
	}
}

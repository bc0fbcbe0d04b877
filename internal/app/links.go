package app

// confirmLinks points confirmation links at http.public_url, or at the
// loopback address the HTTP server listens on when there is none, and lets
// the store make them, valid for limits.confirmation_ttl. Without such an
// address, or without SMTP to send replies, it makes none (a warning at
// start says so).
func (a *App) confirmLinks() {
	base := a.cfg.HTTP.LinkBase(a.Addr())
	a.Store.ConfirmTTL = 0
	if base != "" && a.renderer != nil {
		a.renderer.PublicURL = base
		a.Store.ConfirmTTL = a.cfg.Limits.ConfirmationTTL.Std()
	}
}

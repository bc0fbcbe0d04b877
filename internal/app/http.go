package app

import (
	"net/http"

	"github.com/unlockd/unlockd/internal/config"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/web"
)

// handler routes the operational endpoints and hands everything else to
// the API and UI.
func (a *App) handler() (http.Handler, error) {
	var wake func()
	switch {
	case a.worker != nil && a.applier != nil:
		wake = func() { a.worker.Wake(); a.applier.Wake() } // an approval in a remote directory applies first
	case a.worker != nil:
		wake = a.worker.Wake
	case a.applier != nil:
		wake = a.applier.Wake
	}
	h := a.cfg.HTTP
	signInHashes, authHashes := h.HashShares()
	header := web.HeaderXForwardedFor
	if h.ProxyHeader == config.ProxyForwarded {
		header = web.HeaderForwarded
	}
	site, err := web.New(web.Config{Store: a.Store, Answer: a.answerRenderer(), Wake: wake, Log: a.log.With("component", "http"),
		PublicURL: h.PublicURL, Unlocked: a.metrics.Unlocked, Directories: a.directoryNames(), Remote: a.directories,
		Proxies:     web.Proxies{Trusted: h.Proxies(), Header: header},
		RequireTOTP: h.RequireTOTP,
		SignIn: web.SignInLimits{SignInHashes: signInHashes, AuthenticateHashes: authHashes,
			HashWait: h.PasswordHashWait.Std(), ClientBurst: h.SignInBurst, ClientRefill: h.SignInRefill.Std()}})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", a.readyz)
	if a.cfg.HTTP.MetricsListen == "" {
		mux.Handle("GET /metrics", a.metricsHandler())
	}
	mux.Handle("/", site)
	return mux, nil
}

// answerRenderer renders approved, declined, closed and expired answers;
// nil (queue none) when no SMTP is configured.
func (a *App) answerRenderer() store.FollowUpRenderer {
	if a.renderer == nil {
		return nil
	}
	return a.renderer.Answer
}

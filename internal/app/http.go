package app

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/unlockd/unlockd/internal/config"
	"github.com/unlockd/unlockd/internal/intake"
	"github.com/unlockd/unlockd/internal/store"
	"github.com/unlockd/unlockd/internal/web"
)

// handler routes the operational endpoints and hands everything else to
// the API and UI.
func (a *App) handler() (http.Handler, error) {
	var wake func()
	if a.worker != nil {
		wake = a.worker.Wake
	}
	h := a.cfg.HTTP
	signInHashes, authHashes := h.HashShares()
	header := web.HeaderXForwardedFor
	if h.ProxyHeader == config.ProxyForwarded {
		header = web.HeaderForwarded
	}
	site, err := web.New(web.Config{Store: a.Store, Answer: a.answerRenderer(), Wake: wake, Log: a.log.With("component", "http"),
		PublicURL: h.PublicURL, Unlocked: a.metrics.Unlocked,
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

// mailboxState is a watcher's last reported state and since when.
type mailboxState struct {
	state intake.State
	since time.Time
}

func (a *App) setState(mailbox string, st intake.State) {
	if st == intake.StateRetrying {
		a.metrics.Reconnecting(mailbox)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.states[mailbox].state != st {
		a.states[mailbox] = mailboxState{state: st, since: time.Now()}
	}
}

// readyz reports the store and each mailbox: 200 when the store answers,
// 503 otherwise. Mailboxes that are retrying, or on standby while another
// instance holds their lease, do not make the instance unready.
func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	status := map[string]any{}
	code := http.StatusOK
	if err := a.Store.Ping(r.Context()); err != nil {
		status["store"], code = "unreachable", http.StatusServiceUnavailable
	} else {
		status["store"] = "ok"
	}
	mailboxes := map[string]string{}
	a.mu.Lock()
	for _, mb := range a.cfg.Mailboxes {
		if st, ok := a.states[mb.Name]; ok {
			mailboxes[mb.Name] = string(st.state) + " since " + st.since.UTC().Format(time.RFC3339)
		} else {
			mailboxes[mb.Name] = "starting"
		}
	}
	a.mu.Unlock()
	status["mailboxes"] = mailboxes
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(status)
}

package app

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/unlockd/unlockd/internal/config"
)

// listen binds the HTTP listener and, with http.metrics_listen, the
// metrics listener, builds their servers with the http limits, and logs
// the configuration's warnings.
func (a *App) listen(handler http.Handler) error {
	h := a.cfg.HTTP
	var err error
	if a.ln, err = net.Listen("tcp", h.Listen); err != nil {
		return fmt.Errorf("app: http.listen %s: %w", h.Listen, err)
	}
	a.srv = newServer(h, handler)
	if h.MetricsListen != "" {
		if a.metricsLn, err = net.Listen("tcp", h.MetricsListen); err != nil {
			a.ln.Close()
			return fmt.Errorf("app: http.metrics_listen %s: %w", h.MetricsListen, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", a.metricsHandler())
		a.metricsSrv = newServer(h, mux)
	}
	for _, w := range a.cfg.Warnings() {
		a.log.Warn(w)
	}
	return nil
}

// newServer is an http.Server for handler with the limits of h.
func newServer(h config.HTTP, handler http.Handler) *http.Server {
	return &http.Server{Handler: handler,
		ReadHeaderTimeout: h.ReadHeaderTimeout.Std(), ReadTimeout: h.ReadTimeout.Std(),
		WriteTimeout: h.WriteTimeout.Std(), IdleTimeout: h.IdleTimeout.Std(),
		MaxHeaderBytes: int(h.MaxHeaderBytes)}
}

// metricsHandler serves the Prometheus metrics, behind the bearer token
// when http.metrics_token is set.
func (a *App) metricsHandler() http.Handler {
	h := a.metrics.Handler()
	if len(a.directories) > 0 { // each scrape pings the directories first (unlockd_directory_up)
		inner := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a.pingDirectories(r.Context())
			inner.ServeHTTP(w, r)
		})
	}
	if a.cfg.HTTP.MetricsToken == "" {
		return h
	}
	return requireBearer(a.cfg.HTTP.MetricsToken, h)
}

// requireBearer answers 401 to a request without "Authorization: Bearer
// <token>". The comparison takes the same time whatever the guess.
func requireBearer(token string, next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		scheme, got, _ := strings.Cut(auth, " ")
		sum := sha256.Sum256([]byte(got))
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "a bearer token is required", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// serve runs srv on ln until ctx ends, then shuts it down gracefully.
func serve(srv *http.Server, ln net.Listener) func(context.Context) error {
	return func(ctx context.Context) error {
		go func() {
			<-ctx.Done()
			shutdown, done := context.WithTimeout(context.Background(), 10*time.Second)
			defer done()
			srv.Shutdown(shutdown)
		}()
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

// MetricsAddr is the metrics listener's address; empty without
// http.metrics_listen.
func (a *App) MetricsAddr() string {
	if a.metricsLn == nil {
		return ""
	}
	return a.metricsLn.Addr().String()
}

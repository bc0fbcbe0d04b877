package web

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"github.com/unlockd/unlockd/internal/store"
)

// Config is what the HTTP layer needs.
type Config struct {
	Store *store.Store
	// Answer renders the answers to approved and declined requests; nil
	// queues none.
	Answer store.FollowUpRenderer
	// Wake, when set, is called after mail was queued, to deliver it now.
	Wake func()
	// Unlocked, when set, counts users unlocked through channel
	// metrics.ChannelReview (an approved request) or metrics.ChannelHTTP
	// (a direct unlock).
	Unlocked func(channel string, n int)
	Log      *slog.Logger
	// PublicURL is http.public_url; an https URL makes cookies Secure.
	PublicURL string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Server serves the API and the UI.
type Server struct {
	Config
	mux *http.ServeMux
}

// New builds the server and its routes.
func New(cfg Config) (*Server, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{Config: cfg, mux: http.NewServeMux()}
	s.apiRoutes(s.mux)
	if err := s.uiRoutes(s.mux); err != nil {
		return nil, err
	}
	return s, nil
}

// ServeHTTP serves the API and the UI, naming each request with an id.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r.WithContext(withRequestID(r.Context(), newRequestID())))
}

// newRequestID returns a short random id that names one HTTP request in
// audit entries ("http:<id>") and logs.
func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

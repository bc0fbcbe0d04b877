package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
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
	// metrics.ChannelReview (an approved request), metrics.ChannelHTTP
	// (a direct unlock) or metrics.ChannelLink (a confirmation link).
	Unlocked func(channel string, n int)
	Log      *slog.Logger
	// PublicURL is http.public_url; an https URL makes cookies Secure.
	PublicURL string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Proxies are the trusted reverse proxies (http.trusted_proxies) whose
	// forwarding header names the client (clientaddr.go).
	Proxies Proxies
	// SignIn bounds what signing in may cost; zero fields take defaults.
	SignIn SignInLimits
	// RequireTOTP says who must sign in with a second factor:
	// RequireTOTPStaff (the default when empty), RequireTOTPAll or
	// RequireTOTPNone. An operator who has enrolled always needs it.
	RequireTOTP string
	// Directories are the configured remote directories' names
	// (directories[].name), which an org's directory may name besides
	// builtin.
	Directories []string
	// Remote are the configured remote directories' adapters, by name:
	// for an org whose directory is one, the UI's and the API's users,
	// unlock, lock, bulk reset and password ask it (remote.go).
	Remote map[string]domain.Directory
	// DirectoryWait bounds what a person waits for a remote directory;
	// DefaultDirectoryWait when zero.
	DirectoryWait time.Duration
}

// SignInLimits bound password checks and sign-in attempts (DESIGN:
// budgets). Each argon2id computation takes 64 MiB while it runs, so at
// most (SignInHashes + AuthenticateHashes) × 64 MiB go to password hashing.
type SignInLimits struct {
	// SignInHashes is how many argon2id computations for the web UI and
	// the API's password changes run at once; default 1.
	SignInHashes int
	// AuthenticateHashes is the share kept for the host application's
	// POST /api/v1/orgs/{org}/authenticate, so that a flood of sign-ins
	// cannot starve it; default 1.
	AuthenticateHashes int
	// HashWait is how long a request waits for a free slot before it is
	// answered 429; default 1s.
	HashWait time.Duration
	// ClientBurst sign-in attempts may come from one client address at
	// once, and one more every ClientRefill; defaults 10 and 6s.
	ClientBurst  int
	ClientRefill time.Duration
}

// Values of Config.RequireTOTP (http.require_totp).
const (
	RequireTOTPStaff = "staff"
	RequireTOTPAll   = "all"
	RequireTOTPNone  = "none"
)

func (l *SignInLimits) setDefaults() {
	if l.SignInHashes <= 0 {
		l.SignInHashes = 1
	}
	if l.AuthenticateHashes <= 0 {
		l.AuthenticateHashes = 1
	}
	if l.HashWait <= 0 {
		l.HashWait = time.Second
	}
	if l.ClientBurst <= 0 {
		l.ClientBurst = 10
	}
	if l.ClientRefill <= 0 {
		l.ClientRefill = 6 * time.Second
	}
}

// Server serves the API and the UI.
type Server struct {
	Config
	mux *http.ServeMux
	// signInHashes and authHashes are the two shares of password hashing.
	signInHashes, authHashes *password.Limiter
	// signInClients throttles sign-in attempts per client address;
	// confirmClients, with the same limits, uses of confirmation links.
	signInClients, confirmClients *throttle
}

// New builds the server and its routes.
func New(cfg Config) (*Server, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.DirectoryWait <= 0 {
		cfg.DirectoryWait = DefaultDirectoryWait
	}
	if cfg.RequireTOTP == "" {
		cfg.RequireTOTP = RequireTOTPStaff
	}
	cfg.SignIn.setDefaults()
	l := cfg.SignIn
	s := &Server{Config: cfg, mux: http.NewServeMux(),
		signInHashes:  password.NewLimiter(l.SignInHashes, l.HashWait),
		authHashes:    password.NewLimiter(l.AuthenticateHashes, l.HashWait),
		signInClients: newThrottle(l.ClientBurst, l.ClientRefill), confirmClients: newThrottle(l.ClientBurst, l.ClientRefill)}
	s.apiRoutes(s.mux)
	if err := s.uiRoutes(s.mux); err != nil {
		return nil, err
	}
	return s, nil
}

// ServeHTTP serves the API and the UI, naming each request with an id and
// finding its client's address (clientaddr.go), once.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := withRequestID(r.Context(), newRequestID())
	ctx = context.WithValue(ctx, clientAddrKey, s.Proxies.ClientAddr(r))
	s.mux.ServeHTTP(w, r.WithContext(ctx))
}

// newRequestID returns a short random id that names one HTTP request in
// audit entries ("http:<id>") and logs.
func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

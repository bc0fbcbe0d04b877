package web

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/password"
)

// rateLimited sets Retry-After to after (in whole seconds, at least one)
// and returns the 429 error saying msg.
func rateLimited(w http.ResponseWriter, after time.Duration, msg string) error {
	w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(after)))
	return domain.Errorf(domain.CodeRateLimit, "%s", msg)
}

func retrySeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// msgHashBusy answers a request that found every password-hashing slot taken.
const msgHashBusy = "too many password checks at once; try again in a moment"

// hashBusy turns password.ErrBusy into a 429 answer, with Retry-After the
// time a request may wait for a slot; other errors pass unchanged.
func (s *Server) hashBusy(w http.ResponseWriter, err error) error {
	if errors.Is(err, password.ErrBusy) {
		return rateLimited(w, s.SignIn.HashWait, msgHashBusy)
	}
	return err
}

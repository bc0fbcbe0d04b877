package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/unlockd/unlockd/internal/domain"
)

const (
	// MaxResponseBytes bounds an answer's body; a longer one is a
	// permanent error, read no further.
	MaxResponseBytes = 1 << 20
	// maxErrorBytes bounds what is read of an error answer's body, and
	// maxErrorRunes what of it an error quotes.
	maxErrorBytes = 4 << 10
	maxErrorRunes = 200
	// Backoff between attempts: base doubled each time, capped, with
	// jitter; never past the call's deadline.
	backoffBase = 200 * time.Millisecond
	backoffMax  = 2 * time.Second
)

// call POSTs req as JSON to URL/op, signed, and decodes the answer into
// ans, strictly. A network error, 408, 429 or 5xx is retried up to the
// attempts and the timeout, then Temporary; any other answer but 200 is
// permanent, as is a body that is too long or does not decode.
func (d *Directory) call(ctx context.Context, op string, req, ans any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("directory %q: %s: %w", d.name, op, err)
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		retry, err := d.attempt(ctx, op, body, ans)
		if !retry {
			return err
		}
		if attempt >= d.tries || ctx.Err() != nil {
			return domain.Temporary("directory %q: %s: %w (attempt %d of %d)", d.name, op, err, attempt, d.tries)
		}
		wait := min(backoffBase<<(attempt-1), backoffMax)
		wait = wait/2 + rand.N(wait/2+1)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return domain.Temporary("directory %q: %s: %w (attempt %d of %d; no time left for another)", d.name, op, err, attempt, d.tries)
		}
	}
}

// attempt makes one request. It reports whether a failure is worth
// retrying; a permanent failure comes back wrapped, a retryable one bare.
func (d *Directory) attempt(ctx context.Context, op string, body []byte, ans any) (retry bool, err error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, d.base+"/"+op, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("directory %q: %s: %w", d.name, op, err)
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "application/json")
	r.Header.Set("User-Agent", "unlockd")
	r.Header.Set(SignatureHeader, Sign(d.secret, d.Now(), NewNonce(), body)) // a new nonce for each attempt
	resp, err := d.client.Do(r)
	if err != nil {
		return true, err
	}
	defer resp.Body.Close()
	switch s := resp.StatusCode; {
	case s == http.StatusOK:
	case s >= 500 || s == http.StatusTooManyRequests || s == http.StatusRequestTimeout:
		return true, fmt.Errorf("HTTP %d%s", s, errorText(resp.Body))
	case s >= 300 && s < 400:
		return false, fmt.Errorf("directory %q: %s: HTTP %d: redirects are not followed; set url to the final address", d.name, op, s)
	default:
		return false, fmt.Errorf("directory %q: %s: HTTP %d%s", d.name, op, s, errorText(resp.Body))
	}
	if resp.ContentLength > MaxResponseBytes {
		return false, d.garbage(op, fmt.Errorf("%d bytes, longer than %d bytes", resp.ContentLength, MaxResponseBytes))
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return true, fmt.Errorf("reading the answer: %w", err)
	}
	if len(data) > MaxResponseBytes {
		return false, d.garbage(op, fmt.Errorf("longer than %d bytes", MaxResponseBytes))
	}
	if err := decodeStrict(data, ans); err != nil {
		return false, d.garbage(op, err)
	}
	return false, nil
}

// garbage is the permanent error of an answer that makes no sense.
func (d *Directory) garbage(op string, err error) error {
	return fmt.Errorf("directory %q: %s: the application's answer is not valid: %w", d.name, op, err)
}

// decodeStrict decodes exactly one JSON value of data into v, refusing
// unknown fields and anything after the value.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the JSON value")
	}
	return nil
}

// errorText is ": <message>" from an error answer's body, the error field
// of {"error": "..."} or else the text itself, cleaned of control
// characters and cut short; empty when the body is.
func errorText(body io.Reader) string {
	data, _ := io.ReadAll(io.LimitReader(body, maxErrorBytes))
	var e struct {
		Error string `json:"error"`
	}
	msg := string(data)
	if json.Unmarshal(data, &e) == nil && e.Error != "" {
		msg = e.Error
	}
	msg = sanitize(msg)
	if msg == "" {
		return ""
	}
	return ": " + msg
}

// sanitize replaces control and unprintable characters with spaces,
// collapses runs of space and keeps at most maxErrorRunes runes.
func sanitize(s string) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxErrorRunes {
		s = string(r[:maxErrorRunes]) + "…"
	}
	return s
}

package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/unlockd/unlockd/internal/domain"
	"github.com/unlockd/unlockd/internal/store"
)

// Codes the HTTP layer adds to the domain's.
const (
	codeUnauthorized domain.Code = "unauthorized"
	// The API's strict input rules (api_input.go) and its catch-all route.
	codeTooLarge        domain.Code = "too_large"
	codeUnsupportedType domain.Code = "unsupported_media_type"
	codeMethod          domain.Code = "method_not_allowed"
	// The database did not answer (store.IsUnavailable), or an org's
	// remote directory (a temporary directoryError): try again soon.
	codeUnavailable domain.Code = "unavailable"
	// An org's remote directory gave an answer that cannot be acted on.
	codeBadGateway domain.Code = "directory_error"
)

// status maps an error code to its HTTP status: the one place that does.
func status(c domain.Code) int {
	switch c {
	case domain.CodeInvalid:
		return http.StatusBadRequest
	case codeUnauthorized:
		return http.StatusUnauthorized
	case domain.CodeForbidden:
		return http.StatusForbidden
	case domain.CodeNotFound:
		return http.StatusNotFound
	case domain.CodeConflict:
		return http.StatusConflict
	case domain.CodeWeakPassword:
		return http.StatusUnprocessableEntity
	case domain.CodeRateLimit:
		return http.StatusTooManyRequests
	case domain.CodeGone:
		return http.StatusGone
	case codeTooLarge:
		return http.StatusRequestEntityTooLarge
	case codeUnsupportedType:
		return http.StatusUnsupportedMediaType
	case codeMethod:
		return http.StatusMethodNotAllowed
	case codeUnavailable:
		return http.StatusServiceUnavailable
	case codeBadGateway:
		return http.StatusBadGateway
	}
	return http.StatusInternalServerError
}

// errorBody is the error shape of SPEC §8.
type errorBody struct {
	Error struct {
		Code    domain.Code `json:"code"`
		Message string      `json:"message"`
	} `json:"error"`
}

// errorCode is err's domain code, or codeUnavailable for an internal error
// that says the database did not answer.
func errorCode(err error) domain.Code {
	code := domain.ErrorCode(err)
	var de *directoryError
	switch {
	case code != domain.CodeInternal:
	case errors.As(err, &de) && domain.IsTemporary(de.err):
		return codeUnavailable
	case de != nil:
		return codeBadGateway
	case store.IsUnavailable(err):
		return codeUnavailable
	}
	return code
}

// errorMessage is the message shown for err.
func errorMessage(err error) string {
	var de *directoryError
	switch {
	case errors.As(err, &de) && errorCode(err) == codeUnavailable:
		return "directory " + de.name + " did not answer; nothing was changed; try again shortly"
	case de != nil:
		return de.Error()
	case errorCode(err) == codeUnavailable:
		return "the database is unavailable; try again shortly"
	}
	return domain.ErrorMessage(err)
}

// writeError answers with the error shape. Internal errors are logged with
// their detail and answered with a generic message; so are requests the
// database could not serve, as 503 with Retry-After.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := errorCode(err)
	switch code {
	case domain.CodeInternal:
		s.Log.Error("http request failed", "method", r.Method, "path", r.URL.Path,
			"request_id", httpRequestID(r.Context()), "client", clientAddr(r.Context()).String(), slog.Any("error", err))
	case codeUnavailable:
		s.Log.Warn("http request failed: database unavailable", "method", r.Method, "path", r.URL.Path,
			"request_id", httpRequestID(r.Context()), "client", clientAddr(r.Context()).String(), slog.Any("error", err))
		w.Header().Set("Retry-After", "5")
	}
	var body errorBody
	body.Error.Code, body.Error.Message = code, errorMessage(err)
	writeJSON(w, status(code), body)
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if a, ok := v.(jsonAppender); ok {
		w.Write(a.appendJSON(make([]byte, 0, 512)))
		return
	}
	json.NewEncoder(w).Encode(v)
}

// jsonAppender writes itself as JSON without reflection, exactly as
// encoding/json's Encoder would (api_user_json.go).
type jsonAppender interface{ appendJSON([]byte) []byte }

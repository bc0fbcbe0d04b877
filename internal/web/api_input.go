package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/unlockd/unlockd/internal/domain"
)

// Strict input. Every API handler reads its input through these helpers
// before it changes anything, so bad input answers 400, 413 or 415 with the
// error shape and writes nothing.

// maxBodyBytes bounds a request body.
const maxBodyBytes = 64 << 10

// readJSONBody decodes the body, a single JSON object, into v. It must be at
// most maxBodyBytes, be sent as application/json, and hold no unknown
// fields and nothing after the object. An empty body is accepted, leaving v
// as it is, only when optional.
func readJSONBody(r *http.Request, v any, optional bool) error {
	if r.ContentLength > maxBodyBytes {
		return errTooLarge()
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return domain.Errorf(domain.CodeInvalid, "reading the request body failed")
	}
	if len(body) > maxBodyBytes {
		return errTooLarge()
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return nil
		}
		return domain.Errorf(domain.CodeInvalid, "a JSON request body is required")
	}
	if err := checkJSONType(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	if body = bytes.TrimSpace(body); body[0] != '{' {
		return domain.Errorf(domain.CodeInvalid, "the request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return domain.Errorf(domain.CodeInvalid, "invalid JSON body: data after the object")
	}
	return nil
}

// jsonError words a decoding error for the client, without Go type names.
func jsonError(err error) error {
	var domainErr *domain.Error
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &domainErr): // from a field's UnmarshalJSON
		return domainErr
	case errors.As(err, &typeErr) && typeErr.Field != "":
		want := "a " + typeErr.Type.Kind().String()
		switch typeErr.Type.Kind() {
		case reflect.Bool:
			want = "true or false"
		case reflect.Int, reflect.Int64:
			want = "a whole number in range"
		}
		return domain.Errorf(domain.CodeInvalid, "invalid JSON body: %s must be %s", typeErr.Field, want)
	case errors.As(err, &syntaxErr):
		return domain.Errorf(domain.CodeInvalid, "invalid JSON body: malformed at byte %d", syntaxErr.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return domain.Errorf(domain.CodeInvalid, "invalid JSON body: it ends too soon")
	}
	return domain.Errorf(domain.CodeInvalid, "invalid JSON body: %s", strings.TrimPrefix(err.Error(), "json: "))
}

func errTooLarge() error {
	return domain.Errorf(codeTooLarge, "the request body is larger than %d bytes", maxBodyBytes)
}

// checkJSONType accepts application/json, with charset utf-8 if any.
func checkJSONType(ct string) error {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return domain.Errorf(codeUnsupportedType, "the request body must be sent as Content-Type: application/json")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return domain.Errorf(codeUnsupportedType, "the request body must be UTF-8")
	}
	return nil
}

// checkListQuery rejects query parameters other than allowed, and any given
// twice, so that a misspelt filter is an error rather than ignored.
func checkListQuery(r *http.Request, allowed ...string) error {
	for k, vs := range r.URL.Query() {
		if !slices.Contains(allowed, k) {
			return domain.Errorf(domain.CodeInvalid, "unknown query parameter %q", k)
		}
		if len(vs) > 1 {
			return domain.Errorf(domain.CodeInvalid, "query parameter %q is given more than once", k)
		}
	}
	return nil
}

// orgParam returns the {org} path value, which apiServe has already checked
// the principal may see, once it is a valid slug.
func orgParam(r *http.Request) (string, error) {
	slug := r.PathValue("org")
	return slug, domain.ValidateSlug(slug)
}

// userParams returns the {org} and {username} path values once both are
// valid.
func userParams(r *http.Request) (org, username string, err error) {
	if org, err = orgParam(r); err != nil {
		return "", "", err
	}
	username = r.PathValue("username")
	return org, username, domain.ValidateUsername(username)
}

// checkLength bounds a free-text field.
func checkLength(field, v string, max int) error {
	if len(v) > max {
		return domain.Errorf(domain.CodeInvalid, "%s is longer than %d bytes", field, max)
	}
	return nil
}

// optionalString is a JSON string field that tells "left out" (Set false)
// from "" (Set true). A null is refused: it is neither.
type optionalString struct {
	Set   bool
	Value string
}

// UnmarshalJSON reads a string; null is an error naming no Go type.
func (o *optionalString) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return domain.Errorf(domain.CodeInvalid, "invalid JSON body: a null where a string is expected; leave the field out instead")
	}
	if err := json.Unmarshal(b, &o.Value); err != nil {
		return domain.Errorf(domain.CodeInvalid, "invalid JSON body: a string is expected")
	}
	o.Set = true
	return nil
}

// readNote reads a body {"note": "..."}. The rule that needs the note
// (domain.User.LockByAdmin, domain.Item.Resolve) checks it.
func readNote(r *http.Request) (string, error) {
	var in struct {
		Note string `json:"note"`
	}
	err := readJSONBody(r, &in, false)
	return in.Note, err
}

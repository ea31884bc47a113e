package whopsim

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrNotFound is matched (with errors.Is) by every error about a missing
// payment, membership, event or other record.
var ErrNotFound = errors.New("whopsim: not found")

// APIError is an error the API reports to its caller: the HTTP status and
// Whop's error code. Control-API and Go callers get the same values.
type APIError struct {
	Status  int
	Code    string
	Message string
}

// Error says what went wrong, with Whop's code.
func (e *APIError) Error() string { return fmt.Sprintf("whopsim: %s: %s", e.Code, e.Message) }

// Is makes every 404 match ErrNotFound.
func (e *APIError) Is(target error) bool {
	return target == ErrNotFound && e.Status == http.StatusNotFound
}

// badRequest is a 400 invalid_request.
func badRequest(format string, args ...any) *APIError {
	return &APIError{Status: http.StatusBadRequest, Code: "invalid_request", Message: fmt.Sprintf(format, args...)}
}

// notFound is a 404 naming what was looked for.
func notFound(kind, id string) *APIError {
	return &APIError{Status: http.StatusNotFound, Code: "not_found", Message: fmt.Sprintf("%s %q was not found", kind, id)}
}

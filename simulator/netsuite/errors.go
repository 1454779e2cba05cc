package netsuite

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// Error codes NetSuite puts in o:errorCode.
const (
	codeInvalidContent   = "INVALID_CONTENT"
	codeUserError        = "USER_ERROR"
	codeInvalidLogin     = "INVALID_LOGIN"
	codeConcurrency      = "CONCURRENCY_LIMIT_EXCEEDED"
	codeIdempotency      = "IDEMPOTENCY_ERROR"
	codeNotFound         = "NONEXISTENT_ID"
	codeInvalidRecType   = "INVALID_RCRD_TYPE"
	codeInvalidParameter = "INVALID_PARAMETER"
	codeMethodNotAllowed = "METHOD_NOT_ALLOWED"
	codeRequestTooLarge  = "REQUEST_TOO_LARGE"
	codeUnexpected       = "UNEXPECTED_ERROR"
	codeSearchError      = "INVALID_SEARCH"
)

// errorDetail is one entry of o:errorDetails.
type errorDetail struct {
	Detail    string `json:"detail"`
	ErrorCode string `json:"o:errorCode"`
	ErrorPath string `json:"o:errorPath,omitempty"`
}

// errorBody is NetSuite's error shape (RFC 9457 problem details plus o:errorDetails).
type errorBody struct {
	Type         string        `json:"type"`
	Title        string        `json:"title"`
	Status       int           `json:"status"`
	ErrorDetails []errorDetail `json:"o:errorDetails"`
}

// apiError is an error that is answered to the client in NetSuite's shape.
type apiError struct {
	Status int
	Code   string
	Detail string
	Path   string // JSON path of the offending field, e.g. "item.items[0].item"
}

func (e *apiError) Error() string {
	if e.Path != "" {
		return fmt.Sprintf("%d %s at %s: %s", e.Status, e.Code, e.Path, e.Detail)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Detail)
}

func badRequest(code, path, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: code, Path: path, Detail: fmt.Sprintf(format, args...)}
}

func invalidContent(path, format string, args ...any) *apiError {
	return badRequest(codeInvalidContent, path, format, args...)
}

func userError(path, format string, args ...any) *apiError {
	return badRequest(codeUserError, path, format, args...)
}

func notFound(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusNotFound, Code: codeNotFound, Detail: fmt.Sprintf(format, args...)}
}

// statusSections are the RFC 9110 sections linked in "type", by status.
var statusSections = map[int]string{
	400: "15.5.1", 401: "15.5.2", 403: "15.5.4", 404: "15.5.5", 405: "15.5.6",
	409: "15.5.10", 413: "15.5.14", 415: "15.5.16", 429: "6.6", 500: "15.6.1", 503: "15.6.4",
}

func problemType(status int) string {
	if status == http.StatusTooManyRequests {
		return "https://www.rfc-editor.org/rfc/rfc6585.html#section-4"
	}
	sec, ok := statusSections[status]
	if !ok {
		sec = "15"
	}
	return "https://www.rfc-editor.org/rfc/rfc9110.html#section-" + sec
}

// errorJSON renders e in NetSuite's error shape.
func errorJSON(e *apiError) []byte {
	title := http.StatusText(e.Status)
	if title == "" {
		title = "Error " + strconv.Itoa(e.Status)
	}
	b, _ := json.Marshal(errorBody{
		Type:         problemType(e.Status),
		Title:        title,
		Status:       e.Status,
		ErrorDetails: []errorDetail{{Detail: e.Detail, ErrorCode: e.Code, ErrorPath: e.Path}},
	})
	return b
}

// writeError answers e on w. Any error that is not an *apiError is a 500 whose
// detail is the error text: the simulator hides nothing from the harness.
func writeError(w http.ResponseWriter, err error) {
	e := asAPIError(err)
	w.Header().Set("Content-Type", "application/vnd.oracle.resource+json; type=error; charset=utf-8")
	w.WriteHeader(e.Status)
	_, _ = w.Write(errorJSON(e))
}

func asAPIError(err error) *apiError {
	var e *apiError
	if errors.As(err, &e) {
		return e
	}
	return &apiError{Status: http.StatusInternalServerError, Code: codeUnexpected, Detail: err.Error()}
}

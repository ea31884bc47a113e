package whopsim

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"time"
)

// Idempotency-Key on authenticated POSTs (PROTOCOL §8): the first result is
// kept 24 hours and replayed byte for byte with Idempotent-Replayed: true;
// the key is tied to method, path, query, body and Api-Version-Date, so a
// different request under the same key is a 400, and one still running a 409.

const (
	idemTTL    = 24 * time.Hour
	idemMaxKey = 255
)

// idemRecord is a remembered response.
type idemRecord struct {
	Fingerprint string    `json:"fingerprint"`
	Done        bool      `json:"done"`
	Status      int       `json:"status"`
	Body        []byte    `json:"body"`
	CreatedAt   time.Time `json:"created_at"`
}

// idemRecorder keeps the response of a request under an Idempotency-Key.
// What a handler writes to it reaches the client only after the handler
// returns, so a handler that must withhold its answer (a hung transfer)
// can still write it here for the key to keep.
type idemRecorder struct{ *httptest.ResponseRecorder }

func (s *Sim) withIdempotency(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if r.Method != http.MethodPost || key == "" {
			next.ServeHTTP(w, r)
			return
		}
		if len(key) > idemMaxKey {
			writeError(w, r, badRequest("Idempotency-Key is longer than %d bytes", idemMaxKey))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			writeError(w, r, badRequest("reading the body: %v", err))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h := sha256.New()
		for _, part := range []string{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Api-Version-Date")} {
			h.Write([]byte(part))
			h.Write([]byte{0})
		}
		h.Write(body)
		fp := hex.EncodeToString(h.Sum(nil))

		now := s.clock.Now()
		s.mu.Lock()
		rec := s.st.Idempotency[key]
		if rec != nil && now.Sub(rec.CreatedAt) > idemTTL {
			rec = nil
		}
		switch {
		case rec == nil:
			s.st.Idempotency[key] = &idemRecord{Fingerprint: fp, CreatedAt: now}
		case rec.Fingerprint != fp:
			s.mu.Unlock()
			writeError(w, r, &APIError{Status: http.StatusBadRequest, Code: "idempotency_key_mismatch",
				Message: "this Idempotency-Key was used with a different request"})
			return
		case !rec.Done:
			s.mu.Unlock()
			writeError(w, r, &APIError{Status: http.StatusConflict, Code: "idempotency_request_in_progress",
				Message: "a request with this Idempotency-Key is still being processed"})
			return
		default:
			status, saved := rec.Status, rec.Body
			s.mu.Unlock()
			w.Header().Set("Idempotent-Replayed", "true")
			writeRaw(w, status, saved)
			return
		}
		s.mu.Unlock()

		rw := &idemRecorder{httptest.NewRecorder()}
		next.ServeHTTP(rw, r)
		res := rw.Result()
		out, _ := io.ReadAll(res.Body)

		// A request its client gave up on before it was answered (a slow API
		// and a client timeout) did nothing and wrote nothing; remembering it
		// would replay an empty 200 to the client's retry.
		abandoned := r.Context().Err() != nil && len(out) == 0
		s.mu.Lock()
		if abandoned || res.StatusCode >= 500 || res.StatusCode == http.StatusTooManyRequests {
			// A server failure or a rate limit is worth retrying under the
			// same key.
			delete(s.st.Idempotency, key)
		} else {
			s.st.Idempotency[key] = &idemRecord{Fingerprint: fp, Done: true, Status: res.StatusCode,
				Body: out, CreatedAt: now}
		}
		s.persistLocked()
		s.mu.Unlock()
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		w.Write(out)
	})
}

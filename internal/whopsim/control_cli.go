package whopsim

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// The control routes the whopsim subcommands use (trigger, listen,
// deliveries, resend, token, env); control.go has the rest.

func (s *Sim) cliRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /_sim/env", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Env()) })
	mux.HandleFunc("POST /_sim/token", s.ctlToken)
	mux.HandleFunc("POST /_sim/trigger", s.ctlTrigger)
	mux.HandleFunc("GET /_sim/trigger", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, obj{"data": TriggerEvents})
	})
	mux.HandleFunc("GET /_sim/deliveries", s.ctlDeliveries)
	mux.HandleFunc("POST /_sim/deliveries/{delivery}/resend", s.ctlResend)
	mux.HandleFunc("GET /_sim/endpoints", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, obj{"data": s.Endpoints()})
	})
	mux.HandleFunc("POST /_sim/listen", s.ctlListen)
}

// ctlToken mints a user token: {user_id? (an id or @username; default the
// selected user), fault?, ttl_seconds?, experience_id?}. With an
// experience it also says what access the user has there.
func (s *Sim) ctlToken(w http.ResponseWriter, r *http.Request) {
	var req struct {
		UserID       string     `json:"user_id"`
		Fault        TokenFault `json:"fault"`
		TTLSeconds   int64      `json:"ttl_seconds"`
		ExperienceID string     `json:"experience_id"`
	}
	if !decode(w, r, &req) {
		return
	}
	var u *User
	level, known := "", true
	s.view(func(st *State) {
		if req.UserID == "" {
			req.UserID = st.SelectedUser
		}
		if u = findUser(st, req.UserID); u != nil && req.ExperienceID != "" {
			level, known = accessLevel(st, u.ID, req.ExperienceID)
		}
	})
	switch {
	case u == nil:
		writeError(w, r, notFound("user", req.UserID))
		return
	case !known || (req.ExperienceID != "" && !isExperience(req.ExperienceID)):
		writeError(w, r, notFound("experience", req.ExperienceID))
		return
	case req.Fault == TokenMissing:
		// The relay's fault sends no header; as a token to mint it would
		// be an empty string that looks like success.
		writeError(w, r, badRequest("token fault %q mints nothing: send the request without x-whop-user-token, "+
			"or set the relay's token fault to %q", req.Fault, TokenMissing))
		return
	}
	token, exp, err := s.TokenFor(u.ID, req.Fault, time.Duration(req.TTLSeconds)*time.Second)
	out := obj{"token": token, "user_id": u.ID, "username": u.Username, "expires_at": iso(exp),
		"kid": s.tokens.kid, "app_id": s.seed.App.ID}
	if req.ExperienceID != "" {
		out["experience_id"], out["access_level"] = req.ExperienceID, level
	}
	result(w, r, out, err)
}

// isExperience tells an experience id from the other resources an access
// check takes (a token is for an experience, not a company or product).
func isExperience(id string) bool { return len(id) > 4 && id[:4] == "exp_" }

func (s *Sim) ctlTrigger(w http.ResponseWriter, r *http.Request) {
	var req TriggerRequest
	if decode(w, r, &req) {
		res, err := s.Trigger(req)
		result(w, r, res, err)
	}
}

// MaxDeliveriesWait is the longest GET /_sim/deliveries?wait= may wait.
const MaxDeliveriesWait = time.Minute

// ctlDeliveries lists attempts, oldest first, narrowed by ?event_id=,
// ?delivery=, ?endpoint= and ?since= (attempts after that seq); with
// ?wait=25s it waits that long for one when there are none yet, so a
// script can watch without polling hard.
func (s *Sim) ctlDeliveries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	since, err1 := optInt(q.Get("since"))
	delivery, err2 := optInt(q.Get("delivery"))
	var wait time.Duration
	var err3 error
	if v := q.Get("wait"); v != "" {
		wait, err3 = time.ParseDuration(v)
	}
	if err1 != nil || err2 != nil || err3 != nil || wait > MaxDeliveriesWait {
		writeError(w, r, badRequest("since and delivery are numbers; wait is a duration of at most %s", MaxDeliveriesWait))
		return
	}
	match := func(a Attempt) bool {
		return (q.Get("event_id") == "" || a.EventID == q.Get("event_id")) &&
			(delivery == 0 || a.Delivery == delivery) &&
			(!q.Has("endpoint") || a.Endpoint == q.Get("endpoint"))
	}
	var out []Attempt
	deadline := time.Now().Add(wait)
	for {
		for _, a := range s.AttemptsAfter(r.Context(), since, time.Until(deadline)) {
			since = a.Seq
			if match(a) {
				out = append(out, a)
			}
		}
		if len(out) > 0 || wait <= 0 || !time.Now().Before(deadline) || r.Context().Err() != nil {
			break
		}
	}
	if out == nil {
		out = []Attempt{}
	}
	writeJSON(w, http.StatusOK, obj{"data": out, "last_seq": max(since, s.LastAttemptSeq())})
}

func optInt(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	return strconv.ParseInt(v, 10, 64)
}

func (s *Sim) ctlResend(w http.ResponseWriter, r *http.Request) {
	var req struct {
		NewID bool `json:"new_id"`
	}
	if !decode(w, r, &req) {
		return
	}
	n, err := optInt(r.PathValue("delivery"))
	if err != nil || n <= 0 {
		writeError(w, r, badRequest("a delivery is a number, as `whopsim deliveries` lists them"))
		return
	}
	res, err := s.Resend(n, req.NewID)
	result(w, r, res, err)
}

// ctlListen adds an endpoint per forward_to URL for as long as the request
// lasts and streams, one JSON object a line, a "ready" line naming them
// (with their secrets), then an "attempt" line for each delivery attempt
// to them as it happens, and a "ping" line every 20 s of quiet. When the
// client goes away, so do its endpoints.
func (s *Sim) ctlListen(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ForwardTo []string `json:"forward_to"`
		Scheme    Scheme   `json:"scheme"`
		Secret    string   `json:"secret"`
		NewSecret bool     `json:"new_secret"`
		Events    []string `json:"events"`
	}
	if !decode(w, r, &req) {
		return
	}
	flusher, ok := w.(http.Flusher)
	if len(req.ForwardTo) == 0 || !ok {
		writeError(w, r, badRequest("forward_to names at least one URL"))
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-s.quit: // the sandbox is stopping: let the listener know
		case <-ctx.Done():
		}
		cancel()
	}()
	since := s.LastAttemptSeq()
	mine := map[string]bool{}
	defer func() {
		for id := range mine {
			s.RemoveEndpoint(id)
		}
	}()
	var eps []Endpoint
	for _, u := range req.ForwardTo {
		secret := req.Secret
		if req.NewSecret {
			secret = s.NewWebhookSecret()
		}
		ep, err := s.AddEndpoint(Endpoint{URL: u, Scheme: req.Scheme, Secret: secret, Events: req.Events})
		if err != nil {
			writeError(w, r, err)
			return
		}
		mine[ep.ID] = true
		eps = append(eps, ep)
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	enc.Encode(obj{"type": "ready", "endpoints": eps})
	flusher.Flush()
	for {
		atts := s.AttemptsAfter(ctx, since, 20*time.Second)
		if ctx.Err() != nil {
			if r.Context().Err() == nil {
				enc.Encode(obj{"type": "closing"})
				flusher.Flush()
			}
			return
		}
		for _, a := range atts {
			since = a.Seq
			if mine[a.Endpoint] {
				enc.Encode(obj{"type": "attempt", "attempt": a})
			}
		}
		if len(atts) == 0 {
			enc.Encode(obj{"type": "ping"})
		}
		flusher.Flush()
	}
}

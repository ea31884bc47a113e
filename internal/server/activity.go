package server

import (
	"net/http"
	"strconv"

	"github.com/creditkit/creditkit/internal/view"
	"github.com/creditkit/creditkit/web/page"
	"github.com/go-chi/chi/v5"
)

// activity is a member's history in an experience: their wallet's ledger,
// newest first, 25 entries a page; ?before= names the entry the page
// starts below.
func (s *Server) activity(w http.ResponseWriter, r *http.Request) {
	expID := chi.URLParam(r, "experienceId")
	var before int64
	if v := r.URL.Query().Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			s.fail(w, r, newError(http.StatusBadRequest, "invalid_before", "before must be the number of an entry of your activity."))
			return
		}
		before = n
	}
	p, err := s.billing.Credits.Activity(r.Context(), userID(r.Context()), expID, before)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := view.Activity(s.layoutProps("Activity"), expID, before, p)
	s.render(w, r, http.StatusOK, page.Activity(v))
}

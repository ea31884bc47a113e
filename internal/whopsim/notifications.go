package whopsim

import (
	"errors"
	"net/http"
	"slices"
	"time"
)

// Notifications, as POST /api/v1/notifications takes them: a title and
// content (required), exactly one of experience_id (the experience's users)
// and company_id / account_id (the company's team), user_ids narrowing the
// audience to those users, who must be in it, and rest_path, appended to
// the app's deep link. Whop answers {"success": true}. The sandbox records
// each one, and its parent page shows a user's in a bell.

// Notification is one sent notification.
type Notification struct {
	ID           string    `json:"id"`
	Title        string    `json:"title"`
	Subtitle     string    `json:"subtitle,omitempty"`
	Content      string    `json:"content"`
	ExperienceID string    `json:"experience_id,omitempty"`
	CompanyID    string    `json:"company_id,omitempty"`
	UserIDs      []string  `json:"user_ids"`
	RestPath     string    `json:"rest_path,omitempty"`
	DeepLink     string    `json:"deep_link"`
	CreatedAt    time.Time `json:"created_at"`
}

type notificationRequest struct {
	Title        string   `json:"title"`
	Subtitle     string   `json:"subtitle"`
	Content      string   `json:"content"`
	ExperienceID string   `json:"experience_id"`
	CompanyID    string   `json:"company_id"`
	AccountID    string   `json:"account_id"`
	UserIDs      []string `json:"user_ids"`
	RestPath     string   `json:"rest_path"`
	IconUserID   string   `json:"icon_user_id"`
}

func (s *Sim) apiSendNotification(w http.ResponseWriter, r *http.Request) {
	var req notificationRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	company := req.CompanyID
	if company == "" {
		company = req.AccountID
	}
	s.respondUpdate(w, r, func(st *State) (any, []*Event, error) {
		switch {
		case req.Title == "" || req.Content == "":
			return nil, nil, badRequest("title and content are required")
		case (req.ExperienceID == "") == (company == ""):
			return nil, nil, badRequest("exactly one of experience_id or account_id is required")
		case req.ExperienceID != "" && st.Experiences[req.ExperienceID] == nil:
			return nil, nil, notFound("experience", req.ExperienceID)
		case company != "" && st.Companies[company] == nil:
			return nil, nil, notFound("company", company)
		}
		resource := req.ExperienceID
		if resource == "" {
			resource = company
		}
		for _, u := range req.UserIDs {
			if st.Users[u] == nil {
				return nil, nil, notFound("user", u)
			}
			if lvl, _ := accessLevel(st, u, resource); lvl == "no_access" || lvl == "" {
				return nil, nil, badRequest("user %s is not in %s", u, resource)
			}
		}
		n := &Notification{ID: s.ids.id("ntf"), Title: req.Title, Subtitle: req.Subtitle, Content: req.Content,
			ExperienceID: req.ExperienceID, CompanyID: company, UserIDs: slices.Clone(req.UserIDs), RestPath: req.RestPath,
			CreatedAt: s.clock.Now()}
		if n.UserIDs == nil {
			n.UserIDs = []string{}
		}
		if req.ExperienceID != "" {
			n.DeepLink = "/experiences/" + req.ExperienceID + req.RestPath
		} else {
			n.DeepLink = "/dashboard/" + company + req.RestPath
		}
		st.Notifications = append(st.Notifications, n)
		return obj{"success": true}, nil, nil
	})
}

// Notifications returns the notifications a user received (all of them
// when userID is empty), newest first. A notification with no user_ids
// went to everyone in its experience or team.
func (s *Sim) Notifications(userID string) []Notification {
	var out []Notification
	s.view(func(st *State) {
		for i := len(st.Notifications) - 1; i >= 0; i-- {
			n := st.Notifications[i]
			if userID == "" || slices.Contains(n.UserIDs, userID) {
				out = append(out, *n)
				continue
			}
			if len(n.UserIDs) == 0 {
				resource := n.ExperienceID
				if resource == "" {
					resource = n.CompanyID
				}
				if lvl, _ := accessLevel(st, userID, resource); lvl != "no_access" && lvl != "" {
					out = append(out, *n)
				}
			}
		}
	})
	return out
}

// memberRoutes adds the saved-method and notification endpoints.
func (s *Sim) memberRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/payment_methods", s.apiListPaymentMethods)
	mux.HandleFunc("POST /api/v1/payments", s.apiCreatePayment)
	mux.HandleFunc("GET /api/v1/setup_intents/{id}", s.apiGetSetupIntent)
	mux.HandleFunc("POST /api/v1/notifications", s.apiSendNotification)
}

// memberControls adds the control routes the modal and the bell use.
func (s *Sim) memberControls(mux *http.ServeMux) {
	mux.HandleFunc("POST /_sim/setup", func(w http.ResponseWriter, r *http.Request) {
		var req Setup
		if decode(w, r, &req) {
			res, err := s.SaveCard(req)
			var ae *APIError
			if errors.As(err, &ae) && ae.Code == "card_declined" {
				// A decline is an answer, as the modal's payment decline is.
				writeJSON(w, http.StatusOK, obj{"declined": true, "error": ae.Message})
				return
			}
			result(w, r, res, err)
		}
	})
	mux.HandleFunc("GET /_sim/notifications", func(w http.ResponseWriter, r *http.Request) {
		user := r.URL.Query().Get("user_id")
		if user == "" {
			user = s.SelectedUser()
		}
		list := s.Notifications(user)
		if list == nil {
			list = []Notification{}
		}
		writeJSON(w, http.StatusOK, obj{"user_id": user, "data": list})
	})
}

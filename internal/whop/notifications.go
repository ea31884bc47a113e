package whop

import (
	"context"
	"fmt"
	"net/http"
)

// NotificationParams sends a notification (POST /notifications) to the
// users of an experience (ExperienceID) or the team of a company
// (CompanyID, sent as account_id under the account-model versions):
// exactly one of the two. UserIDs narrows it to those users, who must be
// in that experience or team; RestPath is appended to the app's deep link
// (/experiences/{id}/{rest_path}).
type NotificationParams struct {
	Title        string
	Subtitle     string
	Content      string
	ExperienceID string
	CompanyID    string
	UserIDs      []string
	RestPath     string
	// IdempotencyKey makes the call safe to retry: one notification per key.
	IdempotencyKey string
}

type wireNotification struct {
	Title        string   `json:"title"`
	Subtitle     string   `json:"subtitle,omitempty"`
	Content      string   `json:"content"`
	ExperienceID string   `json:"experience_id,omitempty"`
	CompanyID    string   `json:"company_id,omitempty"`
	AccountID    string   `json:"account_id,omitempty"`
	UserIDs      []string `json:"user_ids,omitempty"`
	RestPath     string   `json:"rest_path,omitempty"`
}

// SendNotification sends a notification. Whop answers {"success": true}.
func (c *Client) SendNotification(ctx context.Context, p NotificationParams) error {
	switch {
	case p.Title == "" || p.Content == "":
		return fmt.Errorf("%w: a notification needs a title and content", ErrInvalidArgument)
	case (p.ExperienceID == "") == (p.CompanyID == ""):
		return fmt.Errorf("%w: a notification needs exactly one of ExperienceID and CompanyID", ErrInvalidArgument)
	}
	body := wireNotification{Title: p.Title, Subtitle: p.Subtitle, Content: p.Content, ExperienceID: p.ExperienceID,
		UserIDs: p.UserIDs, RestPath: p.RestPath}
	if p.CompanyID != "" {
		if c.accountModel() {
			body.AccountID = p.CompanyID
		} else {
			body.CompanyID = p.CompanyID
		}
	}
	var w struct {
		Success bool `json:"success"`
	}
	req := request{method: http.MethodPost, url: c.v1("/notifications"), body: body, idempotencyKey: p.IdempotencyKey}
	if err := c.do(ctx, req, &w); err != nil {
		return err
	}
	if !w.Success {
		return fmt.Errorf("whop: POST /notifications: answered without success")
	}
	return nil
}

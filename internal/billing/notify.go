package billing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/riverqueue/river"
)

// Notifications through Whop. The database records each event a member
// opted in to with its job, in the fact's own transaction (migration
// 000012); the job here sends it with Whop's notifications API, keyed by
// the event, so it goes out at most once and is retried while Whop fails.
// Nothing a member does waits for Whop to answer.

// NoticeWhop is what notifications call on Whop.
type NoticeWhop interface {
	SendNotification(ctx context.Context, p whop.NotificationParams) error
}

// ErrBadLowBalance is a low-balance alert without a positive line.
var ErrBadLowBalance = errors.New("billing: a low-balance alert needs a line of at least 1 credit")

// Notices is the members' notifications.
type Notices struct {
	s *core
	w NoticeWhop
}

// NewNotices returns the notification service on s, sending through w.
func NewNotices(s *Service, w NoticeWhop) *Notices { return &Notices{s: s.core, w: w} }

// NoticePrefs is what a member asked to be told.
type NoticePrefs struct {
	Credited        bool
	LowBalance      bool
	LowBalanceBelow int64
	TopUpFailed     bool
	GrantExpiring   bool
}

// Notice is one notification, as the member sees it.
type Notice struct {
	Kind      string
	Title     string
	Content   string
	Status    string // pending, sent, skipped
	CreatedAt time.Time
	SentAt    time.Time
}

// Prefs reads the member's choices, for a member of the experience.
func (n *Notices) Prefs(ctx context.Context, userID, experienceID string) (NoticePrefs, error) {
	if err := n.s.experienceAccess(ctx, userID, experienceID); err != nil {
		return NoticePrefs{}, err
	}
	p, err := n.s.store.NotificationPrefs(ctx, experienceID, userID)
	return NoticePrefs(p), err
}

// SetPrefs records the member's choices.
func (n *Notices) SetPrefs(ctx context.Context, userID, experienceID string, p NoticePrefs) error {
	if p.LowBalance && p.LowBalanceBelow < 1 {
		return ErrBadLowBalance
	}
	if !p.LowBalance {
		p.LowBalanceBelow = max(p.LowBalanceBelow, 0)
	}
	if err := n.s.experienceAccess(ctx, userID, experienceID); err != nil {
		return err
	}
	return n.s.store.SetNotificationPrefs(ctx, experienceID, userID, ledger.NotificationPrefs(p))
}

// Recent lists the member's latest notifications, for a member of the
// experience.
func (n *Notices) Recent(ctx context.Context, userID, experienceID string) ([]Notice, error) {
	if err := n.s.experienceAccess(ctx, userID, experienceID); err != nil {
		return nil, err
	}
	rows, err := n.s.store.Notifications(ctx, experienceID, userID, 20)
	if err != nil {
		return nil, err
	}
	out := make([]Notice, 0, len(rows))
	for _, r := range rows {
		out = append(out, Notice{Kind: r.Kind, Title: r.Title, Content: r.Content, Status: r.Status,
			CreatedAt: r.CreatedAt, SentAt: r.SentAt})
	}
	return out, nil
}

// Send sends one notification unless it was sent (or skipped) already: to
// its member in its experience, deep-linking to its page, with its key as
// the Idempotency-Key, so a retry after Whop took it but the answer was
// lost sends nothing more. A failure is recorded and returned, for the
// job to retry.
func (n *Notices) Send(ctx context.Context, id int64) (sent bool, err error) {
	row, err := n.s.store.Notification(ctx, id)
	if err != nil || row.Status != "pending" {
		return false, err
	}
	due, err := n.s.store.NotificationStillDue(ctx, row)
	if err != nil {
		return false, err
	}
	if !due {
		_, err := n.s.store.FinishNotification(ctx, id, true, nil)
		return false, err
	}
	sendErr := n.w.SendNotification(ctx, whop.NotificationParams{Title: row.Title, Content: row.Content,
		ExperienceID: row.ExperienceID, UserIDs: []string{row.UserID}, RestPath: row.RestPath,
		IdempotencyKey: "creditkit:notification:" + row.Key})
	// Whop refusing it for good (the member left the experience, say) is
	// no reason to try again: it is recorded as skipped, with the reason.
	refused := refusedForGood(sendErr)
	if _, err := n.s.store.FinishNotification(ctx, id, refused, sendErr); err != nil {
		return false, err
	}
	if refused {
		n.s.log.WarnContext(ctx, "notification refused by Whop", "notification_id", id, "error", sendErr.Error())
		return false, nil
	}
	if sendErr != nil {
		return false, fmt.Errorf("billing: notification %d: %w", id, sendErr)
	}
	return true, nil
}

// notifyWorker runs a notification's job.
type notifyWorker struct {
	river.WorkerDefaults[ledger.NotifyJob]
	n *Notices
}

// Work sends the notification.
func (w *notifyWorker) Work(ctx context.Context, job *river.Job[ledger.NotifyJob]) error {
	_, err := w.n.Send(ctx, job.Args.NotificationID)
	if errors.Is(err, ledger.ErrNotFound) {
		return river.JobCancel(err)
	}
	return err
}

// Timeout bounds one send.
func (w *notifyWorker) Timeout(*river.Job[ledger.NotifyJob]) time.Duration { return time.Minute }

// RegisterMemberJobs adds the top-up charge and notification workers.
// Call with Register, before Start and before any insert.
func (j *Jobs) RegisterMemberJobs(t *TopUps, n *Notices) {
	river.AddWorker(j.workers, &topUpWorker{t: t})
	river.AddWorker(j.workers, &notifyWorker{n: n})
}

// refusedForGood reports a Whop answer that retrying cannot change: a 4xx
// other than a timeout, a conflict (a request in flight), a rate limit or
// a credential problem (which an operator fixes).
func refusedForGood(err error) bool {
	var api *whop.APIError
	if !errors.As(err, &api) {
		return false
	}
	switch c := api.StatusCode; {
	case c < 400 || c >= 500, c == 401, c == 403, c == 408, c == 409, c == 429:
		return false
	}
	return true
}

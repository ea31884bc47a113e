package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Notifications to members. The database records each event a member opted
// in to, with its job, in the transaction of the fact (creditkit_notify,
// migration 000012); the job sends it through Whop.

// JobNotify sends one notification.
const JobNotify = "notify"

// NotifyJob is the notification job's arguments.
type NotifyJob struct {
	NotificationID int64 `json:"notification_id"`
}

// Kind names the job.
func (NotifyJob) Kind() string { return JobNotify }

// NotificationPrefs is what a member asked to be told, in one experience.
type NotificationPrefs struct {
	Credited        bool
	LowBalance      bool
	LowBalanceBelow int64
	TopUpFailed     bool
	GrantExpiring   bool
}

// NotificationPrefs reads a member's choices (all off when never set).
func (s *Store) NotificationPrefs(ctx context.Context, experienceID, userID string) (NotificationPrefs, error) {
	var p NotificationPrefs
	err := s.pool.QueryRow(ctx, `SELECT credited, low_balance, low_balance_below, topup_failed, grant_expiring
		FROM notification_prefs WHERE experience_id = $1 AND user_id = $2`, experienceID, userID).
		Scan(&p.Credited, &p.LowBalance, &p.LowBalanceBelow, &p.TopUpFailed, &p.GrantExpiring)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return p, fmt.Errorf("ledger: notification prefs: %w", err)
	}
	return p, nil
}

// SetNotificationPrefs records a member's choices.
func (s *Store) SetNotificationPrefs(ctx context.Context, experienceID, userID string, p NotificationPrefs) error {
	if p.LowBalance && p.LowBalanceBelow <= 0 {
		return fmt.Errorf("ledger: notification prefs: a low-balance line must be positive")
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO notification_prefs (experience_id, user_id, credited, low_balance, low_balance_below, topup_failed, grant_expiring)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (experience_id, user_id) DO UPDATE SET credited = EXCLUDED.credited, low_balance = EXCLUDED.low_balance,
		       low_balance_below = EXCLUDED.low_balance_below, topup_failed = EXCLUDED.topup_failed,
		       grant_expiring = EXCLUDED.grant_expiring, updated_at = now()`,
		experienceID, userID, p.Credited, p.LowBalance, p.LowBalanceBelow, p.TopUpFailed, p.GrantExpiring)
	if err != nil {
		return fmt.Errorf("ledger: set notification prefs: %w", err)
	}
	return nil
}

// Notification is one message to a member.
type Notification struct {
	ID           int64
	Key          string
	Kind         string
	ExperienceID string
	UserID       string
	Title        string
	Content      string
	RestPath     string
	Subject      string
	SendAfter    time.Time
	Status       string // pending, sent, skipped
	Attempts     int
	LastError    string
	CreatedAt    time.Time
	SentAt       time.Time // zero until sent
}

const notificationColumns = `id, key, kind, experience_id, user_id, title, content, rest_path, subject, send_after,
	status, attempts, last_error, created_at, COALESCE(sent_at, 'epoch'::timestamptz)`

func scanNotification(row pgx.Row) (Notification, error) {
	var n Notification
	err := row.Scan(&n.ID, &n.Key, &n.Kind, &n.ExperienceID, &n.UserID, &n.Title, &n.Content, &n.RestPath, &n.Subject,
		&n.SendAfter, &n.Status, &n.Attempts, &n.LastError, &n.CreatedAt, &n.SentAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return n, ErrNotFound
	}
	if n.SentAt.Equal(time.Unix(0, 0)) {
		n.SentAt = time.Time{}
	}
	return n, err
}

// Notification returns one notification.
func (s *Store) Notification(ctx context.Context, id int64) (Notification, error) {
	n, err := scanNotification(s.pool.QueryRow(ctx, `SELECT `+notificationColumns+` FROM notifications WHERE id = $1`, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("ledger: notification: %w", err)
	}
	return n, err
}

// Notifications lists a member's notifications in an experience, newest first.
func (s *Store) Notifications(ctx context.Context, experienceID, userID string, limit int) ([]Notification, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+notificationColumns+` FROM notifications
		WHERE experience_id = $1 AND user_id = $2 ORDER BY id DESC LIMIT $3`, experienceID, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("ledger: notifications: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Notification, error) { return scanNotification(r) })
	if err != nil {
		return nil, fmt.Errorf("ledger: notifications: %w", err)
	}
	return out, nil
}

// NotificationStillDue reports whether a pending notification still says
// something true. Only a grant's reminder, recorded days ahead, is checked:
// it is due while the grant has credits left and has not expired, and while
// the member still asks for such reminders. Other kinds are sent as
// recorded, seconds after the fact.
func (s *Store) NotificationStillDue(ctx context.Context, n Notification) (bool, error) {
	if n.Kind != "grant_expiring" {
		return true, nil
	}
	var due bool
	err := s.pool.QueryRow(ctx, `
		SELECT g.expired_at IS NULL AND g.spent < g.credits AND COALESCE(np.grant_expiring, false)
		  FROM credit_grants g
		  LEFT JOIN notification_prefs np ON np.experience_id = g.experience_id AND np.user_id = g.user_id
		 WHERE g.id = $1`, n.Subject).Scan(&due)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("ledger: notification due: %w", err)
	}
	return due, nil
}

// FinishNotification records an attempt's outcome: sent (err nil), skipped
// (skip), or failed with err, to be tried again. A notification already
// sent or skipped stays as it is; finished reports whether this call
// finished it.
func (s *Store) FinishNotification(ctx context.Context, id int64, skip bool, sendErr error) (finished bool, err error) {
	var tag pgconn.CommandTag
	switch {
	case skip:
		msg := ""
		if sendErr != nil {
			msg = clipText(sendErr.Error())
		}
		tag, err = s.pool.Exec(ctx, `UPDATE notifications SET status = 'skipped', attempts = attempts + 1, last_error = $2
			WHERE id = $1 AND status = 'pending'`, id, msg)
	case sendErr == nil:
		tag, err = s.pool.Exec(ctx, `UPDATE notifications SET status = 'sent', sent_at = now(), attempts = attempts + 1,
			last_error = '' WHERE id = $1 AND status = 'pending'`, id)
	default:
		msg := clipText(sendErr.Error())
		tag, err = s.pool.Exec(ctx, `UPDATE notifications SET attempts = attempts + 1, last_error = $2
			WHERE id = $1 AND status = 'pending'`, id, msg)
	}
	if err != nil {
		return false, fmt.Errorf("ledger: finish notification: %w", err)
	}
	return tag.RowsAffected() == 1 && sendErr == nil, nil
}

// clipText keeps an error message short enough to store, whole runes only.
func clipText(s string) string {
	if len(s) <= 500 {
		return s
	}
	cut := 500
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

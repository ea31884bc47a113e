package ledger_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
)

// notifyJob is a notification's River job, as the database wrote it.
type notifyJob struct {
	NotificationID int64
	State          string
	ScheduledAt    time.Time
}

func (b *bundle) notifyJobs(t *testing.T) []notifyJob {
	t.Helper()
	rows, err := b.db.Pool.Query(b.ctx, `SELECT args, state::text, scheduled_at FROM river_job WHERE kind = 'notify' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var out []notifyJob
	for rows.Next() {
		var raw []byte
		var j notifyJob
		if err := rows.Scan(&raw, &j.State, &j.ScheduledAt); err != nil {
			t.Fatal(err)
		}
		var args ledger.NotifyJob
		if err := json.Unmarshal(raw, &args); err != nil {
			t.Fatal(err)
		}
		j.NotificationID = args.NotificationID
		out = append(out, j)
	}
	return out
}

// TestNotificationsOnlyForWhatTheMemberChose: with nothing chosen, credits
// landing and balances falling record nothing; once chosen, a landing
// credit records one "credited" notification, keyed by its entry, with its
// job, and the low-balance line is told once per crossing.
func TestNotificationsOnlyForWhatTheMemberChose(t *testing.T) {
	b := setup(t)
	b.grant(t, "grt_quiet", "user_a", 30, time.Time{})
	if _, err := b.spend(t, "user_a", 25, "s0"); err != nil {
		t.Fatal(err)
	}
	if n := len(b.notifyJobs(t)); n != 0 {
		t.Fatalf("jobs for a member who chose nothing: %d", n)
	}
	if err := b.store.SetNotificationPrefs(b.ctx, "exp_1", "user_a", ledger.NotificationPrefs{Credited: true, LowBalance: true, LowBalanceBelow: 20}); err != nil {
		t.Fatal(err)
	}
	b.grant(t, "grt_loud", "user_a", 30, time.Time{}) // 5 + 30 = 35
	for i, cost := range []int64{5, 12, 1} {          // 30, 18 (crosses 20), 17
		if _, err := b.spend(t, "user_a", cost, "s"+string(rune('1'+i))); err != nil {
			t.Fatal(err)
		}
	}
	got, err := b.store.Notifications(b.ctx, "exp_1", "user_a", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("notifications = %+v, want 2", got)
	}
	low, credited := got[0], got[1]
	var crossing int64
	b.db.Pool.QueryRow(b.ctx, `SELECT ledger_entry_id FROM spends WHERE idempotency_key = 's2'`).Scan(&crossing)
	if low.Kind != "low_balance" || low.Key != "low_balance:"+itoa(crossing) || low.Title != "Your credits are running low" ||
		low.Content != "Your balance is 18 credits, below the 20 you asked to hear about." || low.RestPath != "/activity" ||
		low.Status != "pending" || low.Attempts != 0 || !low.SentAt.IsZero() || low.ExperienceID != "exp_1" || low.UserID != "user_a" {
		t.Errorf("low balance = %+v", low)
	}
	if credited.Kind != "credited" || credited.Key != "credited:credit_grant:grt_loud" || credited.Title != "You were given credits" ||
		credited.Content != "30 credits landed in your wallet; your balance is 35." || credited.Subject != "grt_loud" {
		t.Errorf("credited = %+v", credited)
	}
	jobs := b.notifyJobs(t)
	if len(jobs) != 2 || jobs[0].NotificationID != credited.ID || jobs[1].NotificationID != low.ID ||
		jobs[0].State != "available" || jobs[1].State != "available" {
		t.Errorf("jobs = %+v", jobs)
	}
	// Sent once: finishing it twice finishes it once.
	if done, err := b.store.FinishNotification(b.ctx, low.ID, false, nil); err != nil || !done {
		t.Fatalf("finish = %t, %v", done, err)
	}
	if done, err := b.store.FinishNotification(b.ctx, low.ID, false, nil); err != nil || done {
		t.Fatalf("second finish = %t, %v", done, err)
	}
	n, _ := b.store.Notification(b.ctx, low.ID)
	if n.Status != "sent" || n.Attempts != 1 || n.SentAt.IsZero() {
		t.Errorf("after sending: %+v", n)
	}
}

// TestGrantExpiringReminder: a grant that expires schedules its reminder
// three days before (at once when it expires sooner); a reminder for a
// grant with nothing left, or for a member who has since turned reminders
// off, is no longer due.
func TestGrantExpiringReminder(t *testing.T) {
	b := setup(t)
	if err := b.store.SetNotificationPrefs(b.ctx, "exp_1", "user_a", ledger.NotificationPrefs{GrantExpiring: true}); err != nil {
		t.Fatal(err)
	}
	far := time.Now().Add(10 * 24 * time.Hour).Truncate(time.Second)
	b.grant(t, "grt_far", "user_a", 40, far)
	b.grant(t, "grt_near", "user_a", 10, time.Now().Add(24*time.Hour))
	got, err := b.store.Notifications(b.ctx, "exp_1", "user_a", 10)
	if err != nil || len(got) != 2 {
		t.Fatalf("notifications = %+v, %v", got, err)
	}
	near, farN := got[0], got[1]
	if farN.Key != "grant_expiring:grt_far" || farN.Kind != "grant_expiring" || !farN.SendAfter.Equal(far.Add(-72*time.Hour)) ||
		farN.Subject != "grt_far" || farN.Title != "Credits expiring soon" {
		t.Errorf("far = %+v", farN)
	}
	if time.Since(near.SendAfter) > time.Minute || near.SendAfter.After(time.Now().Add(time.Second)) {
		t.Errorf("near's reminder is due %v, want now", near.SendAfter)
	}
	var states []string
	for _, j := range b.notifyJobs(t) {
		states = append(states, j.State)
		if j.NotificationID == farN.ID && !j.ScheduledAt.Equal(far.Add(-72*time.Hour)) {
			t.Errorf("far's job at %v", j.ScheduledAt)
		}
	}
	if len(states) != 2 || states[0] != "scheduled" || states[1] != "available" {
		t.Errorf("job states = %v", states)
	}
	// Spend the near grant's credits (it expires first, so goes first).
	if _, err := b.spend(t, "user_a", 10, "s1"); err != nil {
		t.Fatal(err)
	}
	if due, err := b.store.NotificationStillDue(b.ctx, near); err != nil || due {
		t.Errorf("near, all spent: due=%t %v", due, err)
	}
	if due, err := b.store.NotificationStillDue(b.ctx, farN); err != nil || !due {
		t.Errorf("far, untouched: due=%t %v", due, err)
	}
	// The member turns reminders off before the far one is due: it is not
	// sent; turned on again, it is.
	if err := b.store.SetNotificationPrefs(b.ctx, "exp_1", "user_a", ledger.NotificationPrefs{}); err != nil {
		t.Fatal(err)
	}
	if due, err := b.store.NotificationStillDue(b.ctx, farN); err != nil || due {
		t.Errorf("far, reminders turned off: due=%t %v", due, err)
	}
	if err := b.store.SetNotificationPrefs(b.ctx, "exp_1", "user_a", ledger.NotificationPrefs{GrantExpiring: true}); err != nil {
		t.Fatal(err)
	}
	if due, err := b.store.NotificationStillDue(b.ctx, farN); err != nil || !due {
		t.Errorf("far, reminders on again: due=%t %v", due, err)
	}
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Auto top-up. The rule and the saved method are rows of the member's
// wallet; the top-ups themselves are scheduled by the database as the spend
// that crosses the threshold is appended (migration 000012), with their
// pending purchase and their charge job, in that spend's transaction.

// JobTopUpCharge charges a scheduled top-up; the spend that crossed the
// threshold asks for it.
const JobTopUpCharge = "topup_charge"

// TopUpChargeJob is the charge job's arguments.
type TopUpChargeJob struct {
	TopUpID string `json:"topup_id"`
}

// Kind names the job.
func (TopUpChargeJob) Kind() string { return JobTopUpCharge }

// TopUpStatus is where a top-up stands.
type TopUpStatus string

// Top-up statuses.
const (
	TopUpScheduled TopUpStatus = "scheduled" // crossing seen, not charged yet
	TopUpCharging  TopUpStatus = "charging"  // the charge was (or is being) asked of Whop
	TopUpPaid      TopUpStatus = "paid"      // its purchase was fulfilled
	TopUpDeclined  TopUpStatus = "declined"  // the charge failed; FailureReason says why
	TopUpCanceled  TopUpStatus = "canceled"  // the rule was removed before the charge, or its job ended without one

	// TopUpRefused: Whop took the payment from the member, but the app
	// refused it for the top-up's purchase (FailureReason is the refusal's
	// reason): nothing credited, the rule turned off (migration 000015).
	TopUpRefused TopUpStatus = "refused"
)

// TopUpMethod is a member's saved payment method for top-ups.
type TopUpMethod struct {
	WalletID        int64
	CompanyID       string
	MemberID        string
	PaymentMethodID string
	SetupIntentID   string
	CardBrand       string
	CardLast4       string
	SavedAt         time.Time
}

// TopUpRule is when to buy what.
type TopUpRule struct {
	WalletID       int64
	Threshold      int64
	PackageID      string
	Credits        int64
	Price          int64
	Currency       string
	DailyLimit     int
	Enabled        bool
	DeclinesInRow  int
	DisabledReason string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// TopUp is one automatic purchase.
type TopUp struct {
	ID              string
	WalletID        int64
	CrossingEntryID int64
	PurchaseID      string
	Threshold       int64
	MemberID        string
	PaymentMethodID string
	Status          TopUpStatus
	PaymentID       string
	FailureReason   string
	Attempts        int
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

const topUpColumns = `t.id, t.wallet_id, t.crossing_entry_id, t.purchase_id, t.threshold, t.member_id, t.payment_method_id,
	t.status, COALESCE(t.payment_id, ''), t.failure_reason, t.attempts, t.created_at, t.updated_at`

func scanTopUp(row pgx.Row, before ...any) (TopUp, error) {
	var t TopUp
	err := row.Scan(append(before, &t.ID, &t.WalletID, &t.CrossingEntryID, &t.PurchaseID, &t.Threshold, &t.MemberID,
		&t.PaymentMethodID, &t.Status, &t.PaymentID, &t.FailureReason, &t.Attempts, &t.CreatedAt, &t.UpdatedAt)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ErrNotFound
	}
	return t, err
}

// lockWallet makes the member's wallet (an empty one when there is none)
// and locks its row: what schedules, charges or cancels top-ups of a
// wallet takes this lock, as a spend does.
func lockWallet(ctx context.Context, tx pgx.Tx, experienceID, userID string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO wallets AS w (experience_id, user_id) VALUES ($1, $2)
		ON CONFLICT (experience_id, user_id) DO UPDATE SET updated_at = w.updated_at
		RETURNING id`, experienceID, userID).Scan(&id)
	return id, err
}

// SavedMethod is a payment method a setup-mode checkout saved.
type SavedMethod struct {
	ExperienceID, UserID string
	CompanyID, MemberID  string
	PaymentMethodID      string
	SetupIntentID        string
	CardBrand, CardLast4 string
}

// SaveTopUpMethod records the member's saved payment method (replacing an
// earlier one) and, as saving a method is what the member does after
// declines, turns a rule the declines turned off back on. A setup recorded
// before (the modal's answer and the webhook both bring it, a webhook may
// come again, hours late) changes nothing, even when the member has saved
// another card since: the method stays the newest (migration 000013).
func (s *Store) SaveTopUpMethod(ctx context.Context, m SavedMethod) (TopUpMethod, error) {
	var out TopUpMethod
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		wid, err := lockWallet(ctx, tx, m.ExperienceID, m.UserID)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO topup_setup_intents (id, wallet_id) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`,
			m.SetupIntentID, wid)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			err = tx.QueryRow(ctx, `SELECT wallet_id, company_id, member_id, payment_method_id, setup_intent_id, card_brand,
				card_last4, saved_at FROM topup_methods WHERE wallet_id = $1`, wid).
				Scan(&out.WalletID, &out.CompanyID, &out.MemberID, &out.PaymentMethodID, &out.SetupIntentID,
					&out.CardBrand, &out.CardLast4, &out.SavedAt)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			return err
		}
		err = tx.QueryRow(ctx, `
			INSERT INTO topup_methods (wallet_id, company_id, member_id, payment_method_id, setup_intent_id, card_brand, card_last4)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (wallet_id) DO UPDATE SET company_id = EXCLUDED.company_id, member_id = EXCLUDED.member_id,
			       payment_method_id = EXCLUDED.payment_method_id, setup_intent_id = EXCLUDED.setup_intent_id,
			       card_brand = EXCLUDED.card_brand, card_last4 = EXCLUDED.card_last4, saved_at = now()
			RETURNING wallet_id, company_id, member_id, payment_method_id, setup_intent_id, card_brand, card_last4, saved_at`,
			wid, m.CompanyID, m.MemberID, m.PaymentMethodID, m.SetupIntentID, m.CardBrand, m.CardLast4).
			Scan(&out.WalletID, &out.CompanyID, &out.MemberID, &out.PaymentMethodID, &out.SetupIntentID,
				&out.CardBrand, &out.CardLast4, &out.SavedAt)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE topup_rules SET enabled = true, declines_in_row = 0, disabled_reason = '', updated_at = now()
			WHERE wallet_id = $1 AND (NOT enabled OR declines_in_row > 0)`, wid)
		return err
	})
	if err != nil {
		return out, fmt.Errorf("ledger: save top-up method: %w", err)
	}
	return out, nil
}

// NewTopUpRule sets a member's rule: below Threshold credits, buy the
// package (as priced now), at most DailyLimit times a day.
type NewTopUpRule struct {
	ExperienceID, UserID string
	Threshold            int64
	PackageID            string
	Credits, Price       int64
	Currency             string
	DailyLimit           int
}

const topUpRuleColumns = `wallet_id, threshold, package_id, credits, price, currency, daily_limit, enabled,
	declines_in_row, disabled_reason, created_at, updated_at`

func scanTopUpRule(row pgx.Row) (TopUpRule, error) {
	var r TopUpRule
	err := row.Scan(&r.WalletID, &r.Threshold, &r.PackageID, &r.Credits, &r.Price, &r.Currency, &r.DailyLimit,
		&r.Enabled, &r.DeclinesInRow, &r.DisabledReason, &r.CreatedAt, &r.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	return r, err
}

// SetTopUpRule creates or changes the member's rule. A change keeps the
// rule's run of declines: a rule the declines turned off stays off until
// a method is saved again.
func (s *Store) SetTopUpRule(ctx context.Context, n NewTopUpRule) (TopUpRule, error) {
	if n.Threshold <= 0 || n.Credits <= 0 || n.Price <= 0 || n.DailyLimit < 1 || n.PackageID == "" || n.Currency == "" {
		return TopUpRule{}, fmt.Errorf("ledger: top-up rule: threshold, package, price and daily limit must be positive")
	}
	var r TopUpRule
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		wid, err := lockWallet(ctx, tx, n.ExperienceID, n.UserID)
		if err != nil {
			return err
		}
		r, err = scanTopUpRule(tx.QueryRow(ctx, `
			INSERT INTO topup_rules (wallet_id, threshold, package_id, credits, price, currency, daily_limit)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (wallet_id) DO UPDATE SET threshold = EXCLUDED.threshold, package_id = EXCLUDED.package_id,
			       credits = EXCLUDED.credits, price = EXCLUDED.price, currency = EXCLUDED.currency,
			       daily_limit = EXCLUDED.daily_limit, updated_at = now()
			RETURNING `+topUpRuleColumns, wid, n.Threshold, n.PackageID, n.Credits, n.Price, n.Currency, n.DailyLimit))
		return err
	})
	if err != nil {
		return r, fmt.Errorf("ledger: set top-up rule: %w", err)
	}
	return r, nil
}

// RemoveTopUpRule deletes the member's rule and cancels any top-up not yet
// charged (its purchase fails as canceled), under the wallet's lock, so no
// spend can schedule one in between. It returns the top-ups it canceled.
//
// Not yet charged is scheduled, or charging with no payment from Whop and
// its job not running: a charge whose try failed (a 5xx, a timeout) waits
// for its job's retry, which would otherwise charge the card after the
// member turned auto top-up off. Should that try have reached Whop after
// all, its answer lost, Whop's payment still settles the purchase (webhook
// or reconciler) and the top-up follows it to paid
// (purchases_topup_outcome): the member is charged once and credited once.
// A charge running now may be at Whop, so it is not called canceled; should
// that try fail, its retry finds the rule gone and cancels the top-up
// instead of charging (StartTopUpCharge). A top-up with a payment is
// Whop's to decide, and stays. A job that starts after this commits finds
// the top-up canceled (StartTopUpCharge waits on its row) and charges
// nothing.
//
// Locks are taken in the order crediting takes them: the top-ups'
// purchases, then the wallet (a purchase's settlement locks the purchase
// and then credits its wallet), then the top-ups. Taking the wallet first
// deadlocked with the webhook of a charge whose answer was lost, arriving
// as the member removed the rule. A top-up a spend scheduled between the
// first lock and the wallet's is locked after the wallet: no one credits
// a purchase that has no payment yet.
func (s *Store) RemoveTopUpRule(ctx context.Context, experienceID, userID string) ([]TopUp, error) {
	var canceled []TopUp
	const cancelable = `(t.status = 'scheduled' OR (t.status = 'charging' AND t.payment_id IS NULL AND NOT ` +
		runningChargeJob + `))`
	// lockPurchases locks the purchases of the wallet's cancelable top-ups,
	// in the order EndTopUpsWithoutAJob takes them.
	lockPurchases := func(tx pgx.Tx, wallet string, args ...any) error {
		_, err := tx.Exec(ctx, `SELECT 1 FROM purchases p JOIN topups t ON t.purchase_id = p.id
			WHERE t.wallet_id = `+wallet+` AND `+cancelable+` ORDER BY p.id FOR UPDATE OF p`, args...)
		return err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockPurchases(tx, `(SELECT id FROM wallets WHERE experience_id = $1 AND user_id = $2)`, experienceID, userID); err != nil {
			return err
		}
		wid, err := lockWallet(ctx, tx, experienceID, userID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM topup_rules WHERE wallet_id = $1`, wid); err != nil {
			return err
		}
		if err := lockPurchases(tx, `$1`, wid); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			UPDATE topups t SET status = 'canceled', updated_at = now()
			 WHERE t.wallet_id = $1 AND `+cancelable+`
			RETURNING `+topUpColumns, wid)
		if err != nil {
			return err
		}
		canceled, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (TopUp, error) { return scanTopUp(r) })
		if err != nil {
			return err
		}
		return failPurchases(ctx, tx, canceled, "canceled: auto top-up removed")
	})
	if err != nil {
		return nil, fmt.Errorf("ledger: remove top-up rule: %w", err)
	}
	return canceled, nil
}

// failPurchases fails, for reason, the purchases of top-ups just canceled,
// unless one was paid meanwhile (a paid purchase stays paid). The top-ups
// are canceled first, so purchases_topup_outcome leaves them as they are.
func failPurchases(ctx context.Context, tx pgx.Tx, canceled []TopUp, reason string) error {
	for _, t := range canceled {
		if _, err := tx.Exec(ctx, `UPDATE purchases SET status = 'failed', failure_reason = $2, updated_at = now()
			WHERE id = $1 AND status <> 'paid'`, t.PurchaseID, reason); err != nil {
			return err
		}
	}
	return nil
}

// notifyTopUpStopped tells the member (if they asked to hear of failed
// top-ups) that top-up t, stopped with no payment recorded, did not go
// through, and why.
func notifyTopUpStopped(ctx context.Context, tx pgx.Tx, t TopUp, why string) error {
	_, err := tx.Exec(ctx, `
		SELECT creditkit_notify(w.experience_id, w.user_id, 'topup_failed', 'topup_failed:' || $1::text,
		       'Your auto top-up did not go through',
		       'Your auto top-up of ' || p.credits || ' credits could not be completed: ' || $4::text ||
		       ' If Whop did take a payment for it, its credits still land. The next time your balance ' ||
		       'drops below your line, a new top-up starts.', '/activity', $1::text, now())
		  FROM wallets w, purchases p WHERE w.id = $2 AND p.id = $3`,
		t.ID, t.WalletID, t.PurchaseID, why)
	return err
}

// The reasons a top-up under way whose charge job is gone ends with
// (EndTopUpsWithoutAJob), as the member's page shows them: no payment was
// recorded, or Whop had not decided the one it made.
const (
	TopUpJobGone          = "not charged: the charge kept failing and was stopped; your next crossing starts a new top-up"
	TopUpJobGoneUndecided = "stopped before Whop decided its payment: if Whop takes it, its credits still land; your next crossing starts a new top-up"
	// TopUpKeyExpired ends a top-up whose charge was tried and whose retry
	// comes too late for Whop's Idempotency-Key to make it the same charge
	// (StartTopUpCharge).
	TopUpKeyExpired = "stopped: a try may have reached Whop, and a day on another could charge twice; if Whop took a payment, its credits still land; your next crossing starts a new top-up"
)

// ChargeKeyWindow is how long after a top-up is scheduled its charge may
// still be retried. Whop keeps an Idempotency-Key's first answer for 24
// hours; past that, a retry of a try whose answer was lost (Whop charged,
// the app never heard) would be a second charge, not a replay. A charge is
// first tried at or after its top-up is scheduled, so the top-up's age
// bounds the key's from above; the hour short of 24 covers a gap between
// Whop's clock and the database's. On schedule the retries end long before
// (about 14 hours in all); only an outage of the workers brings a retry
// this late.
const ChargeKeyWindow = 23 * time.Hour

// keyExpired is true where top-up t was tried (the attempt counted before
// this run) with no payment recorded and is older than ChargeKeyWindow;
// its query passes the window, in seconds, as $2.
const keyExpired = `(t.attempts > 0 AND t.created_at < now() - make_interval(secs => $2))`

// ruleOfTheTopUp is true where top-up t's wallet has a rule that buys what
// t's purchase buys, at its price: the rule that scheduled it, or one set
// since for the same package at the same price. (Not by time: a spend
// waiting on the wallet's lock while a rule is set schedules its top-up
// under that rule with the spend's earlier start time.)
const ruleOfTheTopUp = `EXISTS (SELECT 1 FROM topup_rules r JOIN purchases rp ON rp.id = t.purchase_id
	WHERE r.wallet_id = t.wallet_id AND r.package_id = rp.package_id AND r.credits = rp.credits
	  AND r.price = rp.price AND r.currency = rp.currency)`

// runningChargeJob is true where a topup_charge job of top-up t is running.
const runningChargeJob = `EXISTS (SELECT 1 FROM river_job j
	WHERE j.kind = '` + JobTopUpCharge + `' AND j.args @> jsonb_build_object('topup_id', t.id) AND j.state = 'running')`

// liveChargeJob is true where a topup_charge job of top-up t may still run.
const liveChargeJob = `EXISTS (SELECT 1 FROM river_job j
	WHERE j.kind = '` + JobTopUpCharge + `' AND j.args @> jsonb_build_object('topup_id', t.id)
	  AND j.state NOT IN ('completed', 'cancelled', 'discarded'))`

// EndTopUpsWithoutAJob cancels every top-up still under way (scheduled or
// charging) that no live topup_charge job will charge any more, fails its
// purchase as canceled (as RemoveTopUpRule does), and tells the member, if
// they asked to hear of failed top-ups. River discards a job after its last
// try (max_attempts, 25: about 14 hours of Whop failing, on schedule inside
// the 24 hours Whop keeps the charge's key); the top-up it leaves under way
// would stop every later crossing of the wallet from scheduling one, for
// good. Should a try have reached Whop after all, its answer lost, Whop's
// payment still settles the purchase and the top-up follows it to paid
// (purchases_topup_outcome). The top-up and its job are written in one
// transaction, so a top-up without a live job is one its job has left. The
// purchases are locked before their top-ups, in the order crediting locks
// them (a purchase, then, by its trigger, the top-up). It returns the
// top-ups it ended; the reconciler runs it after a pass with no problem.
func (s *Store) EndTopUpsWithoutAJob(ctx context.Context) ([]TopUp, error) {
	var ended []TopUp
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			SELECT 1 FROM purchases p JOIN topups t ON t.purchase_id = p.id
			 WHERE t.status IN ('scheduled', 'charging') AND NOT `+liveChargeJob+`
			 ORDER BY p.id FOR UPDATE OF p`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			UPDATE topups t SET status = 'canceled', updated_at = now(),
			       failure_reason = CASE WHEN t.payment_id IS NULL THEN $1 ELSE $2 END
			 WHERE t.status IN ('scheduled', 'charging') AND NOT `+liveChargeJob+`
			RETURNING `+topUpColumns, TopUpJobGone, TopUpJobGoneUndecided)
		if err != nil {
			return err
		}
		ended, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (TopUp, error) { return scanTopUp(r) })
		if err != nil {
			return err
		}
		if err := failPurchases(ctx, tx, ended, "canceled: its charge job ended without a charge"); err != nil {
			return err
		}
		for _, t := range ended {
			if err := notifyTopUpStopped(ctx, tx, t, "Whop kept failing, so it was stopped."); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ledger: end top-ups without a job: %w", err)
	}
	return ended, nil
}

// TopUpSettings is a member's saved method, rule and recent top-ups.
type TopUpSettings struct {
	Method *TopUpMethod
	Rule   *TopUpRule
	Recent []RecentTopUp // newest first
}

// RecentTopUp is a top-up with what it buys: its purchase's credits and
// price, which the rule may have changed since.
type RecentTopUp struct {
	TopUp
	Credits  int64
	Price    int64
	Currency string
}

// TopUpSettings reads the member's auto top-up.
func (s *Store) TopUpSettings(ctx context.Context, experienceID, userID string, recent int) (TopUpSettings, error) {
	var out TopUpSettings
	var wid int64
	err := s.pool.QueryRow(ctx, `SELECT id FROM wallets WHERE experience_id = $1 AND user_id = $2`, experienceID, userID).Scan(&wid)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("ledger: top-up settings: %w", err)
	}
	var m TopUpMethod
	err = s.pool.QueryRow(ctx, `SELECT wallet_id, company_id, member_id, payment_method_id, setup_intent_id, card_brand,
		card_last4, saved_at FROM topup_methods WHERE wallet_id = $1`, wid).
		Scan(&m.WalletID, &m.CompanyID, &m.MemberID, &m.PaymentMethodID, &m.SetupIntentID, &m.CardBrand, &m.CardLast4, &m.SavedAt)
	switch {
	case err == nil:
		out.Method = &m
	case !errors.Is(err, pgx.ErrNoRows):
		return out, fmt.Errorf("ledger: top-up method: %w", err)
	}
	r, err := scanTopUpRule(s.pool.QueryRow(ctx, `SELECT `+topUpRuleColumns+` FROM topup_rules WHERE wallet_id = $1`, wid))
	switch {
	case err == nil:
		out.Rule = &r
	case !errors.Is(err, ErrNotFound):
		return out, fmt.Errorf("ledger: top-up rule: %w", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT p.credits, p.price, p.currency, `+topUpColumns+`
		  FROM topups t JOIN purchases p ON p.id = t.purchase_id
		 WHERE t.wallet_id = $1 ORDER BY t.created_at DESC, t.id LIMIT $2`, wid, recent)
	if err != nil {
		return out, fmt.Errorf("ledger: top-ups: %w", err)
	}
	out.Recent, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (RecentTopUp, error) {
		var x RecentTopUp
		var err error
		x.TopUp, err = scanTopUp(r, &x.Credits, &x.Price, &x.Currency)
		return x, err
	})
	if err != nil {
		return out, fmt.Errorf("ledger: top-ups: %w", err)
	}
	return out, nil
}

// TopUp returns a top-up by id.
func (s *Store) TopUp(ctx context.Context, id string) (TopUp, error) {
	t, err := scanTopUp(s.pool.QueryRow(ctx, `SELECT `+topUpColumns+` FROM topups t WHERE id = $1`, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("ledger: top-up: %w", err)
	}
	return t, err
}

// TopUpCharge is what a charge needs: the top-up and its purchase.
type TopUpCharge struct {
	TopUp    TopUp
	Purchase Purchase
	// Due is false when the top-up is past charging (paid, declined,
	// refused, canceled): nothing is to be asked of Whop.
	Due bool
	// KeyExpired is true when this call ended the top-up because its
	// retry came past ChargeKeyWindow (TopUpKeyExpired).
	KeyExpired bool
}

// StartTopUpCharge moves a scheduled (or already charging: a retry) top-up
// to charging, counting the attempt, and returns it with its purchase. It
// commits before the caller asks Whop, so no lock is held over the call;
// a top-up canceled first stays canceled (Due false). A top-up with no
// payment yet whose wallet has no rule buying its package at its price any
// more is canceled here (Due false): the member removed the rule (or
// changed what it buys) while a try of its charge was
// running, which removing could not call canceled, and that try failed;
// its retry must not charge the card of a member who turned auto top-up
// off, nor, when they have set a rule again since, buy what the old rule
// priced. (Had the try reached Whop after all, Whop's payment still
// credits the purchase, once.) A retry with no payment recorded that comes
// past ChargeKeyWindow is not made either: the top-up ends canceled
// (TopUpKeyExpired, KeyExpired true), its purchase failed, the member told,
// as when its job is gone.
func (s *Store) StartTopUpCharge(ctx context.Context, id string) (TopUpCharge, error) {
	var c TopUpCharge
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// The purchase first, as crediting takes it before the top-up.
		window := ChargeKeyWindow.Seconds()
		if _, err := tx.Exec(ctx, `SELECT 1 FROM purchases p JOIN topups t ON t.purchase_id = p.id
			WHERE t.id = $1 AND t.status IN ('scheduled', 'charging') AND t.payment_id IS NULL
			  AND (NOT `+ruleOfTheTopUp+` OR `+keyExpired+`)
			FOR UPDATE OF p`, id, window); err != nil {
			return err
		}
		canceled, err := tx.Exec(ctx, `
			UPDATE topups t SET status = 'canceled', updated_at = now()
			 WHERE id = $1 AND status IN ('scheduled', 'charging') AND payment_id IS NULL AND NOT `+ruleOfTheTopUp, id)
		if err != nil {
			return err
		}
		if canceled.RowsAffected() == 1 {
			if _, err := tx.Exec(ctx, `UPDATE purchases p SET status = 'failed', failure_reason = 'canceled: auto top-up removed or changed',
				updated_at = now() FROM topups t WHERE t.id = $1 AND p.id = t.purchase_id AND p.status <> 'paid'`, id); err != nil {
				return err
			}
		}
		late, err := scanTopUp(tx.QueryRow(ctx, `
			UPDATE topups t SET status = 'canceled', failure_reason = $3, updated_at = now()
			 WHERE id = $1 AND status IN ('scheduled', 'charging') AND payment_id IS NULL AND `+keyExpired+`
			RETURNING `+topUpColumns, id, window, TopUpKeyExpired))
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return err
		default:
			c.KeyExpired = true
			if err := failPurchases(ctx, tx, []TopUp{late}, "canceled: its charge could not be retried safely after a day"); err != nil {
				return err
			}
			if err := notifyTopUpStopped(ctx, tx, late, "Whop's answer to an earlier try was lost, and a day on a new try "+
				"could charge you twice, so it was stopped."); err != nil {
				return err
			}
		}
		t, err := scanTopUp(tx.QueryRow(ctx, `
			UPDATE topups t SET status = 'charging', attempts = attempts + 1, updated_at = now()
			 WHERE id = $1 AND status IN ('scheduled', 'charging')
			RETURNING `+topUpColumns, id))
		switch {
		case errors.Is(err, ErrNotFound):
			if t, err = scanTopUp(tx.QueryRow(ctx, `SELECT `+topUpColumns+` FROM topups t WHERE id = $1`, id)); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			c.Due = true
		}
		c.TopUp = t
		c.Purchase, err = scanPurchase(tx.QueryRow(ctx, `SELECT `+purchaseColumns+` FROM purchases WHERE id = $1`, t.PurchaseID))
		return err
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("ledger: start top-up charge: %w", err)
	}
	return c, err
}

// RecordTopUpPayment notes the payment Whop made for a top-up's charge.
func (s *Store) RecordTopUpPayment(ctx context.Context, id, paymentID string) error {
	_, err := s.pool.Exec(ctx, `UPDATE topups SET payment_id = $2, updated_at = now()
		WHERE id = $1 AND payment_id IS DISTINCT FROM $2`, id, paymentID)
	if err != nil {
		return fmt.Errorf("ledger: record top-up payment: %w", err)
	}
	return nil
}

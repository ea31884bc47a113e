package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// PurchaseStatus is where a purchase stands.
type PurchaseStatus string

// Purchase statuses. Refunds are tracked by amount, not by status: a
// refunded purchase stays "paid", as Whop's payment does.
const (
	PurchasePending    PurchaseStatus = "pending"    // checkout made, nothing paid yet
	PurchaseProcessing PurchaseStatus = "processing" // Whop reports the payment pending
	PurchasePaid       PurchaseStatus = "paid"       // fulfilled: credits given
	PurchaseFailed     PurchaseStatus = "failed"     // the payment failed; a retry may still pay
)

// Purchase is a credit package bought through a Whop checkout.
type Purchase struct {
	ID              string
	UserID          string
	ExperienceID    string
	CompanyID       string
	PackageID       string
	Credits         int64
	Price           int64 // minor units of Currency, fixed when the purchase was made
	Currency        string
	CheckoutID      string
	PlanID          string
	PurchaseURL     string
	IdempotencyKey  string
	Status          PurchaseStatus
	PaymentID       string
	PaidAmount      int64
	RefundedAmount  int64
	RefundedCredits int64
	FailureReason   string
	// BuyerUsername is the buyer's Whop username, from a payment of theirs
	// for this purchase; "" until one was seen.
	BuyerUsername string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	FulfilledAt   time.Time // zero until paid
}

const purchaseColumns = `id, user_id, experience_id, company_id, package_id, credits, price, currency,
	checkout_id, plan_id, purchase_url, COALESCE(idempotency_key, ''), status, COALESCE(payment_id, ''),
	COALESCE(paid_amount, 0), refunded_amount, refunded_credits, failure_reason, buyer_username, created_at, updated_at,
	COALESCE(fulfilled_at, 'epoch'::timestamptz)`

func scanPurchase(row pgx.Row) (Purchase, error) {
	var p Purchase
	err := scanPurchaseAfter(row, &p)
	return p, err
}

// scanPurchaseAfter scans a row of the columns before, then purchaseColumns.
func scanPurchaseAfter(row pgx.Row, p *Purchase, before ...any) error {
	err := row.Scan(append(before, &p.ID, &p.UserID, &p.ExperienceID, &p.CompanyID, &p.PackageID, &p.Credits, &p.Price, &p.Currency,
		&p.CheckoutID, &p.PlanID, &p.PurchaseURL, &p.IdempotencyKey, &p.Status, &p.PaymentID,
		&p.PaidAmount, &p.RefundedAmount, &p.RefundedCredits, &p.FailureReason, &p.BuyerUsername, &p.CreatedAt, &p.UpdatedAt,
		&p.FulfilledAt)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	if p.FulfilledAt.Equal(time.Unix(0, 0)) {
		p.FulfilledAt = time.Time{}
	}
	return err
}

// Receipt is a purchase as a member's receipts list it: what was bought,
// what reached the wallet and what was charged or taken back, without the
// checkout's and payment's details. The member's page reads ten of them on
// every load, so it reads these columns only (receiptColumns), not all of
// purchaseColumns.
type Receipt struct {
	ID              string
	PackageID       string
	Credits         int64
	Price           int64 // minor units of Currency
	Currency        string
	Status          PurchaseStatus
	PaidAmount      int64
	RefundedAmount  int64
	RefundedCredits int64
	CreatedAt       time.Time
	// Refused is true for a purchase no payment paid that has a payment
	// the app refused which charged its buyer (payment_rejections'
	// buyer_charged): one that did not match it, or was disputed, so the
	// member paid for nothing credited.
	Refused bool
	// ChargedBack is how much of RefundedAmount a lost dispute took back
	// (the lost disputes' amounts, at most RefundedAmount); the rest was
	// refunded.
	ChargedBack int64
}

// Receipt is p as a member's receipts list it. Refused is false: a
// Purchase does not carry its rejections (see SaleRow).
func (p Purchase) Receipt() Receipt {
	return Receipt{ID: p.ID, PackageID: p.PackageID, Credits: p.Credits, Price: p.Price, Currency: p.Currency,
		Status: p.Status, PaidAmount: p.PaidAmount, RefundedAmount: p.RefundedAmount, RefundedCredits: p.RefundedCredits,
		CreatedAt: p.CreatedAt}
}

// refusedPayment is the newest payment the app refused that charged the
// buyer of a purchase of the purchases table no payment paid, or NULL
// (payment_rejections_charged_idx, migration 000014).
const refusedPayment = `CASE WHEN status <> 'paid' THEN (SELECT r.payment_id FROM payment_rejections r
	WHERE r.purchase_id = purchases.id AND r.buyer_charged ORDER BY r.id DESC LIMIT 1) END`

// chargedBack is how much of a purchase's (of the purchases table)
// refunded amount its payment's lost disputes took: Receipt.ChargedBack.
// A purchase with nothing refunded reads no dispute.
const chargedBack = `CASE WHEN refunded_amount > 0 THEN LEAST(refunded_amount, (SELECT COALESCE(sum(d.amount), 0)
	FROM disputes d WHERE d.payment_id = purchases.payment_id AND d.status = 'lost')) ELSE 0 END`

// receiptColumns are a Receipt's columns, read as purchaseColumns reads them.
const receiptColumns = `id, package_id, credits, price, currency, status, COALESCE(paid_amount, 0), refunded_amount,
	refunded_credits, created_at, ` + refusedPayment + ` IS NOT NULL, ` + chargedBack

// scanReceipt scans a row of receiptColumns.
func scanReceipt(row pgx.Row, r *Receipt) error {
	var status string
	err := row.Scan(&r.ID, &r.PackageID, &r.Credits, &r.Price, &r.Currency, &status, &r.PaidAmount, &r.RefundedAmount,
		&r.RefundedCredits, &r.CreatedAt, &r.Refused, &r.ChargedBack)
	r.Status = PurchaseStatus(status)
	return err
}

// NewPurchase is a pending purchase to record once its checkout exists.
type NewPurchase struct {
	ID, UserID, ExperienceID, CompanyID, PackageID string
	Credits, Price                                 int64
	Currency                                       string
	CheckoutID, PlanID, PurchaseURL                string
	IdempotencyKey                                 string // optional; unique per user
}

// CreatePurchase records a pending purchase. When the user already used the
// idempotency key, nothing is written and the earlier purchase is returned
// with created false, for the caller to compare.
func (s *Store) CreatePurchase(ctx context.Context, n NewPurchase) (p Purchase, created bool, err error) {
	var key *string
	if n.IdempotencyKey != "" {
		key = &n.IdempotencyKey
	}
	p, err = scanPurchase(s.pool.QueryRow(ctx, `
		INSERT INTO purchases (id, user_id, experience_id, company_id, package_id, credits, price, currency,
		                       checkout_id, plan_id, purchase_url, idempotency_key)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (user_id, idempotency_key) DO NOTHING
		RETURNING `+purchaseColumns,
		n.ID, n.UserID, n.ExperienceID, n.CompanyID, n.PackageID, n.Credits, n.Price, n.Currency,
		n.CheckoutID, n.PlanID, n.PurchaseURL, key))
	if err == nil {
		return p, true, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return p, false, fmt.Errorf("ledger: create purchase: %w", err)
	}
	p, err = s.PurchaseByKey(ctx, n.UserID, n.IdempotencyKey)
	return p, false, err
}

// PurchaseByKey finds a user's purchase by the idempotency key it was made with.
func (s *Store) PurchaseByKey(ctx context.Context, userID, key string) (Purchase, error) {
	p, err := scanPurchase(s.pool.QueryRow(ctx,
		`SELECT `+purchaseColumns+` FROM purchases WHERE user_id = $1 AND idempotency_key = $2`, userID, key))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("ledger: purchase by key: %w", err)
	}
	return p, err
}

// Purchase returns a purchase by id.
func (s *Store) Purchase(ctx context.Context, id string) (Purchase, error) {
	p, err := scanPurchase(s.pool.QueryRow(ctx, `SELECT `+purchaseColumns+` FROM purchases WHERE id = $1`, id))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("ledger: purchase: %w", err)
	}
	return p, err
}

// PurchaseByPayment returns the purchase a payment fulfilled.
func (s *Store) PurchaseByPayment(ctx context.Context, paymentID string) (Purchase, error) {
	p, err := scanPurchase(s.pool.QueryRow(ctx, `SELECT `+purchaseColumns+` FROM purchases WHERE payment_id = $1`, paymentID))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("ledger: purchase by payment: %w", err)
	}
	return p, err
}

// PaymentState is what a payment that is not paid says of its purchase.
type PaymentState struct {
	Status PurchaseStatus // PurchaseProcessing (under way) or PurchaseFailed (for good)
	Reason string         // why it failed; "" while processing
	// Buyer, when not empty, is the buyer's Whop username, from a payment
	// the caller knows to be the purchase's buyer's.
	Buyer string
	// PaymentID is the payment, and At Whop's time of its state (its
	// updated_at), which order the states of one payment that arrive out
	// of order. At unknown (zero: legacy webhooks, the v2 and v5 payment
	// APIs): the state counts as of when it is recorded, so it replaces
	// its payment's as it comes, but for a pending after the payment
	// ended (staleForPayment). PaymentID unknown (empty): the state is
	// recorded on the purchase as it comes, and the purchase's recorded
	// payment and time stay.
	PaymentID string
	At        time.Time
}

// MarkResult is what recording a payment state did to its purchase.
type MarkResult struct {
	Purchase Purchase // as it stands afterwards
	// Ignored says why the purchase did not change; "" when it did. The
	// state may still have been kept as its payment's (a declined card's
	// while another payment is under way).
	Ignored string
}

// paymentState is one payment's latest known state of a purchase, as
// purchase_payment_states keeps it, or the purchase's own recorded state
// (its status and reason, the payment it was derived from and that
// state's time). Empty and zero when unknown.
type paymentState struct {
	status    PurchaseStatus
	reason    string
	paymentID string
	at        time.Time
	// recorded is when the app recorded a kept state: it orders states
	// whose time Whop did not give (derivePurchase).
	recorded time.Time
}

// orderAt is the time that orders p among its purchase's payments: Whop's
// time of the state, or when Whop gave none, when the app recorded it
// (the state was Whop's by then).
func (p paymentState) orderAt() time.Time {
	if p.at.IsZero() {
		return p.recorded
	}
	return p.at
}

// samePlace reports whether two states are the same: the same status and
// reason, of the same payment at the same time.
func (a paymentState) samePlace(b paymentState) bool {
	return a.status == b.status && a.reason == b.reason && a.paymentID == b.paymentID && a.at.Equal(b.at)
}

// paymentRefused is a payment's kept state once the app refused to credit
// it although it charged the buyer (RecordRejection): final, and neither
// under way nor failed, so it no longer keeps its purchase processing and
// never makes it read as declined. It is no status of a purchase.
const paymentRefused PurchaseStatus = "refused"

// ended reports whether p's payment will not pay: failed or refused.
func (p paymentState) ended() bool { return p.status == PurchaseFailed || p.status == paymentRefused }

// staleForPayment says whether st, recorded now, is no newer than its
// payment's kept state rec, and same whether it is that very state.
//   - Both with Whop's time: the later wins; at an equal time a failure,
//     since a payment goes pending and then fails within one timestamp far
//     more often than it is retried.
//   - st without one: it is Whop's as of now, so it replaces rec, except a
//     pending after the payment ended: only a retry reopens a payment, and
//     such a read cannot tell a retry from a late view of the pending
//     before the failure (a retry's own webhook, with its time, moves it).
//   - rec without one, st with one: the app's clock and Whop's do not
//     order them, so the lifecycle does: a failure ends a pending, and a
//     pending reopens a failure only when Whop's time is after the app
//     recorded the failure. The same status replaces rec, with the time.
func staleForPayment(rec, st paymentState) (stale bool, same bool) {
	switch {
	case st.at.IsZero():
		if rec.status == st.status && rec.reason == st.reason {
			return true, true
		}
		return st.status == PurchaseProcessing && rec.ended(), false
	case rec.at.IsZero():
		// The same status is kept again with Whop's time, which orders the
		// payment's later states better than the app's clock.
		return st.status == PurchaseProcessing && rec.ended() && !st.at.After(rec.recorded), false
	case rec.at.Equal(st.at) && rec.status == st.status:
		return true, true
	}
	return rec.at.After(st.at) || (rec.at.Equal(st.at) && rec.ended()), false
}

// derivePurchase is the state a purchase's payments give it: processing,
// from the newest pending, while any payment is under way; otherwise
// failed, with the newest failure's reason. Newest is by orderAt; at equal
// times the greater payment id, so the answer does not depend on the
// rows' order. Refused payments count for neither. It is the zero state
// when no payment counts.
func derivePurchase(payments []paymentState) paymentState {
	var best paymentState
	for _, p := range payments {
		switch {
		case p.status != PurchaseProcessing && p.status != PurchaseFailed:
		case best.paymentID == "",
			p.status == PurchaseProcessing && best.status == PurchaseFailed,
			p.status == best.status && (p.orderAt().After(best.orderAt()) ||
				p.orderAt().Equal(best.orderAt()) && p.paymentID > best.paymentID):
			best = p
		}
	}
	return best
}

// unchangedWhy says why a state of a known payment left the purchase's
// state cur as it was.
func unchangedWhy(cur paymentState, st PaymentState) string {
	switch {
	case st.Status == PurchaseFailed && cur.status == PurchaseProcessing:
		return "another payment of the purchase is under way: purchase stays processing"
	case st.Status == PurchaseFailed && cur.status == PurchaseFailed && cur.paymentID != st.PaymentID:
		return "an earlier failure arrived late: purchase stays failed"
	}
	return "purchase already " + string(cur.status)
}

// PaymentAttempt is one payment's latest known state of a purchase that
// was not (or not yet) paid by it: as MarkPurchase kept it.
type PaymentAttempt struct {
	PaymentID string
	// Status is "processing" (under way), "failed", or "refused": paid, but
	// the app refused to credit it (its refusals say why).
	Status string
	Reason string    // why it failed or was refused; "" while processing
	At     time.Time // Whop's time of the state; zero when unknown
}

// PaymentAttempts lists the states kept of a purchase's payments, newest
// first as derivePurchase orders them (at equal times, the greater id),
// less the payment that paid it: its pending state was true only until
// then.
func (s *Store) PaymentAttempts(ctx context.Context, purchaseID string) ([]PaymentAttempt, error) {
	return queryAll(ctx, s.pool, "payment attempts", func(r pgx.CollectableRow) (PaymentAttempt, error) {
		var a PaymentAttempt
		var at *time.Time
		err := r.Scan(&a.PaymentID, &a.Status, &a.Reason, &at)
		a.At = deref(at)
		return a, err
	}, `
		SELECT a.payment_id, a.status, a.reason, a.at
		  FROM purchase_payment_states a JOIN purchases p ON p.id = a.purchase_id
		 WHERE a.purchase_id = $1 AND a.payment_id IS DISTINCT FROM p.payment_id
		 ORDER BY COALESCE(a.at, a.recorded_at) DESC, a.payment_id DESC`, purchaseID)
}

// MarkPurchase records a payment state on an unpaid purchase, moving it to
// processing or failed (a paid one never moves back), with the delivery
// when there is one. The purchase's row is locked first, so concurrent
// states of one purchase are applied one after the other.
//
// A state of a known payment is kept as that payment's latest state
// unless the payment already has a later one or was refused
// (staleForPayment), and the purchase's status is then derived from all
// its payments' states (derivePurchase): a late pending of a failed
// payment, or a declined card while a bank payment is under way, changes
// nothing, whatever came between. A state of unknown payment is recorded
// on the purchase as it comes (a top-up's refusal, TopUps.refuse). A
// top-up's purchase, made for its one off-session payment, stays failed
// once failed: a state of unknown time would otherwise show a declined
// top-up's purchase as under way for good. MarkResult.Ignored says why the
// purchase did not change.
func (s *Store) MarkPurchase(ctx context.Context, purchaseID string, st PaymentState, d *Delivery) (MarkResult, error) {
	if st.Status != PurchaseProcessing && st.Status != PurchaseFailed {
		return MarkResult{}, fmt.Errorf("ledger: mark purchase: status %q is not processing or failed", st.Status)
	}
	st.At = st.At.Truncate(time.Microsecond) // Postgres keeps microseconds
	var res MarkResult
	err := s.withDelivery(ctx, d, func(tx pgx.Tx) (string, error) {
		var cur paymentState
		var curAt *time.Time
		var topUp bool
		err := tx.QueryRow(ctx, `
			SELECT status, failure_reason, COALESCE(attempt_payment_id, ''), attempt_at, EXISTS (SELECT 1 FROM topups t WHERE t.purchase_id = p.id)
			  FROM purchases p WHERE id = $1 FOR UPDATE`, purchaseID).Scan(&cur.status, &cur.reason, &cur.paymentID, &curAt, &topUp)
		if errors.Is(err, pgx.ErrNoRows) {
			return "", ErrNotFound
		}
		if err != nil {
			return "", err
		}
		cur.at = deref(curAt)
		next := paymentState{status: st.Status, reason: st.Reason, paymentID: cur.paymentID, at: cur.at}
		switch {
		case cur.status == PurchasePaid:
			res.Ignored = "purchase already paid"
		case topUp && cur.status == PurchaseFailed && st.Status == PurchaseProcessing:
			res.Ignored = "purchase already failed"
		case st.PaymentID != "":
			next, res.Ignored, err = recordPaymentState(ctx, tx, purchaseID, cur, st, s.now())
			if err != nil {
				return "", err
			}
		}
		if res.Ignored != "" {
			res.Purchase, err = scanPurchase(tx.QueryRow(ctx, `SELECT `+purchaseColumns+` FROM purchases WHERE id = $1`, purchaseID))
		} else {
			res.Purchase, err = setDerived(ctx, tx, purchaseID, next, st.Buyer)
		}
		if err != nil {
			return "", err
		}
		// Recorded or not, the delivery was about this purchase: its
		// look-up lists it.
		if err := linkDelivery(ctx, tx, d, purchaseID); err != nil {
			return "", err
		}
		if res.Ignored != "" {
			return "ignored: " + res.Ignored, nil
		}
		return "purchase " + string(next.status), nil
	})
	if err != nil {
		return res, fmt.Errorf("ledger: mark purchase: %w", err)
	}
	return res, nil
}

// orNull is t, or nil (SQL NULL) when t is zero.
func orNull(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// recordPaymentState keeps st as its payment's latest state, unless that
// payment has a later one or was refused, and derives the purchase's
// state from all its payments', inside MarkPurchase's transaction (the
// purchase's row locked). It answers the purchase's next state, or why it
// stays cur.
func recordPaymentState(ctx context.Context, tx pgx.Tx, purchaseID string, cur paymentState, st PaymentState, now time.Time) (paymentState, string, error) {
	payments, err := paymentStates(ctx, tx, purchaseID)
	if err != nil {
		return cur, "", err
	}
	mine := paymentState{status: st.Status, reason: st.Reason, paymentID: st.PaymentID, at: st.At, recorded: nextRecorded(payments, now)}
	i := slices.IndexFunc(payments, func(p paymentState) bool { return p.paymentID == st.PaymentID })
	why := ""
	if i >= 0 {
		switch stale, same := staleForPayment(payments[i], mine); {
		case payments[i].status == paymentRefused:
			why = "the payment was refused: purchase stays " + string(cur.status)
		case same:
			why = unchangedWhy(cur, st)
		case stale && mine.at.IsZero():
			why = "a pending of no time does not reopen the payment that ended: purchase stays " + string(cur.status)
		case stale:
			why = "an earlier state of the payment arrived late: purchase stays " + string(cur.status)
		}
	}
	if why != "" {
		return cur, why, nil
	}
	if err := keepPaymentState(ctx, tx, purchaseID, mine); err != nil {
		return cur, "", err
	}
	if i >= 0 {
		payments[i] = mine
	} else {
		payments = append(payments, mine)
	}
	next := derivePurchase(payments)
	if next.paymentID == "" || next.samePlace(cur) {
		return cur, unchangedWhy(cur, st), nil
	}
	return next, "", nil
}

// paymentStates reads the states kept of a purchase's payments.
func paymentStates(ctx context.Context, tx pgx.Tx, purchaseID string) ([]paymentState, error) {
	rows, err := tx.Query(ctx, `
		SELECT status, reason, payment_id, at, recorded_at FROM purchase_payment_states WHERE purchase_id = $1`, purchaseID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (paymentState, error) {
		var p paymentState
		var at *time.Time
		err := r.Scan(&p.status, &p.reason, &p.paymentID, &at, &p.recorded)
		p.at = deref(at)
		return p, err
	})
}

// nextRecorded is the time to record a state of a purchase at: now, and
// after every state of it recorded before (its row is locked; a replica's
// clock may be behind another's).
func nextRecorded(payments []paymentState, now time.Time) time.Time {
	now = now.Truncate(time.Microsecond) // Postgres keeps microseconds
	for _, p := range payments {
		if !now.After(p.recorded) {
			now = p.recorded.Add(time.Microsecond)
		}
	}
	return now
}

// keepPaymentState writes p as its payment's kept state.
func keepPaymentState(ctx context.Context, tx pgx.Tx, purchaseID string, p paymentState) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO purchase_payment_states (purchase_id, payment_id, status, reason, at, recorded_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (purchase_id, payment_id) DO UPDATE
		   SET status = EXCLUDED.status, reason = EXCLUDED.reason, at = EXCLUDED.at, recorded_at = EXCLUDED.recorded_at`,
		purchaseID, p.paymentID, p.status, p.reason, orNull(p.at), p.recorded)
	return err
}

// setDerived writes a purchase's derived state, with the buyer's username
// when known, and returns the purchase.
func setDerived(ctx context.Context, tx pgx.Tx, purchaseID string, next paymentState, buyer string) (Purchase, error) {
	return scanPurchase(tx.QueryRow(ctx, `
		UPDATE purchases SET status = $2, failure_reason = $3, updated_at = now(),
		       buyer_username = COALESCE(NULLIF($4, ''), buyer_username),
		       attempt_payment_id = NULLIF($5, ''), attempt_at = $6
		 WHERE id = $1
		RETURNING `+purchaseColumns, purchaseID, next.status, next.reason, buyer, next.paymentID, orNull(next.at)))
}

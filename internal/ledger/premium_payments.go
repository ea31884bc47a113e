package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// PremiumPayment is a payment of the premium plan as its source holds it
// now: what ties it to the billing period it paid for, and what of it went
// back to the buyer.
type PremiumPayment struct {
	ID string
	// At is when it was paid (else made), which places it in a period when
	// no grant names it yet; zero when unknown.
	At time.Time
	// Reversed is the money given back so far, in minor units: its
	// refunds, or all of it once a dispute is lost. A running total, so a
	// reversal seen again takes nothing more.
	Reversed int64
	// TakeBack says how many credits of a grant of granted credits the
	// reversal takes back (the caller's rule: in proportion, rounded up).
	// nil when nothing is reversed.
	TakeBack func(granted int64) int64
	// ReconcilerRun, when set, is the reconciler run that saw the payment:
	// credits taken back here are counted on it in the same transaction.
	ReconcilerRun int64
}

// PremiumPaymentResult is what recording a premium payment changed.
type PremiumPaymentResult struct {
	MembershipResult
	// Grant is the grant of the period the payment paid for, as it stands
	// afterwards; its ID is 0 when no such grant is known.
	Grant PremiumGrant
	// Linked is true when the grant was tied to the payment now.
	Linked bool
	// TakenBack is the credits taken back now, into Balance.
	TakenBack int64
}

// PremiumPeriodSlack is how long before a period's start a payment still
// counts as that period's: Whop starts a membership's first period when it
// makes the membership, a moment after the payment that bought it, and a
// renewal is charged as the period turns. Billing periods are days long, so
// this never reaches back into the period before.
const PremiumPeriodSlack = 10 * time.Minute

// RecordPremiumPayment does what RecordMembership does for a membership
// state read from the source just now (g, the current period's credits,
// when it asks), then, in the same transaction with the delivery, finds
// the grant of the period payment p paid for, ties it to p if nothing was,
// and takes back what p's reversal takes of its credits that was not taken
// before, as a 'refund' entry of the difference (the balance may go below
// zero). The grant is the one already tied to p, else the membership's
// grant whose period holds p's time (from PremiumPeriodSlack before its
// start) that no other payment paid for, the one starting nearest that
// time when several do (a period whose recorded end is later than Whop's
// turn of it overlaps the next). With none, nothing
// is taken back and the outcome says so: the caller decides what to tell.
// Every grant write happens under the membership's row lock, so deliveries
// and the reconciler seeing one payment at once take its credits back once.
func (s *Store) RecordPremiumPayment(ctx context.Context, m Membership, g *PeriodGrant, p PremiumPayment, d *Delivery) (PremiumPaymentResult, error) {
	var res PremiumPaymentResult
	err := s.withDelivery(ctx, d, func(tx pgx.Tx) (outcome string, err error) {
		if res.MembershipResult, outcome, err = recordMembershipTx(ctx, tx, m, true, g, d); err != nil {
			return "", err
		}
		if res.Grant, res.Linked, err = paidGrant(ctx, tx, m.ID, p); err != nil {
			return "", err
		}
		if res.Grant.ID == 0 {
			if p.Reversed > 0 {
				outcome += fmt.Sprintf("; payment %s was reversed but paid for no period granted: nothing taken back", p.ID)
			}
			return outcome, nil
		}
		if res.Grant, res.TakenBack, res.Balance, err = takeBackPremium(ctx, tx, res.Grant, p, res.Linked, res.Balance); err != nil {
			return "", err
		}
		if res.TakenBack > 0 {
			outcome += fmt.Sprintf("; took back %d credits of the period from %s (payment %s reversed)",
				res.TakenBack, res.Grant.PeriodStart.UTC().Format(time.DateOnly), p.ID)
			if p.ReconcilerRun != 0 {
				if _, err := tx.Exec(ctx, `UPDATE reconciler_runs SET refunded = refunded + 1 WHERE id = $1`, p.ReconcilerRun); err != nil {
					return "", fmt.Errorf("count on reconciler run: %w", err)
				}
			}
		}
		return outcome, nil
	})
	if err != nil {
		return res, fmt.Errorf("ledger: record premium payment %s: %w", p.ID, err)
	}
	return res, nil
}

// paidGrant finds, and locks, the grant of the period payment p paid for:
// the one tied to it, else the one its time places it in. link is true
// when the grant is not yet tied to p (the caller ties it).
func paidGrant(ctx context.Context, tx pgx.Tx, membershipID string, p PremiumPayment) (g PremiumGrant, link bool, err error) {
	g, err = scanGrant(tx.QueryRow(ctx, `SELECT `+grantColumns+` FROM premium_grants
		WHERE payment_id = $1 FOR UPDATE`, p.ID))
	switch {
	case err == nil:
		if g.MembershipID != membershipID {
			// Tied to another membership's period: Whop moved the payment,
			// which it does not do; leave both as they are.
			return PremiumGrant{}, false, nil
		}
		return g, false, nil
	case !errors.Is(err, ErrNotFound):
		return g, false, fmt.Errorf("find the grant of payment %s: %w", p.ID, err)
	case p.At.IsZero():
		return PremiumGrant{}, false, nil
	}
	g, err = scanGrant(tx.QueryRow(ctx, `SELECT `+grantColumns+` FROM premium_grants
		WHERE membership_id = $1 AND payment_id IS NULL
		  AND period_start <= $2::timestamptz + $3::interval AND (period_end IS NULL OR period_end > $2)
		ORDER BY abs(extract(epoch FROM period_start - $2::timestamptz)), period_start DESC LIMIT 1 FOR UPDATE`, membershipID, p.At, PremiumPeriodSlack))
	switch {
	case errors.Is(err, ErrNotFound):
		return PremiumGrant{}, false, nil
	case err != nil:
		return g, false, fmt.Errorf("find the period of payment %s: %w", p.ID, err)
	}
	return g, true, nil
}

// takeBackPremium ties grant g to payment p when link says so and takes
// back what p's reversal takes of g's credits beyond what was taken before.
// balance is the wallet's balance so far in this transaction, returned
// anew when credits were taken back.
func takeBackPremium(ctx context.Context, tx pgx.Tx, g PremiumGrant, p PremiumPayment, link bool, balance int64) (PremiumGrant, int64, int64, error) {
	target := g.RefundedCredits
	if p.TakeBack != nil && p.Reversed > 0 {
		target = max(target, min(p.TakeBack(g.Credits), g.Credits))
	}
	delta := target - g.RefundedCredits
	if !link && delta == 0 && p.Reversed <= g.RefundedAmount {
		return g, 0, balance, nil // seen before: nothing changes
	}
	if delta > 0 {
		key := fmt.Sprintf("premium_refund:%d:%d", g.ID, target)
		var err error
		if balance, err = move(ctx, tx, g.ExperienceID, g.UserID, KindRefund, -delta, p.ID, key); err != nil {
			return g, 0, 0, err
		}
	}
	g, err := scanGrant(tx.QueryRow(ctx, `UPDATE premium_grants
		SET payment_id = $2, refunded_amount = GREATEST(refunded_amount, $3), refunded_credits = $4
		WHERE id = $1 RETURNING `+grantColumns, g.ID, p.ID, max(p.Reversed, 0), target))
	if err != nil {
		return g, 0, 0, fmt.Errorf("record what payment %s took back: %w", p.ID, err)
	}
	return g, delta, balance, nil
}

package billing

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/riverqueue/river"
)

// Auto top-up: a member saves a card through a setup-mode checkout and sets
// a rule; the spend that takes the balance below the rule's threshold
// schedules a top-up in its own transaction (the database sees the
// crossing, migration 000012), and the charge job here charges the saved
// card off-session, keyed by the top-up, with no transaction open, handing
// the payment to FulfilPayment like every other payment.

// TopUpWhop is what auto top-up calls on Whop.
type TopUpWhop interface {
	CreateSetupCheckout(ctx context.Context, p whop.SetupCheckoutParams) (*whop.CheckoutConfiguration, error)
	GetSetupIntent(ctx context.Context, id string) (*whop.SetupIntent, error)
	CreatePayment(ctx context.Context, p whop.OffSessionPaymentParams) (*whop.Payment, error)
}

// Metadata keys of top-ups and setup checkouts.
const (
	// MetaTopUpID names the top-up an off-session payment charges: such a
	// payment has no checkout configuration, and its top-up stands for one.
	MetaTopUpID = "creditkit_topup_id"
	// MetaSetupUserID names the member a setup checkout saves a card for.
	MetaSetupUserID = "creditkit_setup_user_id"
)

// FromTopUp is the charge job seeing its own payment.
const FromTopUp Source = "topup"

// Errors of auto top-up the edge maps to 4xx.
var (
	ErrSetupNotUsable = errors.New("billing: the setup did not save a payment method for this member")
	ErrNoSavedMethod  = errors.New("billing: save a payment method first")
	ErrBadTopUpRule   = errors.New("billing: a rule needs a threshold of at least 1 and 1 to 50 top-ups a day")
)

// TopUps is the member's auto top-up.
type TopUps struct {
	s *core
	w TopUpWhop
}

// NewTopUps returns the auto top-up service on s, calling Whop through w.
func NewTopUps(s *Service, w TopUpWhop) *TopUps { return &TopUps{s: s.core, w: w} }

// TopUpRecord is one top-up, as the member sees it.
type TopUpRecord struct {
	ID            string
	PurchaseID    string
	Credits       int64 // what the top-up buys
	Price         int64 // in Currency's minor units
	Currency      string
	Status        string // scheduled, charging, paid, declined, refused, canceled
	FailureReason string
	CreatedAt     time.Time
}

// AutoTopUp is a member's auto top-up: the saved card, the rule, the
// recent top-ups.
type AutoTopUp struct {
	HasMethod bool
	CardBrand string
	CardLast4 string
	Rule      *TopUpRule
	Recent    []TopUpRecord
}

// Settings reads the member's auto top-up, for a member of the experience.
func (t *TopUps) Settings(ctx context.Context, userID, experienceID string) (AutoTopUp, error) {
	if err := t.s.experienceAccess(ctx, userID, experienceID); err != nil {
		return AutoTopUp{}, err
	}
	return t.settings(ctx, userID, experienceID)
}

// settings reads the member's auto top-up; the caller checked access.
func (t *TopUps) settings(ctx context.Context, userID, experienceID string) (AutoTopUp, error) {
	st, err := t.s.store.TopUpSettings(ctx, experienceID, userID, 10)
	if err != nil {
		return AutoTopUp{}, err
	}
	var out AutoTopUp
	if m := st.Method; m != nil {
		out.HasMethod, out.CardBrand, out.CardLast4 = true, m.CardBrand, m.CardLast4
	}
	out.Rule = st.Rule
	for _, x := range st.Recent {
		out.Recent = append(out.Recent, TopUpRecord{ID: x.ID, PurchaseID: x.PurchaseID, Credits: x.Credits, Price: x.Price,
			Currency: x.Currency, Status: string(x.Status), FailureReason: x.FailureReason, CreatedAt: x.CreatedAt})
	}
	return out, nil
}

// SetupCheckout is what the iframe's inAppPurchase needs to save a card.
type SetupCheckout struct {
	CheckoutID  string
	PurchaseURL string
}

// StartSetup creates a setup-mode checkout configuration for the member.
func (t *TopUps) StartSetup(ctx context.Context, userID, experienceID string) (SetupCheckout, error) {
	if err := t.s.experienceAccess(ctx, userID, experienceID); err != nil {
		return SetupCheckout{}, err
	}
	// Back from Whop's hosted page to the member's settings, which show the
	// card once Whop's setup_intent.succeeded webhook recorded it.
	var redirect string
	if t.s.cfg.AppURL != "" {
		redirect = strings.TrimRight(t.s.cfg.AppURL, "/") + "/experiences/" + url.PathEscape(experienceID) + "/autotopup?setup=returned"
	}
	ch, err := t.w.CreateSetupCheckout(ctx, whop.SetupCheckoutParams{CompanyID: t.s.cfg.CompanyID, RedirectURL: redirect,
		Metadata: map[string]string{MetaSetupUserID: userID, MetaExperienceID: experienceID}})
	if err != nil {
		return SetupCheckout{}, fmt.Errorf("billing: setup checkout: %w", err)
	}
	return SetupCheckout{CheckoutID: ch.ID, PurchaseURL: ch.PurchaseURL}, nil
}

// SaveMethod records the card a completed setup saved, read from Whop
// (never trusted from the browser), and turns back on a rule that declines
// turned off.
func (t *TopUps) SaveMethod(ctx context.Context, userID, experienceID, setupIntentID string) (AutoTopUp, error) {
	if !whop.ValidID(setupIntentID, whop.PrefixSetupIntent) {
		return AutoTopUp{}, ErrSetupNotUsable
	}
	if err := t.s.experienceAccess(ctx, userID, experienceID); err != nil {
		return AutoTopUp{}, err
	}
	si, err := t.w.GetSetupIntent(ctx, setupIntentID)
	if errors.Is(err, whop.ErrNotFound) {
		return AutoTopUp{}, ErrSetupNotUsable
	}
	if err != nil {
		return AutoTopUp{}, fmt.Errorf("billing: setup intent: %w", err)
	}
	if !t.s.setupUsable(si, userID, experienceID) {
		return AutoTopUp{}, ErrSetupNotUsable
	}
	if err := t.s.saveSetup(ctx, si, userID, experienceID); err != nil {
		return AutoTopUp{}, err
	}
	return t.settings(ctx, userID, experienceID)
}

// RuleInput is the rule a member sets.
type RuleInput struct {
	Threshold  int64
	PackageID  string
	DailyLimit int
}

// SetRule creates or changes the member's rule, priced from the package
// as it is on sale now.
func (t *TopUps) SetRule(ctx context.Context, userID, experienceID string, in RuleInput) (AutoTopUp, error) {
	pkg, ok := t.s.pkg(in.PackageID)
	if !ok {
		return AutoTopUp{}, ErrUnknownPackage
	}
	if in.Threshold < 1 || in.DailyLimit < 1 || in.DailyLimit > 50 {
		return AutoTopUp{}, ErrBadTopUpRule
	}
	if err := t.s.experienceAccess(ctx, userID, experienceID); err != nil {
		return AutoTopUp{}, err
	}
	cur, err := t.settings(ctx, userID, experienceID)
	if err != nil {
		return AutoTopUp{}, err
	}
	if !cur.HasMethod {
		return AutoTopUp{}, ErrNoSavedMethod
	}
	_, err = t.s.store.SetTopUpRule(ctx, ledger.NewTopUpRule{ExperienceID: experienceID, UserID: userID,
		Threshold: in.Threshold, PackageID: pkg.ID, Credits: pkg.Credits, Price: pkg.Price,
		Currency: string(t.s.cfg.Currency), DailyLimit: in.DailyLimit})
	if err != nil {
		return AutoTopUp{}, err
	}
	return t.settings(ctx, userID, experienceID)
}

// RemoveRule deletes the member's rule and cancels any top-up not yet
// charged; it returns how many it canceled. Like every member's call here,
// it is for a member of the experience (billing decides, not the edge).
func (t *TopUps) RemoveRule(ctx context.Context, userID, experienceID string) (int, error) {
	if err := t.s.experienceAccess(ctx, userID, experienceID); err != nil {
		return 0, err
	}
	canceled, err := t.s.store.RemoveTopUpRule(ctx, experienceID, userID)
	return len(canceled), err
}

// ChargeOutcome is what one run of a top-up's charge did.
type ChargeOutcome struct {
	Status    string // the top-up's status afterwards
	PaymentID string
	Credited  int64
	Declined  string // the decline's (or refusal's) reason, when declined or refused
}

// Charge charges a scheduled top-up: it marks it charging (committed),
// asks Whop for the off-session payment keyed by the top-up (so a retry,
// on this replica or another, is the same charge), then settles what Whop
// answered: a paid payment through FulfilPayment, a declined one as the
// purchase's failure (which records the decline on the top-up and counts
// it against the rule), a pending one left to its webhook. A Whop error
// that is not a refusal is returned, for the job to retry.
func (t *TopUps) Charge(ctx context.Context, topUpID string) (ChargeOutcome, error) {
	c, err := t.s.store.StartTopUpCharge(ctx, topUpID)
	if err != nil {
		return ChargeOutcome{}, err
	}
	if c.KeyExpired {
		t.s.log.WarnContext(ctx, "top-up stopped: its retry came too late for Whop's idempotency key",
			"topup_id", c.TopUp.ID, "purchase_id", c.Purchase.ID, "attempts", c.TopUp.Attempts, "scheduled_at", c.TopUp.CreatedAt)
	}
	if !c.Due {
		return ChargeOutcome{Status: string(c.TopUp.Status), PaymentID: c.TopUp.PaymentID}, nil
	}
	pur := c.Purchase
	if c.TopUp.PaymentID != "" {
		// An earlier run was answered with the payment still undecided.
		// Asking again under the key would only replay that answer: what
		// Whop decided since is the payment's, read afresh. So a top-up
		// whose webhook was lost still ends (a failed payment is no paid
		// one the reconciler would find).
		p, err := t.s.whop.GetPayment(ctx, c.TopUp.PaymentID)
		if err != nil {
			return ChargeOutcome{}, fmt.Errorf("billing: top-up %s: re-read payment %s: %w", c.TopUp.ID, c.TopUp.PaymentID, err)
		}
		return t.settlePayment(ctx, c, p)
	}
	p, err := t.w.CreatePayment(ctx, whop.OffSessionPaymentParams{
		CompanyID: t.s.cfg.CompanyID, MemberID: c.TopUp.MemberID, PaymentMethodID: c.TopUp.PaymentMethodID,
		Plan: whop.InlinePlan{Currency: money.Currency(pur.Currency), InitialPrice: pur.Price, PlanType: whop.PlanOneTime},
		Metadata: map[string]string{MetaPurchaseID: pur.ID, MetaExperienceID: pur.ExperienceID, MetaUserID: pur.UserID,
			MetaPackageID: pur.PackageID, MetaTopUpID: c.TopUp.ID},
		IdempotencyKey: "creditkit:topup:" + c.TopUp.ID,
	})
	if err != nil {
		var api *whop.APIError
		if errors.As(err, &api) && refusedForGood(err) {
			// Whop refused the charge for good (the method is gone, the
			// card was declined at once): a decline like any other. A
			// credential or permission problem (401, 403) is the app's,
			// not the member's card: counted as a decline it would turn
			// off every member's rule, so the job retries it instead.
			return t.decline(ctx, c, nil, cmp.Or(api.Message, "charge refused"))
		}
		return ChargeOutcome{}, fmt.Errorf("billing: top-up %s: charge: %w", c.TopUp.ID, err)
	}
	if err := t.s.store.RecordTopUpPayment(ctx, c.TopUp.ID, p.ID); err != nil {
		return ChargeOutcome{}, err
	}
	return t.settlePayment(ctx, c, p)
}

// settlePayment settles what Whop says of a top-up's payment: paid through
// FulfilPayment, failed as a decline, still pending left charging (the job
// looks again later, unless the webhook settles it first).
func (t *TopUps) settlePayment(ctx context.Context, c ledger.TopUpCharge, p *whop.Payment) (ChargeOutcome, error) {
	pur := c.Purchase
	switch {
	case p.IsPaid():
		if p.Metadata[MetaPurchaseID] == "" {
			// Whop answered without the metadata the charge sent. The
			// payment is the top-up's all the same (made under its key, or
			// read by the id its charge recorded): without the names,
			// fulfilment would take it for none of ours, and the member,
			// charged, would not be credited.
			p = withPurchaseNames(p, pur)
		}
		out, err := t.s.fulfilPayment(ctx, p, FromTopUp, nil)
		if err != nil {
			return ChargeOutcome{}, err
		}
		if out.Ignored != "" {
			// Not reached with the purchase named; were it reached, ending
			// the job would leave the top-up charging with the member
			// charged: an error keeps it retrying, and visible.
			return ChargeOutcome{}, fmt.Errorf("billing: top-up %s: payment %s was ignored: %s", c.TopUp.ID, p.ID, out.Ignored)
		}
		if out.Rejected != "" {
			// Whop's payment does not fit the purchase (recorded as a
			// rejection): the top-up ends, so it does not stay under way and
			// block the next one.
			return t.refuse(ctx, c, p, out.Rejected)
		}
		return ChargeOutcome{Status: string(ledger.TopUpPaid), PaymentID: p.ID, Credited: out.Credited}, nil
	case p.Substatus == whop.SubstatusFailed || p.FailureMessage != "" ||
		p.Status == whop.PaymentVoid || p.Status == whop.PaymentUncollectible:
		// Failed, or ended unpaid for good: it will never be paid.
		return t.decline(ctx, c, p, cmp.Or(p.FailureMessage, "payment "+cmp.Or(string(p.Substatus), string(p.Status))))
	}
	// Pending: its webhook (or the reconciler) settles it.
	if _, err := t.s.store.MarkPurchase(ctx, pur.ID,
		ledger.PaymentState{Status: ledger.PurchaseProcessing, PaymentID: p.ID, At: p.UpdatedAt}, nil); err != nil {
		return ChargeOutcome{}, err
	}
	return ChargeOutcome{Status: string(ledger.TopUpCharging), PaymentID: p.ID}, nil
}

// refuse ends a top-up whose paid payment the app refused for why: as a
// decline, which the trigger of migration 000015 makes "refused" when the
// refusal's record says Whop charged the member. The trigger knows the
// refusal by this failure reason: "payment refused: " and why.
func (t *TopUps) refuse(ctx context.Context, c ledger.TopUpCharge, p *whop.Payment, why string) (ChargeOutcome, error) {
	// Of no payment: the refusal kept the payment's state as refused,
	// final, which orders none of its states any more; the purchase ends
	// failed as this one state says (MarkPurchase).
	return t.end(ctx, c, ledger.PaymentState{Status: ledger.PurchaseFailed, Reason: "payment refused: " + why}, p.ID)
}

// decline marks a top-up's purchase failed for reason, which ends the
// top-up (purchases_topup_outcome): declined, or refused (see refuse). The
// outcome is what the top-up became, which is paid when another path paid
// its purchase first (a paid purchase stays paid). p is the payment the
// charge made, nil when Whop refused the charge without one; its id and
// time order this state among the payment's others (MarkPurchase).
func (t *TopUps) decline(ctx context.Context, c ledger.TopUpCharge, p *whop.Payment, reason string) (ChargeOutcome, error) {
	st := ledger.PaymentState{Status: ledger.PurchaseFailed, Reason: reason}
	if p != nil {
		st.PaymentID, st.At = p.ID, p.UpdatedAt
	}
	return t.end(ctx, c, st, st.PaymentID)
}

// end records st, a failure, on a top-up's purchase, which ends the top-up
// (declined or refused, as decline says), and answers what the top-up
// became; paymentID is the charge's payment, "" when there was none.
func (t *TopUps) end(ctx context.Context, c ledger.TopUpCharge, st ledger.PaymentState, paymentID string) (ChargeOutcome, error) {
	reason := st.Reason
	if _, err := t.s.store.MarkPurchase(ctx, c.Purchase.ID, st, nil); err != nil {
		return ChargeOutcome{}, err
	}
	tu, err := t.s.store.TopUp(ctx, c.TopUp.ID)
	if err != nil {
		return ChargeOutcome{}, err
	}
	out := ChargeOutcome{Status: string(tu.Status), PaymentID: paymentID}
	if tu.Status == ledger.TopUpDeclined || tu.Status == ledger.TopUpRefused {
		out.Declined = reason
		t.s.log.WarnContext(ctx, "top-up "+string(tu.Status), "topup_id", c.TopUp.ID, "purchase_id", c.Purchase.ID, "reason", reason)
	}
	return out, nil
}

// offSession gives an off-session top-up payment, which no checkout
// configuration made, its top-up as its checkout: the top-up's purchase
// records the top-up's id there, so the fulfilment's checks hold it to
// exactly that purchase. Only Creditkit sets a payment's metadata (on its
// checkouts and its own charges), so the id cannot be borrowed.
func offSession(p *whop.Payment) *whop.Payment {
	id := p.Metadata[MetaTopUpID]
	if p.CheckoutConfigurationID != "" || !whop.ValidID(id, "tup_") {
		return p
	}
	q := *p
	q.CheckoutConfigurationID = id
	return &q
}

// topUpWorker runs a top-up's charge job.
type topUpWorker struct {
	river.WorkerDefaults[ledger.TopUpChargeJob]
	t *TopUps
}

// Work charges the top-up; an error retries it with the same key.
func (w *topUpWorker) Work(ctx context.Context, job *river.Job[ledger.TopUpChargeJob]) error {
	out, err := w.t.Charge(ctx, job.Args.TopUpID)
	if errors.Is(err, ledger.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("top-up job %d: no top-up %q", job.ID, job.Args.TopUpID))
	}
	if err == nil {
		w.t.s.log.InfoContext(ctx, "top-up charged", "topup_id", job.Args.TopUpID, "status", out.Status,
			"payment_id", out.PaymentID, "credited", out.Credited)
	}
	if err == nil && out.Status == string(ledger.TopUpCharging) {
		// Whop has not decided the payment yet: look again later (the
		// webhook, when it comes first, makes that run a no-op). Ending the
		// job here would leave the top-up under way for good if the
		// webhook were lost, blocking every later top-up of the wallet.
		return river.JobSnooze(TopUpRecheck)
	}
	return err
}

// TopUpRecheck is how long a top-up's job waits before reading an
// undecided payment again.
const TopUpRecheck = time.Minute

// Timeout bounds one charge: the Whop client's own timeout and retries fit.
func (w *topUpWorker) Timeout(*river.Job[ledger.TopUpChargeJob]) time.Duration {
	return TransferJobTimeout
}

// setupUsable checks a setup intent saved a card for user in experience,
// for the app owner's company. The metadata names whom the setup was made
// for, not who completed it: anyone given the setup's hosted page can save
// their own card with it. So Whop must name the member's user, and it must
// be the user; a setup that leaves the user out would put someone else's
// card (their member and method) behind this member's top-ups.
func (s *core) setupUsable(si *whop.SetupIntent, userID, experienceID string) bool {
	return si.Status == "succeeded" && si.Metadata[MetaSetupUserID] == userID && si.Metadata[MetaExperienceID] == experienceID &&
		si.UserID == userID && si.CompanyID == s.cfg.CompanyID &&
		whop.ValidID(si.MemberID, whop.PrefixMember) && whop.ValidID(si.PaymentMethod.ID, whop.PrefixPaymentMethod)
}

// saveSetup records the card a usable setup saved.
func (s *core) saveSetup(ctx context.Context, si *whop.SetupIntent, userID, experienceID string) error {
	exp, err := s.whop.GetExperience(ctx, experienceID)
	if err != nil {
		return fmt.Errorf("billing: setup: experience: %w", err)
	}
	_, err = s.store.SaveTopUpMethod(ctx, ledger.SavedMethod{ExperienceID: experienceID, UserID: userID,
		CompanyID: exp.CompanyID, MemberID: si.MemberID, PaymentMethodID: si.PaymentMethod.ID, SetupIntentID: si.ID,
		CardBrand: cardBrand(si.PaymentMethod.Card.Brand), CardLast4: cardLast4(si.PaymentMethod.Card.Last4)})
	return err
}

// cardBrand is the brand a saved card is shown with: Whop's ("visa",
// "mastercard", "american_express"), when it is such a word of at most 32
// letters, digits, spaces, '_' or '-'; otherwise "card". The member's page
// shows it, and text such as a direction override or markup, which a
// signed setup could carry, would show them a card that is not theirs.
func cardBrand(s string) string {
	if s == "" || len(s) > 32 {
		return "card"
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == ' ' || c == '_' || c == '-') {
			return "card"
		}
	}
	return s
}

// cardLast4 is a saved card's last four digits when they are four ASCII
// digits, "" otherwise (the card is then shown by its brand alone).
func cardLast4(s string) string {
	if len(s) != 4 {
		return ""
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return ""
		}
	}
	return s
}

// setupIntentEvent records the card of a setup_intent.succeeded webhook:
// how a card saved on Whop's hosted page (where no modal answers the app)
// reaches the member's auto top-up. The setup's metadata names the member
// and the experience it was made for; one not made by Creditkit, or not
// usable, is recorded and ignored.
func (s *core) setupIntentEvent(ctx context.Context, ev *whop.Event, d *ledger.Delivery) (Delivered, error) {
	si, err := ev.SetupIntent()
	if err != nil {
		return Delivered{}, unreadable(err)
	}
	d.ObjectID = si.ID
	user, exp := si.Metadata[MetaSetupUserID], si.Metadata[MetaExperienceID]
	switch {
	case !whop.ValidID(si.ID, whop.PrefixSetupIntent):
		return Delivered{}, malformedf("setup intent id %s is not a Whop setup intent id", quote(si.ID))
	case user == "" && exp == "":
		return describe(s.ignore(ctx, d, "not a Creditkit setup"))
	case !whop.ValidID(user, whop.PrefixUser) || !whop.ValidID(exp, whop.PrefixExperience) || !s.setupUsable(si, user, exp):
		return describe(s.ignore(ctx, d, "setup did not save a usable card"))
	}
	if err := s.saveSetup(ctx, si, user, exp); err != nil {
		return Delivered{}, err
	}
	// A repeat of this delivery racing it records nothing and says so (the
	// setup itself applies once: saveSetup).
	switch err := s.store.RecordDelivery(ctx, *d, "payment method saved"); {
	case errors.Is(err, ledger.ErrDuplicateDelivery):
		return duplicate(), nil
	case err != nil:
		return Delivered{}, err
	}
	return applied("payment method saved"), nil
}

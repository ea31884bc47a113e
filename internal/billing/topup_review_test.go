package billing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/internal/whopsim"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// refusingWhop is the sandbox, except that every off-session charge is
// answered with one Whop API error.
type refusingWhop struct {
	*whop.Client
	status int
	calls  atomic.Int32
}

func (w *refusingWhop) CreatePayment(context.Context, whop.OffSessionPaymentParams) (*whop.Payment, error) {
	w.calls.Add(1)
	return nil, &whop.APIError{StatusCode: w.status, Method: "POST", Path: "/api/v1/payments", Code: "forbidden",
		Message: "this API key may not create payments"}
}

// TestTopUpChargeForbiddenIsNotADecline: Whop answering a charge with 403
// (the app's key lacks a permission: the app's problem, not the card's) is
// no decline. The top-up stays under way for the job to retry, its
// purchase stays pending, the rule's run of declines is not counted (two
// such answers would otherwise turn off every member's rule and tell them
// their top-up failed), and once Whop lets the charge through it is paid.
func TestTopUpChargeForbiddenIsNotADecline(t *testing.T) {
	r := newTopUpRig(t)
	if err := r.notices.SetPrefs(r.ctx, r.user, r.exp, NoticePrefs{TopUpFailed: true}); err != nil {
		t.Fatal(err)
	}
	id := r.crossOnce(whopsim.CardSucceeds, 10)
	forbidden := &refusingWhop{Client: r.client, status: 403}
	out, err := NewTopUps(r.svc, forbidden).Charge(r.ctx, id)
	var api *whop.APIError
	if err == nil || !errors.As(err, &api) || api.StatusCode != 403 || forbidden.calls.Load() != 1 {
		t.Fatalf("charge answered 403 = %+v, %v; want the error back for the job to retry", out, err)
	}
	tu, _ := r.store.TopUp(r.ctx, id)
	pur, _ := r.store.Purchase(r.ctx, tu.PurchaseID)
	if tu.Status != ledger.TopUpCharging || tu.FailureReason != "" || tu.PaymentID != "" || tu.Attempts != 1 ||
		pur.Status != ledger.PurchasePending || pur.FailureReason != "" {
		t.Fatalf("after a 403: top-up %+v, purchase %+v", tu, pur)
	}
	a, err := r.topups.Settings(r.ctx, r.user, r.exp)
	if err != nil || !a.Rule.Enabled || a.Rule.DeclinesInRow != 0 {
		t.Fatalf("rule after a 403 = %+v, %v", a.Rule, err)
	}
	if n := r.count(`SELECT count(*) FROM notifications WHERE kind = 'topup_failed'`); n != 0 {
		t.Fatalf("top-up-failed notifications after a 403 = %d", n)
	}
	// The job's retry, Whop letting it through: paid once.
	out, err = r.topups.Charge(r.ctx, id)
	if err != nil || out.Status != "paid" || out.Credited != 100 || r.balance() != 140 || r.sandboxPayments(id) != 1 {
		t.Fatalf("retry = %+v, %v; balance %d", out, err, r.balance())
	}
	tu, _ = r.store.TopUp(r.ctx, id)
	if tu.Status != ledger.TopUpPaid || tu.Attempts != 2 {
		t.Fatalf("top-up after the retry = %+v", tu)
	}
}

// userlessSetupWhop is the sandbox, except that setup intents come back
// without their member's user (as a Whop answer may leave it out).
type userlessSetupWhop struct{ *whop.Client }

func (w userlessSetupWhop) GetSetupIntent(ctx context.Context, id string) (*whop.SetupIntent, error) {
	si, err := w.Client.GetSetupIntent(ctx, id)
	if si != nil {
		si.UserID = ""
	}
	return si, err
}

// TestSetupCompletedByAnotherUserIsRefused: member A starts a setup and
// member B completes it with B's card (the hosted page is a link anyone
// can open). When Whop's setup intent does not say whose member it is, the
// metadata (A) is no proof that A saved the card: recording it would make
// A's top-ups charge B's card. A's modal answer and the webhook both
// refuse it; A's wallet keeps no card.
func TestSetupCompletedByAnotherUserIsRefused(t *testing.T) {
	r := newTopUpRig(t)
	other := r.env.Seed.Members[1].ID
	w := userlessSetupWhop{r.client}
	tu := NewTopUps(r.svc, w)
	sc, err := tu.StartSetup(r.ctx, r.user, r.exp)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.env.Sim.SaveCard(whopsim.Setup{CheckoutID: sc.CheckoutID, UserID: other, Card: whopsim.CardSucceeds})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tu.SaveMethod(r.ctx, r.user, r.exp, res.ReceiptID); !errors.Is(err, ErrSetupNotUsable) {
		t.Fatalf("A saving B's setup = %v, want ErrSetupNotUsable", err)
	}
	si, err := w.GetSetupIntent(r.ctx, res.ReceiptID)
	if err != nil {
		t.Fatal(err)
	}
	if r.svc.core.setupUsable(si, r.user, r.exp) {
		t.Fatal("a setup that does not name its user is usable for the user its metadata names")
	}
	if n := r.count(`SELECT count(*) FROM topup_methods`); n != 0 {
		t.Fatalf("saved methods = %d, want none", n)
	}
}

// TestAutoTopUpAccessDecidedInBilling: a user Whop gives no access to the
// experience can neither read nor remove an auto top-up there through
// billing (the edge's check is not the only one), and asking creates
// nothing (no wallet).
func TestAutoTopUpAccessDecidedInBilling(t *testing.T) {
	r := newTopUpRig(t)
	outsider := r.env.Seed.NoAccess.ID
	if _, err := r.topups.RemoveRule(r.ctx, outsider, r.exp); !errors.Is(err, ErrNoAccess) {
		t.Fatalf("RemoveRule by an outsider = %v, want ErrNoAccess", err)
	}
	if _, err := r.topups.Settings(r.ctx, outsider, r.exp); !errors.Is(err, ErrNoAccess) {
		t.Fatalf("Settings by an outsider = %v, want ErrNoAccess", err)
	}
	if _, err := r.notices.Prefs(r.ctx, outsider, r.exp); !errors.Is(err, ErrNoAccess) {
		t.Fatalf("Prefs by an outsider = %v, want ErrNoAccess", err)
	}
	if _, err := r.notices.Recent(r.ctx, outsider, r.exp); !errors.Is(err, ErrNoAccess) {
		t.Fatalf("Recent by an outsider = %v, want ErrNoAccess", err)
	}
	if n := r.count(`SELECT count(*) FROM wallets WHERE user_id = $1`, outsider); n != 0 {
		t.Fatalf("wallets made for the outsider = %d", n)
	}
	// The member herself still may.
	if _, err := r.topups.RemoveRule(r.ctx, r.user, r.exp); err != nil {
		t.Fatal(err)
	}
	if _, err := r.notices.Recent(r.ctx, r.user, r.exp); err != nil {
		t.Fatal(err)
	}
}

// TestLateSetupDeliveryKeepsTheNewerCard: a member saves a card, then
// another in its place; the first setup's setup_intent.succeeded arrives
// only then (Whop redelivering what it could not deliver earlier). It
// changes nothing: the newer card stays, and the next top-up charges it.
func TestLateSetupDeliveryKeepsTheNewerCard(t *testing.T) {
	r := newTopUpRig(t)
	first := r.saveCard(whopsim.CardSavesThenFails)
	evs := r.env.Sim.Events()
	late := evs[len(evs)-1]
	if late.Type != whop.EventSetupIntentSucceeded || first.CardLast4 != "0341" {
		t.Fatalf("first setup: event %s, card %+v", late.Type, first)
	}
	var firstSI, newSI string
	r.pool.QueryRow(r.ctx, `SELECT setup_intent_id FROM topup_methods`).Scan(&firstSI)
	if second := r.saveCard(whopsim.CardSucceeds); second.CardLast4 != "4242" {
		t.Fatalf("second card = %+v", second)
	}
	r.pool.QueryRow(r.ctx, `SELECT setup_intent_id FROM topup_methods`).Scan(&newSI)
	if newSI == firstSI || newSI == "" {
		t.Fatalf("setup intents %q then %q", firstSI, newSI)
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(late.Body, &env); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.core.handleEvent(r.ctx, &whop.Event{ID: "msg_late_setup", Type: late.Type, Scheme: whop.SchemeStandard,
		APIVersion: "v1", CompanyID: late.CompanyID, Data: env.Data}); err != nil {
		t.Fatal(err)
	}
	var si, last4 string
	if err := r.pool.QueryRow(r.ctx, `SELECT setup_intent_id, card_last4 FROM topup_methods`).Scan(&si, &last4); err != nil {
		t.Fatal(err)
	}
	if si != newSI || last4 != "4242" || r.count(`SELECT count(*) FROM topup_methods`) != 1 {
		t.Fatalf("after the late delivery: setup %s card %s; want %s 4242", si, last4, newSI)
	}
	if n := r.count(`SELECT count(*) FROM topup_setup_intents WHERE id IN ($1, $2)`, firstSI, newSI); n != 2 {
		t.Fatalf("recorded setups = %d", n)
	}
	// The next top-up charges the newer card (the first one declines).
	r.grant(60)
	r.setRule(50, 3)
	r.spend(20)
	ids := r.topUpIDs()
	out, err := r.topups.Charge(r.ctx, ids[0])
	if err != nil || out.Status != "paid" || out.Credited != 100 || r.balance() != 140 {
		t.Fatalf("top-up after the late delivery = %+v, %v; balance %d", out, err, r.balance())
	}
}

// undecidedWhop is the sandbox, except that an off-session charge is
// answered as real Whop answers it: with the payment still pending
// (Whop decides in the background). The sandbox has decided it already;
// the webhook that would say how is never delivered here.
type undecidedWhop struct{ *whop.Client }

func (w undecidedWhop) CreatePayment(ctx context.Context, p whop.OffSessionPaymentParams) (*whop.Payment, error) {
	pay, err := w.Client.CreatePayment(ctx, p)
	if pay == nil {
		return nil, err
	}
	q := *pay
	q.Status, q.Substatus, q.FailureMessage = whop.PaymentPending, "", ""
	return &q, err
}

// TestUndecidedTopUpIsLookedAtAgain: Whop answers a top-up's charge with
// the payment pending, then declines it, and the payment.failed webhook is
// lost (the reconciler only looks for paid payments). The job does not
// end on the pending answer: it snoozes, and its next run reads the
// payment afresh (asking again under the key would only replay "pending"),
// so the top-up ends declined, credits nothing and counts against the
// rule, instead of staying under way for good and blocking every later
// top-up of the wallet. Whop is charged once.
func TestUndecidedTopUpIsLookedAtAgain(t *testing.T) {
	r := newTopUpRig(t)
	id := r.crossOnce(whopsim.CardSavesThenFails, 10)
	tu := NewTopUps(r.svc, undecidedWhop{r.client})
	w := &topUpWorker{t: tu}
	job := &river.Job[ledger.TopUpChargeJob]{JobRow: &rivertype.JobRow{ID: 1}, Args: ledger.TopUpChargeJob{TopUpID: id}}
	var snooze *river.JobSnoozeError
	if err := w.Work(r.ctx, job); !errors.As(err, &snooze) || snooze.Duration != TopUpRecheck {
		t.Fatalf("job on a pending charge = %v, want a snooze of %s", err, TopUpRecheck)
	}
	top, _ := r.store.TopUp(r.ctx, id)
	pur, _ := r.store.Purchase(r.ctx, top.PurchaseID)
	if top.Status != ledger.TopUpCharging || top.PaymentID == "" || pur.Status != ledger.PurchaseProcessing {
		t.Fatalf("after the pending answer: top-up %+v, purchase %+v", top, pur)
	}
	// The snoozed job's next run.
	if err := w.Work(r.ctx, job); err != nil {
		t.Fatalf("second run = %v", err)
	}
	top, _ = r.store.TopUp(r.ctx, id)
	pur, _ = r.store.Purchase(r.ctx, top.PurchaseID)
	if top.Status != ledger.TopUpDeclined || top.FailureReason != "Your card was declined." ||
		pur.Status != ledger.PurchaseFailed || pur.FailureReason != "Your card was declined." || top.Attempts != 2 {
		t.Fatalf("after the second run: top-up %+v, purchase %+v", top, pur)
	}
	if b := r.balance(); b != 40 || r.sandboxPayments(id) != 1 {
		t.Fatalf("balance %d, payments %d; want 40 and one charge", b, r.sandboxPayments(id))
	}
	a, err := r.topups.Settings(r.ctx, r.user, r.exp)
	if err != nil || a.Rule.DeclinesInRow != 1 || !a.Rule.Enabled {
		t.Fatalf("rule = %+v, %v", a.Rule, err)
	}
	// A third run (a duplicate) does nothing.
	if err := w.Work(r.ctx, job); err != nil || r.sandboxPayments(id) != 1 {
		t.Fatalf("third run = %v", err)
	}
}

// TestDeclinedTopUpPurchaseStaysFailed: a top-up's charge is declined;
// then a payment.pending for that same payment arrives late (webhooks come
// in any order). The top-up's purchase, made for that one payment, stays
// failed with its reason instead of showing as under way for good, and
// the top-up stays declined, counted once.
func TestDeclinedTopUpPurchaseStaysFailed(t *testing.T) {
	r := newTopUpRig(t)
	id := r.crossOnce(whopsim.CardSavesThenFails, 10)
	if out, err := r.topups.Charge(r.ctx, id); err != nil || out.Status != "declined" {
		t.Fatalf("charge = %+v, %v", out, err)
	}
	// The job's decline is recorded with its payment and Whop's time of it,
	// so the same payment's earlier states are told apart (MarkPurchase).
	top, _ := r.store.TopUp(r.ctx, id)
	var pay string
	var at time.Time
	if err := r.pool.QueryRow(r.ctx, `SELECT attempt_payment_id, attempt_at FROM purchases WHERE id = $1`, top.PurchaseID).
		Scan(&pay, &at); err != nil || pay != top.PaymentID || at.IsZero() {
		t.Fatalf("the declined top-up's purchase holds %q at %v (%v), want its payment %q and a time", pay, at, err, top.PaymentID)
	}
	var failed *whopsim.Event
	for _, ev := range r.env.Sim.Events() {
		if ev.Type == whop.EventPaymentFailed {
			failed = &ev
		}
	}
	if failed == nil {
		t.Fatal("the sandbox sent no payment.failed")
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(failed.Body, &env); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.core.handleEvent(r.ctx, &whop.Event{ID: "msg_late_pending", Type: whop.EventPaymentPending,
		Scheme: whop.SchemeStandard, APIVersion: "v1", CompanyID: failed.CompanyID, Data: env.Data}); err != nil {
		t.Fatal(err)
	}
	top, _ = r.store.TopUp(r.ctx, id)
	pur, _ := r.store.Purchase(r.ctx, top.PurchaseID)
	if pur.Status != ledger.PurchaseFailed || pur.FailureReason != "Your card was declined." ||
		top.Status != ledger.TopUpDeclined || top.FailureReason != "Your card was declined." {
		t.Fatalf("after a late payment.pending: purchase %+v, top-up %+v", pur, top)
	}
	a, err := r.topups.Settings(r.ctx, r.user, r.exp)
	if err != nil || a.Rule.DeclinesInRow != 1 || r.balance() != 40 {
		t.Fatalf("rule %+v, %v, balance %d", a.Rule, err, r.balance())
	}
}

// TestSetupDeliveryLosingARaceWithItsCopyIsADuplicate: two copies of one
// setup_intent.succeeded delivery that both got past the seen check (two
// replicas at once) save the card once; the copy whose record finds the
// other's says "duplicate", not "applied", so logs and metrics count one.
func TestSetupDeliveryLosingARaceWithItsCopyIsADuplicate(t *testing.T) {
	r := newTopUpRig(t)
	r.saveCard(whopsim.CardSucceeds)
	evs := r.env.Sim.Events()
	ev := evs[len(evs)-1]
	if ev.Type != whop.EventSetupIntentSucceeded {
		t.Fatalf("last event = %s", ev.Type)
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(ev.Body, &env); err != nil {
		t.Fatal(err)
	}
	wev := &whop.Event{ID: "msg_setup_race", Type: ev.Type, Scheme: whop.SchemeStandard, APIVersion: "v1",
		CompanyID: ev.CompanyID, Data: env.Data}
	var kinds []DeliveryKind
	for range 2 {
		d := &ledger.Delivery{ID: wev.ID, Type: wev.Type, Scheme: string(wev.Scheme), CompanyID: wev.CompanyID}
		out, err := r.svc.core.setupIntentEvent(r.ctx, wev, d)
		if err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, out.Kind)
	}
	if kinds[0] != Applied || kinds[1] != Duplicate {
		t.Fatalf("kinds = %v, want applied then duplicate", kinds)
	}
	if n := r.count(`SELECT count(*) FROM webhook_deliveries WHERE id = 'msg_setup_race' AND outcome = 'payment method saved'`); n != 1 {
		t.Fatalf("delivery rows = %d", n)
	}
	if n := r.count(`SELECT count(*) FROM topup_methods WHERE card_last4 = '4242'`); n != 1 {
		t.Fatalf("saved methods = %d", n)
	}
}

// forgetfulWhop is Whop answering a charge with answer applied to the
// payment, and every read and listing of one with read applied: without
// its metadata, say.
type forgetfulWhop struct {
	*whop.Client
	answer, read func(*whop.Payment)
}

func forgotten(p *whop.Payment, err error, forget func(*whop.Payment)) (*whop.Payment, error) {
	if p == nil {
		return nil, err
	}
	q := *p
	q.Metadata = maps.Clone(p.Metadata)
	forget(&q)
	return &q, err
}

func (w forgetfulWhop) CreatePayment(ctx context.Context, p whop.OffSessionPaymentParams) (*whop.Payment, error) {
	pay, err := w.Client.CreatePayment(ctx, p)
	return forgotten(pay, err, w.answer)
}

func (w forgetfulWhop) GetPayment(ctx context.Context, id string) (*whop.Payment, error) {
	pay, err := w.Client.GetPayment(ctx, id)
	return forgotten(pay, err, w.read)
}

func (w forgetfulWhop) ListPayments(ctx context.Context, p whop.ListPaymentsParams) iter.Seq2[*whop.Payment, error] {
	return func(yield func(*whop.Payment, error) bool) {
		for p, err := range w.Client.ListPayments(ctx, p) {
			if !yield(forgotten(p, err, w.read)) {
				return
			}
		}
	}
}

// forgetful is the rig's billing, and its top-ups, talking to a Whop that
// forgets what answer says in a charge's answer, and what read says in the
// payments it reads and lists.
func (r *topUpRig) forgetful(answer, read func(*whop.Payment)) (*Service, *TopUps) {
	w := forgetfulWhop{Client: r.client, answer: answer, read: read}
	svc := New(w, r.store, Config{CompanyID: r.env.Seed.Owner.ID, Currency: money.USD,
		Packages: []Package{{ID: "small", Credits: 100, Price: 500}, {ID: "big", Credits: 600, Price: 2500}}})
	return svc, NewTopUps(svc, w)
}

// TestTopUpAnsweredWithoutMetadataIsCredited: Whop answers a top-up's
// charge, and every read and listing of its payment, without the metadata
// the charge sent (all of it; the purchase's id alone; all of it, and the
// company in the charge's answer, which sends fulfilment to read the
// payment again). The payment
// is the top-up's (made under its key), so the job credits it, once,
// rather than taking it for none of ours and ending with the member
// charged and nothing credited; the same when the payment is read again
// after a pending answer. Refunded in full later, its credits are taken
// back by the reconciler, which finds the purchase by the payment.
func TestTopUpAnsweredWithoutMetadataIsCredited(t *testing.T) {
	noMetadata := func(p *whop.Payment) { p.Metadata = nil }
	for name, forget := range map[string][2]func(*whop.Payment){
		"all metadata":    {noMetadata, noMetadata},
		"the purchase id": {func(p *whop.Payment) { delete(p.Metadata, MetaPurchaseID) }, func(p *whop.Payment) { delete(p.Metadata, MetaPurchaseID) }},
		"metadata, and the company in the answer": {func(p *whop.Payment) { p.Metadata, p.CompanyID = nil, "" }, noMetadata},
	} {
		t.Run(name, func(t *testing.T) {
			r := newTopUpRig(t)
			id := r.crossOnce(whopsim.CardSucceeds, 3)
			svc, topups := r.forgetful(forget[0], forget[1])
			out, err := topups.Charge(r.ctx, id)
			if err != nil || out.Status != "paid" || out.Credited != 100 || out.PaymentID == "" {
				t.Fatalf("charge = %+v, %v", out, err)
			}
			tu, _ := r.store.TopUp(r.ctx, id)
			pur, _ := r.store.Purchase(r.ctx, tu.PurchaseID)
			if tu.Status != ledger.TopUpPaid || tu.PaymentID != out.PaymentID || pur.Status != ledger.PurchasePaid ||
				pur.PaymentID != out.PaymentID || r.balance() != 140 || r.sandboxPayments(id) != 1 {
				t.Fatalf("top-up %+v, purchase %+v, balance %d, payments %d", tu, pur, r.balance(), r.sandboxPayments(id))
			}
			if n := r.count(`SELECT count(*) FROM ledger_entries WHERE kind = 'purchase'`); n != 1 {
				t.Fatalf("purchase entries = %d, want 1", n)
			}
			if err := r.env.Sim.Refund(out.PaymentID, 500); err != nil {
				t.Fatal(err)
			}
			if run, err := svc.Deliveries.Reconcile(r.ctx); err != nil || run.Refunded != 1 {
				t.Fatalf("reconcile after the refund = %+v, %v", run, err)
			}
			pur, _ = r.store.Purchase(r.ctx, tu.PurchaseID)
			if r.balance() != 40 || pur.RefundedAmount != 500 || pur.RefundedCredits != 100 {
				t.Fatalf("after the refund: balance %d, purchase %+v", r.balance(), pur)
			}
		})
	}

	// The answer is pending, and the re-read, paid, comes without metadata.
	r := newTopUpRig(t)
	id := r.crossOnce(whopsim.CardSucceeds, 3)
	if out, err := NewTopUps(r.svc, undecidedWhop{r.client}).Charge(r.ctx, id); err != nil || out.Status != "charging" {
		t.Fatalf("a pending answer = %+v, %v", out, err)
	}
	_, topups := r.forgetful(noMetadata, noMetadata)
	out, err := topups.Charge(r.ctx, id)
	if err != nil || out.Status != "paid" || out.Credited != 100 || r.balance() != 140 || r.sandboxPayments(id) != 1 {
		t.Fatalf("the re-read = %+v, %v; balance %d", out, err, r.balance())
	}
}

// TestASavedCardShowsOnlyPlainBrandAndDigits: a signed setup whose card
// brand carries a direction override and markup, and whose last four are
// eight characters, saves the card (it is the member's, and usable) but
// shows it as "card", with no digits, instead of text a page would show
// as something else; a plain brand and four digits are kept.
func TestASavedCardShowsOnlyPlainBrandAndDigits(t *testing.T) {
	r := newTopUpRig(t)
	deliver := func(id, brand, last4 string) string {
		t.Helper()
		sc, err := r.topups.StartSetup(r.ctx, r.user, r.exp)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.env.Sim.SaveCard(whopsim.Setup{CheckoutID: sc.CheckoutID, UserID: r.user, Card: whopsim.CardSucceeds}); err != nil {
			t.Fatal(err)
		}
		evs := r.env.Sim.Events()
		ev := evs[len(evs)-1]
		quote := func(s string) string { b, _ := json.Marshal(s); return string(b) }
		body := strings.Replace(strings.Replace(string(ev.Body), `"brand":"visa"`, `"brand":`+quote(brand), 1),
			`"last4":"4242"`, `"last4":`+quote(last4), 1)
		if ev.Type != whop.EventSetupIntentSucceeded || body == string(ev.Body) {
			t.Fatalf("the setup event %s has no visa 4242 card to change: %s", ev.Type, ev.Body)
		}
		return r.deliver(id, ev.Type, ev.CompanyID, []byte(body))
	}
	for _, tt := range []struct{ id, brand, last4, wantBrand, wantLast4 string }{
		{"msg_c1", "vi\u202esa <i>", "12345678", "card", ""},
		{"msg_c2", "master card", "12\u00003", "master card", ""},
		{"msg_c3", "american_express", "0005", "american_express", "0005"},
	} {
		if out := deliver(tt.id, tt.brand, tt.last4); out != "payment method saved" {
			t.Fatalf("%s: delivery = %q", tt.id, out)
		}
		a, _ := r.topups.Settings(r.ctx, r.user, r.exp)
		if !a.HasMethod || a.CardBrand != tt.wantBrand || a.CardLast4 != tt.wantLast4 {
			t.Fatalf("%s: saved %q %q, want %q %q", tt.id, a.CardBrand, a.CardLast4, tt.wantBrand, tt.wantLast4)
		}
	}
}

// poisonedWhop lists, before Whop's paid payments, one that does not
// decode (an amount past whop.MaxAmount, say).
type poisonedWhop struct{ *whop.Client }

func (w poisonedWhop) ListPayments(ctx context.Context, p whop.ListPaymentsParams) iter.Seq2[*whop.Payment, error] {
	return func(yield func(*whop.Payment, error) bool) {
		if !yield(nil, &whop.ItemError{Err: fmt.Errorf("decode payment pay_poison: %w", whop.ErrAmountTooLarge)}) {
			return
		}
		for p, err := range w.Client.ListPayments(ctx, p) {
			if !yield(p, err) {
				return
			}
		}
	}
}

// TestAPaymentThatDoesNotDecodeHoldsTheSweep: a payment of the window that
// does not decode could be the very charge of a top-up whose job gave up,
// paid at Whop: the pass fails, naming it, and leaves the top-up under way
// rather than telling a member who may have been charged "not charged". A
// pass that reads every payment ends it.
func TestAPaymentThatDoesNotDecodeHoldsTheSweep(t *testing.T) {
	r := newTopUpRig(t)
	id := r.crossOnce(whopsim.CardSucceeds, 3)
	if _, err := NewTopUps(r.svc, &refusingWhop{Client: r.client, status: 503}).Charge(r.ctx, id); err == nil {
		t.Fatal("a charge Whop answered 503 did not fail")
	}
	r.discardChargeJobs()
	svc := New(poisonedWhop{r.client}, r.store, Config{CompanyID: r.env.Seed.Owner.ID, Currency: money.USD,
		Packages: []Package{{ID: "small", Credits: 100, Price: 500}}})
	run, err := svc.Deliveries.Reconcile(r.ctx)
	if err == nil || !strings.Contains(err.Error(), "1 problems") || !strings.Contains(run.Error, "pay_poison") {
		t.Fatalf("a pass with a payment that does not decode = %+v, %v; want it failed, naming it", run, err)
	}
	if tu, _ := r.store.TopUp(r.ctx, id); tu.Status != ledger.TopUpCharging || tu.FailureReason != "" {
		t.Fatalf("top-up after a pass that could not read a payment = %+v, want still charging", tu)
	}
	if _, err := r.svc.Deliveries.Reconcile(r.ctx); err != nil {
		t.Fatal(err)
	}
	if tu, _ := r.store.TopUp(r.ctx, id); tu.Status != ledger.TopUpCanceled || tu.FailureReason != ledger.TopUpJobGone {
		t.Fatalf("top-up after a whole pass = %+v, want canceled", tu)
	}
}

// unlistedWhop lists no payments: a pass that reads none (the payment Whop
// made is not in its window, say).
type unlistedWhop struct{ *whop.Client }

func (unlistedWhop) ListPayments(context.Context, whop.ListPaymentsParams) iter.Seq2[*whop.Payment, error] {
	return func(func(*whop.Payment, error) bool) {}
}

// TestATopUpWhoseJobGaveUpOnAnUndecidedPaymentSaysSo: the charge was
// answered pending (its payment recorded), and the job gave up before Whop
// decided it. A pass whose window does not hold the payment ends the
// top-up saying Whop had not decided its payment, not "not charged"; when
// Whop's payment is paid and read, the purchase is credited once and the
// top-up ends paid.
func TestATopUpWhoseJobGaveUpOnAnUndecidedPaymentSaysSo(t *testing.T) {
	r := newTopUpRig(t)
	id := r.crossOnce(whopsim.CardSucceeds, 3)
	out, err := NewTopUps(r.svc, undecidedWhop{r.client}).Charge(r.ctx, id)
	if err != nil || out.Status != "charging" || out.PaymentID == "" {
		t.Fatalf("a pending answer = %+v, %v", out, err)
	}
	r.discardChargeJobs()
	svc := New(unlistedWhop{r.client}, r.store, Config{CompanyID: r.env.Seed.Owner.ID, Currency: money.USD,
		Packages: []Package{{ID: "small", Credits: 100, Price: 500}}})
	if _, err := svc.Deliveries.Reconcile(r.ctx); err != nil {
		t.Fatal(err)
	}
	tu, _ := r.store.TopUp(r.ctx, id)
	pur, _ := r.store.Purchase(r.ctx, tu.PurchaseID)
	if tu.Status != ledger.TopUpCanceled || tu.FailureReason != ledger.TopUpJobGoneUndecided || tu.PaymentID != out.PaymentID ||
		pur.Status != ledger.PurchaseFailed || pur.FailureReason != "canceled: its charge job ended without a charge" || r.balance() != 40 {
		t.Fatalf("top-up %+v, purchase %+v, balance %d", tu, pur, r.balance())
	}
	if run, err := r.svc.Deliveries.Reconcile(r.ctx); err != nil || run.Credited != 1 {
		t.Fatalf("a pass that reads the paid payment = %+v, %v", run, err)
	}
	r.paidOnceBy(id, &whop.Payment{ID: out.PaymentID})
}

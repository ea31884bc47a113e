package billing

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/creditkit/creditkit/internal/ledger"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/testkit/pgtest"
	"github.com/creditkit/creditkit/internal/whop"
)

// Oracles for what may be stored, written apart from inbound.go.
var (
	storableText = regexp.MustCompile(`^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$`)
	printable    = regexp.MustCompile(`^[ -~]*$`)
	plainAmount  = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)
)

func assertStorable(t *testing.T, what, s string) {
	t.Helper()
	if !utf8.ValidString(s) || !storableText.MatchString(s) {
		t.Fatalf("%s %q would be stored", what, s)
	}
}

func assertID(t *testing.T, what, s, prefix string) {
	t.Helper()
	if s != "" && !regexp.MustCompile(`^`+prefix+`[0-9A-Za-z]+$`).MatchString(s) {
		t.Fatalf("%s %q accepted", what, s)
	}
}

// seedEvents adds signed-body shapes of every event the app reads, with the
// inputs the outside check used: NUL, invalid UTF-8, " " and 1e400 ids,
// payment-shaped refunds and disputes.
func seedEvents(f *testing.F) {
	payment := `{"id":"pay_6dWDN0kA5QW2hm","status":"paid","substatus":"succeeded","currency":"usd","total":4.99,` +
		`"user":{"id":"user_fuzz1"},"company":{"id":"biz_owner"},"checkout_configuration_id":"ch_fuzz1",` +
		`"metadata":{"creditkit_purchase_id":"pur_fuzz1"}}`
	for _, data := range []string{
		payment,
		strings.Replace(payment, `"pay_6dWDN0kA5QW2hm"`, `" "`, 1),
		strings.Replace(payment, `"pay_6dWDN0kA5QW2hm"`, `1e400`, 1),
		strings.Replace(payment, `"pur_fuzz1"`, `"pur_fuzz1\u0000"`, 1),
		strings.Replace(payment, `"pur_fuzz1"`, "\"pur_fuzz1\xff\"", 1),
		strings.Replace(payment, `"usd"`, `"us d"`, 1),
		strings.Replace(payment, `{"id":"user_fuzz1"}`, `{"id":"user_fuzz1","username":"ali\u0000ce"}`, 1),
	} {
		for _, typ := range []string{"payment.succeeded", "payment.failed", "refund.created", "refund.updated", "dispute.created"} {
			f.Add([]byte(`{"type":"`+typ+`","company_id":"biz_owner","data":`+data+`}`), false)
		}
		f.Add([]byte(`{"action":"payment.succeeded","api_version":"v5","company":"biz_owner","data":`+data+`}`), true)
	}
	f.Add([]byte(`{"type":"refund.created","data":{"id":"rf_1","amount":"1.5","status":"succeeded","payment":{"id":"pay_1"}}}`), false)
	f.Add([]byte(`{"type":"dispute.updated","data":{"id":"dspt_1","amount":4.99,"status":"lost","reason":"fraud\u0000","payment_id":"pay_1"}}`), false)
	f.Add([]byte(`{"type":"membership.activated","data":{"id":"mem_1","status":"active","user":{"id":"user_1\u0000"},"plan":{"id":"plan_premium"},`+
		`"metadata":{"experience_id":"exp_1\u0000","user_id":"user_1"}}}`), false)
	f.Add([]byte(`{"action":"membership.went_valid","data":{"id":"mem_1","user_id":"user_1","plan_id":"plan_premium","status":"active","valid":true}}`), true)
	f.Add([]byte(`{"type":"payment.succeeded\u0000","data":{}}`), false)
	f.Add([]byte("\xff{}"), false)
	f.Add([]byte(`["not an event"]`), false)
}

// FuzzWebhookFields decodes arbitrary signed bodies and applies the checks
// the webhook does: whatever they accept, every field the app would store
// or send back to Whop is of its kind and storable; whatever they refuse,
// the refusal record is storable printable text.
func FuzzWebhookFields(f *testing.F) {
	seedEvents(f)
	f.Fuzz(func(t *testing.T, body []byte, legacy bool) {
		del := whop.Delivery{ID: "msg_fuzz", Scheme: whop.SchemeStandard, Unix: 1_700_000_000}
		if legacy {
			del.Scheme = whop.SchemeLegacy
		}
		ev, err := del.Decode(body)
		if err != nil {
			checkRefusal(t, ledger.Delivery{ID: del.ID, Scheme: string(del.Scheme)}, malformedf("%s", err.Error()))
			return
		}
		d := ledger.Delivery{ID: ev.ID, Type: ev.Type, Scheme: string(ev.Scheme), CompanyID: ev.CompanyID}
		if err := checkEnvelope(ev); err != nil {
			checkRefusal(t, d, err)
			return
		}
		assertStorable(t, "type", ev.Type)
		assertID(t, "company", ev.CompanyID, "biz_")
		if p, err := ev.Payment(); err == nil {
			d.ObjectID = p.ID
			if err := checkPayment(p); err != nil {
				checkRefusal(t, d, err)
			} else {
				assertID(t, "payment", p.ID, "pay_")
				assertID(t, "purchase", p.Metadata[MetaPurchaseID], "pur_")
				assertID(t, "user", p.UserID, "user_")
				assertID(t, "membership", p.MembershipID, "mem_")
				for _, s := range []string{string(p.Status), string(p.Substatus), p.FailureMessage, p.PlanID, p.ProductID, p.CheckoutConfigurationID} {
					assertStorable(t, "payment field", s)
				}
				if name := buyerName(p, ledger.Purchase{UserID: p.UserID}); name != "" && !regexp.MustCompile(`^[0-9A-Za-z_.-]{1,64}$`).MatchString(name) {
					t.Fatalf("username %q would be stored", name)
				}
			}
		}
		for _, kind := range []string{"refund", "dispute"} {
			var id, payment, status, reason string
			if kind == "refund" {
				r, err := ev.Refund()
				if err != nil {
					continue
				}
				id, payment, status = r.ID, r.PaymentID, string(r.Status)
			} else {
				dp, err := ev.Dispute()
				if err != nil {
					continue
				}
				id, payment, status, reason = dp.ID, dp.PaymentID, dp.Status, dp.Reason
			}
			d.ObjectID = id
			if err := checkClaim(kind, id, payment, status, reason); err != nil {
				checkRefusal(t, d, err)
				continue
			}
			assertID(t, kind+" payment", payment, "pay_")
			if payment == "" || strings.HasPrefix(id, "pay_") || !regexp.MustCompile(`^[a-z]+_[0-9A-Za-z]+$`).MatchString(id) {
				t.Fatalf("%s %q of payment %q accepted", kind, id, payment)
			}
			for _, s := range []string{status, reason} {
				assertStorable(t, kind+" field", s)
			}
		}
		if m, err := ev.Membership(); err == nil {
			d.ObjectID = m.ID
			if err := checkMembership(m); err != nil {
				checkRefusal(t, d, err)
			} else {
				assertID(t, "membership", m.ID, "mem_")
				assertID(t, "membership user", m.UserID, "user_")
				exp, company := attribution(m)
				assertID(t, "attributed experience", exp, "exp_")
				assertID(t, "attributed company", company, "biz_")
				if !regexp.MustCompile(`^[a-z_]{0,32}$`).MatchString(string(m.Status)) {
					t.Fatalf("membership status %q accepted", m.Status)
				}
			}
		}
	})
}

// checkRefusal asserts a refusal's record is storable, printable text.
func checkRefusal(t *testing.T, d ledger.Delivery, cause error) {
	t.Helper()
	rec, outcome := refusal(d, cause)
	for _, s := range []string{rec.ID, rec.Type, rec.CompanyID, rec.ObjectID, outcome} {
		if !printable.MatchString(s) || len(s) > 600 {
			t.Fatalf("refusal record %+v %q is not printable text", rec, outcome)
		}
	}
	if !strings.HasPrefix(outcome, "refused: ") {
		t.Fatalf("outcome %q", outcome)
	}
}

// FuzzParseAmount: a payout or refund amount is accepted only as a plain
// positive decimal (no exponent, whatever its value), and then exactly.
// testdata/fuzz holds what it found: "$ 1", which the parser takes (a space
// after the dollar sign is a person's typing) and the first oracle did not.
func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"12.50", "$12.50", " 3 ", "1e2", "1E+2", "1e400", "0.001", "-5", "1\x00", "\xff", "١٢"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseAmount(s, money.USD, "amount")
		var fe *FieldError
		if err != nil {
			if !errors.As(err, &fe) || fe.Field != "amount" || n != 0 {
				t.Fatalf("parseAmount(%q) = %d, %v", s, n, err)
			}
			return
		}
		// What is left once the "$" and the spaces around it a person may
		// type are set aside must be plain digits: no sign, no exponent.
		plain := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "$"))
		if n <= 0 || !plainAmount.MatchString(plain) {
			t.Fatalf("parseAmount(%q) = %d accepted", s, n)
		}
		if again, err := money.ParseMajor(money.FormatMajor(n, money.USD), money.USD); err != nil || again != n {
			t.Fatalf("parseAmount(%q) = %d does not round-trip: %d, %v", s, n, again, err)
		}
	})
}

// fuzzWhop answers the webhook's re-reads: any payment id is a paid payment
// of no Creditkit purchase; any membership id a valid premium membership.
type fuzzWhop struct{ Whop }

func (fuzzWhop) GetPayment(_ context.Context, id string) (*whop.Payment, error) {
	return &whop.Payment{ID: id, Status: whop.PaymentPaid, Currency: money.USD, Total: 499, UserID: "user_fuzz1",
		CompanyID: "biz_owner", CheckoutConfigurationID: "ch_other"}, nil
}

func (fuzzWhop) GetMembership(_ context.Context, id string) (*whop.Membership, error) {
	return &whop.Membership{ID: id, UserID: "user_fuzz1", PlanID: "plan_premium", ProductID: "prod_premium",
		Status: whop.MembershipActive, Valid: true, UpdatedAt: time.Unix(1_700_000_000, 0)}, nil
}

// FuzzHandleDelivery sends arbitrary signed bodies through the webhook's
// use case on a real Postgres: with the database up and Whop answering,
// no body may end in an error (which the server answers 5xx, making Whop
// retry for nothing), and none may need the last line of defence (Postgres
// refusing the data): the checks must have refused it first.
func FuzzHandleDelivery(f *testing.F) {
	seedEvents(f)
	db := pgtest.New(f)
	// An insert-only River client: the shares fulfilment schedules are
	// recorded (in the delivery's transaction) and never run here.
	jobs, err := NewJobs(db.Pool, JobsConfig{Workers: 0, TestOnly: true})
	if err != nil {
		f.Fatal(err)
	}
	store := ledger.NewStore(db.Pool, ledger.WithJobs(jobs))
	ctx := context.Background()
	if _, _, err := store.CreatePurchase(ctx, ledger.NewPurchase{ID: "pur_fuzz1", UserID: "user_fuzz1", ExperienceID: "exp_fuzz1",
		CompanyID: "biz_creator", PackageID: "starter", Credits: 100, Price: 499, Currency: "usd",
		CheckoutID: "ch_fuzz1", PlanID: "plan_1"}); err != nil {
		f.Fatal(err)
	}
	s := New(fuzzWhop{}, store, Config{CompanyID: "biz_owner", Currency: money.USD, RevenueShareBasisPoints: 1000,
		Premium: PremiumConfig{ProductID: "prod_premium", PlanID: "plan_premium", MonthlyCredits: 50}})
	jobs.Register(s)
	var seq atomic.Int64
	f.Fuzz(func(t *testing.T, body []byte, legacy bool) {
		id := fmt.Sprintf("msg_fuzz%d", seq.Add(1))
		del := whop.Delivery{ID: id, Scheme: whop.SchemeStandard, Unix: 1_700_000_000}
		if legacy {
			// A legacy delivery's id is its body's digest: a repeated body
			// is a repeat, answered as such.
			del = whop.Delivery{ID: fmt.Sprintf("legacy_%x", seq.Load()), Scheme: whop.SchemeLegacy, Unix: 1_700_000_000}
		}
		res, err := s.Deliveries.Deliver(ctx, del, body)
		outcome := res.Outcome
		if err != nil {
			t.Fatalf("delivery answered with an error (a 5xx): %v", err)
		}
		if strings.Contains(outcome, "could not be stored") {
			t.Fatalf("Postgres refused what the checks let through: %s", outcome)
		}
		var stored string
		if err := db.Pool.QueryRow(ctx, `SELECT outcome FROM webhook_deliveries WHERE id = $1`, del.ID).Scan(&stored); err != nil {
			t.Fatalf("delivery %s not recorded: %v", del.ID, err)
		}
		if strings.HasPrefix(outcome, "refused: ") && stored != outcome {
			t.Fatalf("recorded %q, answered %q", stored, outcome)
		}
		if strings.HasPrefix(outcome, "refused: ") != (res.Kind == Refused) {
			t.Fatalf("outcome %q came as kind %q", outcome, res.Kind)
		}
	})
}

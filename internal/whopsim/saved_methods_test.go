package whopsim_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/internal/whopsim"
)

// TestSavedCardsAndOffSessionPayments walks Whop's saved-method flow
// through the app's client: a setup-mode checkout saves a card (the
// declining card saves nothing), the setup intent names the member and
// the method, the member's methods list it, and POST /payments charges
// it off-session, paid or declined by the card, with the request's
// metadata and the same webhook a checkout's payment sends; a repeat with
// the same key is the same payment.
func TestSavedCardsAndOffSessionPayments(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	c := whop.New(b.Seed.App.APIKey, whop.WithBaseURL(b.APIBase))
	member := b.Seed.Members[0].ID
	co, err := c.CreateSetupCheckout(ctx, whop.SetupCheckoutParams{CompanyID: b.Seed.Owner.ID,
		Metadata: map[string]string{"creditkit_setup_user_id": member}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Sim.Pay(whopsim.Purchase{CheckoutID: co.ID, UserID: member}); err == nil {
		t.Fatal("a setup checkout was paid as a purchase")
	}
	_, err = b.Sim.SaveCard(whopsim.Setup{CheckoutID: co.ID, UserID: member, Card: "4000 0000 0000 0002"})
	var apiErr *whopsim.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusPaymentRequired || apiErr.Message != "Your card was declined." {
		t.Fatalf("declining card: %v", err)
	}
	good, err := b.Sim.SaveCard(whopsim.Setup{CheckoutID: co.ID, UserID: member, Card: whopsim.CardSucceeds})
	if err != nil {
		t.Fatal(err)
	}
	bad, err := b.Sim.SaveCard(whopsim.Setup{CheckoutID: co.ID, UserID: member, Card: whopsim.CardSavesThenFails})
	if err != nil {
		t.Fatal(err)
	}
	si, err := c.GetSetupIntent(ctx, good.ReceiptID)
	if err != nil {
		t.Fatal(err)
	}
	if si.Status != "succeeded" || si.CompanyID != b.Seed.Owner.ID || si.CheckoutConfigurationID != co.ID ||
		si.UserID != member || !whop.ValidID(si.MemberID, whop.PrefixMember) ||
		!whop.ValidID(si.PaymentMethod.ID, whop.PrefixPaymentMethod) || si.PaymentMethod.Type != "card" ||
		si.PaymentMethod.Card != (whop.Card{Brand: "visa", Last4: "4242"}) || si.Metadata["creditkit_setup_user_id"] != member {
		t.Fatalf("setup intent = %+v", si)
	}
	siBad, err := c.GetSetupIntent(ctx, bad.ReceiptID)
	if err != nil {
		t.Fatal(err)
	}
	if siBad.MemberID != si.MemberID {
		t.Fatalf("one user, one company: two members %s and %s", si.MemberID, siBad.MemberID)
	}
	methods, err := c.ListPaymentMethods(ctx, si.MemberID)
	if err != nil {
		t.Fatal(err)
	}
	if len(methods) != 2 || methods[0].ID != siBad.PaymentMethod.ID || methods[1].ID != si.PaymentMethod.ID ||
		methods[0].Card.Last4 != "0341" {
		t.Fatalf("methods = %+v", methods)
	}
	charge := func(method, key string) (*whop.Payment, error) {
		return c.CreatePayment(ctx, whop.OffSessionPaymentParams{CompanyID: b.Seed.Owner.ID, MemberID: si.MemberID,
			PaymentMethodID: method, Plan: whop.InlinePlan{Currency: money.USD, InitialPrice: 500},
			Metadata: map[string]string{"creditkit_topup_id": key}, IdempotencyKey: key})
	}
	before := len(b.Sim.Events())
	paid, err := charge(si.PaymentMethod.ID, "tup_one")
	if err != nil {
		t.Fatal(err)
	}
	if !paid.IsPaid() || paid.Total != 500 || paid.Currency != money.USD || paid.UserID != member ||
		paid.CompanyID != b.Seed.Owner.ID || paid.CheckoutConfigurationID != "" || paid.Metadata["creditkit_topup_id"] != "tup_one" {
		t.Fatalf("paid = %+v", paid)
	}
	again, err := charge(si.PaymentMethod.ID, "tup_one")
	if err != nil || again.ID != paid.ID {
		t.Fatalf("repeat with the key = %v, %v; want %s", again, err, paid.ID)
	}
	declined, err := charge(siBad.PaymentMethod.ID, "tup_two")
	if err != nil {
		t.Fatal(err)
	}
	if declined.IsPaid() || declined.Substatus != whop.SubstatusFailed || declined.FailureMessage != "Your card was declined." {
		t.Fatalf("declined = %+v", declined)
	}
	evs := b.Sim.Events()[before:]
	if len(evs) != 2 || evs[0].Type != "payment.succeeded" || evs[1].Type != "payment.failed" {
		t.Fatalf("events = %+v", evs)
	}
	got, err := c.GetPayment(ctx, paid.ID)
	if err != nil || got.Metadata["creditkit_topup_id"] != "tup_one" {
		t.Fatalf("read back = %+v, %v", got, err)
	}
	// Another member's method, or no such one, is a 404.
	if _, err := c.CreatePayment(ctx, whop.OffSessionPaymentParams{CompanyID: b.Seed.Owner.ID, MemberID: si.MemberID,
		PaymentMethodID: "payt_nope", Plan: whop.InlinePlan{Currency: money.USD, InitialPrice: 500},
		IdempotencyKey: "k3"}); !errors.Is(err, whop.ErrNotFound) {
		t.Fatalf("unknown method: %v", err)
	}
}

// TestNotificationsAPI: POST /notifications answers {"success": true} and
// the sandbox records it for the named users, with the deep link; it
// refuses what Whop refuses, and the Idempotency-Key makes a repeat one.
func TestNotificationsAPI(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	c := whop.New(b.Seed.App.APIKey, whop.WithBaseURL(b.APIBase))
	alice, bob := b.Seed.Members[0].ID, b.Seed.Members[1].ID
	exp := b.Seed.Creator.ExperienceID
	p := whop.NotificationParams{Title: "Your credits arrived", Content: "100 credits", ExperienceID: exp,
		UserIDs: []string{alice}, RestPath: "/activity", IdempotencyKey: "n1"}
	for range 2 {
		if err := c.SendNotification(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	got := b.Sim.Notifications(alice)
	if len(got) != 1 {
		t.Fatalf("alice's notifications = %+v", got)
	}
	n := got[0]
	if n.Title != p.Title || n.Content != p.Content || n.ExperienceID != exp || n.RestPath != "/activity" ||
		n.DeepLink != "/experiences/"+exp+"/activity" || len(n.UserIDs) != 1 || n.UserIDs[0] != alice ||
		!n.CreatedAt.Equal(start) {
		t.Fatalf("notification = %+v", n)
	}
	if len(b.Sim.Notifications(bob)) != 0 {
		t.Fatal("bob got alice's notification")
	}
	for _, bad := range []whop.NotificationParams{
		{Title: "x", Content: "y", ExperienceID: exp, UserIDs: []string{b.Seed.NoAccess.ID}, IdempotencyKey: "n2"},
		{Title: "x", Content: "y", ExperienceID: "exp_nope", IdempotencyKey: "n3"},
	} {
		if err := c.SendNotification(ctx, bad); !errors.Is(err, whop.ErrBadRequest) && !errors.Is(err, whop.ErrNotFound) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if st, body, _ := b.do("POST", "/api/v1/notifications", `{"title":"x","content":"y"}`, "Authorization", "Bearer "+b.Seed.App.APIKey); st != http.StatusBadRequest {
		t.Errorf("no audience: %d %v", st, body)
	}
}

// TestHostedSetupPage: a setup configuration's purchase_url opens a page
// that saves the chosen test card for the signed-in user and sends them
// back to the configuration's redirect_url; the declining card stays with
// the decline.
func TestHostedSetupPage(t *testing.T) {
	b := setup(t)
	ctx := context.Background()
	c := whop.New(b.Seed.App.APIKey, whop.WithBaseURL(b.APIBase))
	if err := b.Sim.SelectUser(b.Seed.Members[0].ID); err != nil {
		t.Fatal(err)
	}
	co, err := c.CreateSetupCheckout(ctx, whop.SetupCheckoutParams{CompanyID: b.Seed.Owner.ID,
		RedirectURL: "https://app.example/back", Metadata: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	if co.PurchaseURL != b.URL+"/checkout?session="+co.ID {
		t.Fatalf("purchase_url = %q", co.PurchaseURL)
	}
	res, err := http.Get(co.PurchaseURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(page), "Save a payment method") || !strings.Contains(string(page), "@alice") {
		t.Fatalf("page: %d %s", res.StatusCode, page)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(card string) (*http.Response, string) {
		res, err := noFollow.PostForm(b.URL+"/checkout", url.Values{"session": {co.ID}, "card": {card}})
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res, string(body)
	}
	if res, body := post(whopsim.CardDeclines); res.StatusCode != http.StatusOK || !strings.Contains(body, "Your card was declined.") || !strings.Contains(body, "Save card") {
		t.Fatalf("declining card: %d %s", res.StatusCode, body)
	}
	if n := len(b.Sim.Events()); n != 0 {
		t.Fatalf("a declined setup sent %d events", n)
	}
	res, _ = post(whopsim.CardSucceeds)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "https://app.example/back" {
		t.Fatalf("saving: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	evs := b.Sim.Events()
	if len(evs) != 1 || evs[0].Type != "setup_intent.succeeded" || !strings.Contains(string(evs[0].Body), `"k":"v"`) {
		t.Fatalf("events = %+v", evs)
	}
	if res, err := http.Get(b.URL + "/checkout?session=ch_nope"); err != nil || res.StatusCode != 404 {
		t.Fatalf("unknown session: %v %v", res, err)
	}
}

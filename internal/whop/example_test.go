package whop_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/whop"
)

// A client pointed at a local Whop (here a stub standing in for the
// sandbox) charges a user by creating a checkout configuration with an
// inline plan, then reads the payment the iframe reports back.
func ExampleNew() {
	stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/checkout_configurations":
			fmt.Fprint(w, `{"id":"ch_1","plan":{"id":"plan_1"},"metadata":{"purchase_id":"pur_1"}}`)
		case "/api/v1/payments/pay_1":
			fmt.Fprint(w, `{"id":"pay_1","status":"paid","substatus":"succeeded","currency":"usd","total":4.99,"user":{"id":"user_1"},"metadata":{"purchase_id":"pur_1"}}`)
		}
	}))
	defer stub.Close()

	client := whop.New("apik_example", whop.WithBaseURL(stub.URL+"/api/v1"), whop.WithAppID("app_example"))
	ctx := context.Background()
	cfg, err := client.CreateCheckoutConfiguration(ctx, whop.CheckoutConfigurationParams{
		CompanyID:      "biz_example",
		Plan:           &whop.InlinePlan{Currency: money.USD, InitialPrice: 499},
		Metadata:       map[string]string{"purchase_id": "pur_1"},
		IdempotencyKey: "charge-pur_1",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("inAppPurchase:", cfg.ID, cfg.PlanID)

	pay, err := client.GetPayment(ctx, "pay_1")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(pay.ID, pay.IsPaid(), pay.TotalAmount(), pay.Metadata["purchase_id"])
	// Output:
	// inAppPurchase: ch_1 plan_1
	// pay_1 true $4.99 pur_1
}

// A webhook handler verifies the delivery before reading anything from it.
func ExampleWebhookVerifier_Verify() {
	const secret = "ws_example_secret"
	body := []byte(`{"type":"payment.succeeded","company_id":"biz_1","data":{"id":"pay_1","total":4.99,"currency":"usd"}}`)
	sent := time.Unix(1735689600, 0)

	// What Whop sends (the sandbox signs the same way).
	header := http.Header{}
	whop.SetStandardHeaders(header, secret, "msg_1", sent, body)

	verifier := whop.NewWebhookVerifier(secret, whop.WithWebhookClock(func() time.Time { return sent.Add(2 * time.Second) }))
	event, err := verifier.Verify(header, body)
	if err != nil {
		fmt.Println("reject:", err) // answer 401; Whop will retry
		return
	}
	if event.Type == whop.EventPaymentSucceeded {
		pay, err := event.Payment()
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(event.ID, event.CompanyID, pay.ID, pay.TotalAmount())
	}

	body[10] = 'X' // any change breaks the signature
	_, err = verifier.Verify(header, body)
	fmt.Println(err)
	// Output:
	// msg_1 biz_1 pay_1 $4.99
	// whop: webhook signature invalid
}

// Middleware verifies the x-whop-user-token of each request. In production
// the keys come from Whop's JWKS; here a static key stands in for it.
func ExampleTokenVerifier_Verify() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	publicPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))

	verifier, err := whop.NewTokenVerifier("app_example", whop.WithStaticKey(publicPEM))
	if err != nil {
		fmt.Println(err)
		return
	}
	raw, _ := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"iss": whop.TokenIssuer, "aud": "app_example", "sub": "user_1",
		"exp": time.Now().Add(time.Minute).Unix(),
	}).SignedString(key)

	req := httptest.NewRequest(http.MethodGet, "/experiences/exp_1", nil)
	req.Header.Set(whop.HeaderUserToken, raw)
	tok, err := verifier.Verify(req.Context(), req.Header.Get(whop.HeaderUserToken))
	if err != nil {
		fmt.Println("401:", err)
		return
	}
	fmt.Println(tok.UserID, tok.AppID)

	_, err = verifier.Verify(req.Context(), "")
	fmt.Println(err)
	// Output:
	// user_1 app_example
	// whop: user token missing
}

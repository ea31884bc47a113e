package whopsim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/creditkit/creditkit/internal/testkit/browsertest"
	"github.com/creditkit/creditkit/internal/whop"
	"github.com/creditkit/creditkit/internal/whopsim"
	"github.com/creditkit/creditkit/internal/whopsim/whopsimtest"
	"github.com/creditkit/creditkit/static"
)

// standInPage is the app's side of the test: the official SDK bundle from
// the app's static files, told to trust the test's parent origin, and a
// button that charges and calls inAppPurchase.
var standInPage = template.Must(template.New("app").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>stand-in app</title>
<style>body{font:15px system-ui;margin:24px} :root[data-theme=dark] body{background:#111;color:#eee}</style></head>
<body>
<h1>Stand-in app</h1>
<p id="who">{{.Who}}</p>
<button id="buy">Buy 100 credits</button>
<pre id="result">no purchase yet</pre>
<script src="/static/dist/whop-iframe.js"></script>
<script>
const sdk = window.WhopIframe.createSdk({ appId: {{.AppID}}, overrideParentOrigins: [{{.Parent}}] });
document.documentElement.addEventListener("frosted-ui:set-theme", (e) => {
  if (e.detail && e.detail.appearance) document.documentElement.dataset.theme = e.detail.appearance;
});
document.getElementById("buy").onclick = async () => {
  document.getElementById("result").textContent = "waiting";
  const charge = await (await fetch("/charge", { method: "POST" })).json();
  const res = await sdk.inAppPurchase({ planId: charge.planId, id: charge.id });
  document.getElementById("result").textContent = JSON.stringify(res);
};
</script></body></html>`))

// standInApp serves the page above, verifying the relay's token the way
// the real app does, and charges through the sandbox's API.
func standInApp(t *testing.T, env **whopsimtest.Env) http.Handler {
	var once sync.Once
	var verifier *whop.TokenVerifier
	mux := http.NewServeMux()
	mux.Handle("/static/", http.StripPrefix("/static/", http.FileServerFS(static.FS)))
	mux.HandleFunc("GET /experiences/{id}", func(w http.ResponseWriter, r *http.Request) {
		e := *env
		once.Do(func() { verifier, _ = whop.NewTokenVerifier(e.Seed.App.ID, whop.WithJWKSURL(e.JWKSURL)) })
		who := "no verified token"
		if tok, err := verifier.Verify(r.Context(), r.Header.Get(whop.HeaderUserToken)); err == nil {
			who = "token verified for " + tok.UserID
		}
		standInPage.Execute(w, map[string]string{"Who": who, "AppID": e.Seed.App.ID, "Parent": e.URL})
	})
	mux.HandleFunc("POST /charge", func(w http.ResponseWriter, r *http.Request) {
		e := *env
		body := fmt.Sprintf(`{"plan":{"company_id":%q,"currency":"usd","initial_price":4.99,"plan_type":"one_time"},
			"metadata":{"purchase_id":"pur_browser"}}`, e.Seed.Owner.ID)
		req, _ := http.NewRequestWithContext(r.Context(), "POST", e.APIBase+"/checkout_configurations", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.Seed.App.APIKey)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		defer res.Body.Close()
		var co struct {
			ID   string `json:"id"`
			Plan struct {
				ID string `json:"id"`
			} `json:"plan"`
		}
		json.NewDecoder(res.Body).Decode(&co)
		json.NewEncoder(w).Encode(map[string]string{"id": co.ID, "planId": co.Plan.ID})
	})
	return mux
}

func TestBrowserPurchaseThroughTheParentPage(t *testing.T) {
	ctx := browsertest.New(t)
	hook := whopsimtest.NewReceiver(t)
	var env *whopsimtest.Env
	env = whopsimtest.Start(t, whopsimtest.Config{App: standInApp(t, &env),
		Options: whopsim.Options{PaymentDelay: -1, WebhookURL: hook.URL}})
	alice := env.Seed.Members[0].ID

	if err := chromedp.Do(ctx, chromedp.Navigate(env.URL+"/?user="+alice+"&path=/experiences/"+env.Seed.Creator.ExperienceID)); err != nil {
		t.Fatal(err)
	}
	frame := browsertest.Frame(t, ctx, env.RelayURL+"/experiences/", 15*time.Second)
	browsertest.WaitText(t, frame, "#who", "token verified for "+alice, 15*time.Second)

	buy := func() {
		t.Helper()
		if err := chromedp.Do(frame, chromedp.Evaluate[chromedp.Void](`document.getElementById("buy").click()`)); err != nil {
			t.Fatal(err)
		}
		browsertest.WaitText(t, ctx, "[data-testid=whopsim-checkout-price]", "4.99", 15*time.Second)
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("[data-testid=whopsim-pay]"))); err != nil {
			t.Fatal(err)
		}
	}
	result := func() map[string]any {
		t.Helper()
		raw := browsertest.WaitText(t, frame, "#result", `"status"`, 15*time.Second)
		var out map[string]any
		if err := json.Unmarshal([]byte(raw), &out); err != nil {
			t.Fatalf("result %q: %v", raw, err)
		}
		return out
	}
	click := func(testid string) {
		t.Helper()
		browsertest.Click(t, ctx, "[data-testid="+testid+"]", 10*time.Second)
	}

	// Pay: the SDK resolves with camelCase sessionId and receiptId.
	buy()
	browsertest.WaitText(t, ctx, "[data-testid=whopsim-checkout-user]", "@alice", 5*time.Second)
	browsertest.Screenshot(t, ctx, "modal-light")
	// The open modal covers the theme button, so press it from script.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("whopsim-theme").click()`)); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "modal-dark")
	click("whopsim-pay")
	res := result()
	data, _ := res["data"].(map[string]any)
	receipt, _ := data["receiptId"].(string)
	if res["status"] != "ok" || !strings.HasPrefix(receipt, "pay_") || !strings.HasPrefix(fmt.Sprint(data["sessionId"]), "ch_") {
		t.Fatalf("inAppPurchase resolved with %v, want {status: ok, data: {sessionId, receiptId}}", res)
	}
	b := &bundle{Env: env, t: t}
	fields(t, b.mustAPI("GET", "/api/v1/payments/"+receipt, nil), map[string]string{"status": "paid",
		"user.id": alice, "metadata.purchase_id": "pur_browser", "checkout_configuration_id": fmt.Sprint(data["sessionId"])})
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := env.Sim.WaitIdle(wctx); err != nil {
		t.Fatal(err)
	}
	if got := hook.Deliveries(); len(got) != 1 || !strings.Contains(string(got[0].Body), receipt) {
		t.Errorf("webhook deliveries = %d, want payment.succeeded for %s", len(got), receipt)
	}

	// Decline and Close answer errors, and the modal goes away.
	buy()
	click("whopsim-decline")
	if res := result(); res["status"] != "error" || res["error"] != "Your card was declined." {
		t.Errorf("decline resolved with %v", res)
	}
	buy()
	click("whopsim-close")
	if res := result(); res["status"] != "error" || !strings.Contains(fmt.Sprint(res["error"]), "closed") {
		t.Errorf("close resolved with %v", res)
	}
	hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("[data-testid=whopsim-checkout]").hidden`))
	if err != nil || !hidden {
		t.Errorf("the modal is still open after Close (%v)", err)
	}

	// The dark theme reached the app through onColorThemeChange.
	theme, _ := chromedp.Run(frame, chromedp.Evaluate[string](`document.documentElement.dataset.theme || ""`))
	if theme != "dark" {
		t.Errorf("the app's theme = %q, want dark after the parent switched", theme)
	}
	methods := map[string]bool{}
	for _, m := range env.Sim.Messages() {
		methods[m.Method] = true
	}
	for _, m := range []string{"getColorTheme", "onHrefChange", "inAppPurchase"} {
		if !methods[m] {
			t.Errorf("the parent never answered %s (answered %v)", m, methods)
		}
	}
	// The sandbox's own controls list the delivery.
	click("whopsim-controls-toggle")
	browsertest.WaitText(t, ctx, "[data-testid=whopsim-deliveries]", "payment.succeeded", 10*time.Second)
	browsertest.Screenshot(t, ctx, "controls")

	for _, c := range []context.Context{ctx, frame} {
		if errs := browsertest.ConsoleErrors(c); len(errs) > 0 {
			t.Errorf("console errors: %v", errs)
		}
	}
}

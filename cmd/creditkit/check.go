package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/creditkit/creditkit/internal/config"
	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/whop"
)

// checkTimeout bounds each of the preflight's network calls, so an
// unreachable host is a ✗ line, not a hang.
const checkTimeout = 10 * time.Second

// webhookSecretShape is what Whop issues: "ws_" and hex digits (64 seen),
// or the "whsec_" + base64 form some of its docs show. Compiled when the
// preflight first asks, not in every process's start (its counted
// repetitions make it the costliest thing this package's start did).
var webhookSecretShape = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(ws_[0-9a-f]{32,}|whsec_[A-Za-z0-9+/]{24,}={0,2})$`)
})

// checkCmd is `creditkit check`: the configuration serve would use, tried
// against Whop and Postgres, one ✓ or ✗ line per check with what to do
// about a ✗. It only reads: nothing at Whop or in the database changes.
func checkCmd(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(getenv, stderr)
	if err != nil {
		return err
	}
	p := &preflight{cfg: cfg, out: stdout}
	p.whop = whop.New(cfg.Whop.APIKey, whop.WithBaseURL(cfg.Whop.BaseURL), whop.WithAppID(cfg.Whop.AppID),
		whop.WithAPIVersionDate(cfg.Whop.APIVersionDate), whop.WithRetry(1, 200*time.Millisecond))
	fmt.Fprintf(stdout, "Checking Creditkit against Whop at %s (Api-Version-Date %s) and Postgres\n\n",
		cfg.Whop.BaseURL, cfg.Whop.APIVersionDate)
	if p.checkKeyAndApp(ctx) {
		if p.checkCompany(ctx) {
			p.checkLedger(ctx)
			p.checkPremium(ctx)
		} else {
			p.skip("ledger account and premium", "not checked: they belong to WHOP_COMPANY_ID, which needs fixing first")
		}
	}
	p.checkUserTokenKeys(ctx)
	p.checkWebhookSecret()
	p.checkAppURL(ctx)
	p.checkDatabase(ctx)
	if p.failed > 0 {
		fmt.Fprintf(stdout, "\n%d of %d checks failed.\n", p.failed, p.ran)
		return exitError{fmt.Errorf("%d checks failed", p.failed)}
	}
	fmt.Fprintf(stdout, "\nAll %d checks passed.\n", p.ran)
	return nil
}

// preflight runs the checks and prints their lines.
type preflight struct {
	cfg         *config.Config
	whop        *whop.Client
	out         io.Writer
	app         *whop.App
	ran, failed int
}

func (p *preflight) pass(name, detail string) {
	p.ran++
	fmt.Fprintf(p.out, "✓ %s: %s\n", name, detail)
}

func (p *preflight) fail(name, detail, fix string) {
	p.ran++
	p.failed++
	fmt.Fprintf(p.out, "✗ %s: %s\n    → %s\n", name, detail, fix)
}

func (p *preflight) skip(name, detail string) { fmt.Fprintf(p.out, "– %s: %s\n", name, detail) }

func (p *preflight) timeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, checkTimeout)
}

// checkKeyAndApp asks Whop for WHOP_APP_ID with the key: a refused key is
// the key's problem; an app the key cannot see is another app's id. It
// reports whether the key works, so the other Whop checks are worth running.
func (p *preflight) checkKeyAndApp(ctx context.Context) bool {
	ctx, cancel := p.timeout(ctx)
	defer cancel()
	id := p.cfg.Whop.AppID
	app, err := p.whop.GetApp(ctx, id)
	switch {
	case errors.Is(err, whop.ErrUnauthorized):
		p.fail("WHOP_API_KEY", "Whop refused the key (401)",
			"copy the app's API key again from Whop's developer dashboard (your app → API key); a company key or a revoked key is refused")
		p.skip("Whop checks", "not run: they need an accepted API key")
		return false
	case err != nil && !errors.Is(err, whop.ErrNotFound) && !errors.Is(err, whop.ErrForbidden):
		p.fail("WHOP_API_KEY", "Whop did not answer: "+err.Error(),
			"check WHOP_BASE_URL ("+p.cfg.Whop.BaseURL+") and that this machine can reach it")
		p.skip("Whop checks", "not run: Whop did not answer")
		return false
	}
	p.pass("WHOP_API_KEY", "accepted by Whop")
	switch {
	case errors.Is(err, whop.ErrNotFound):
		p.fail("WHOP_APP_ID", id+" is not the key's app: Whop shows an app key only its own app",
			"set WHOP_APP_ID to the id of the app WHOP_API_KEY belongs to, or use that app's key (developer dashboard)")
	case errors.Is(err, whop.ErrForbidden):
		p.fail("WHOP_APP_ID", "Whop would not show "+id+" to the key (403)",
			"check that WHOP_APP_ID is this key's app; reading the app needs the developer:manage_api_key permission")
	case app.ID != id:
		p.fail("WHOP_APP_ID", "Whop answered for "+app.ID+", not "+id, "set WHOP_APP_ID to "+app.ID)
	default:
		p.app = app
		p.pass("WHOP_APP_ID", fmt.Sprintf("%s is the key's app (%q)", id, app.Name))
	}
	return true
}

// checkCompany reads the owner company and, when the app is known, that it
// owns the app. It reports whether both hold, so what belongs to the
// company is checked only against the right one.
func (p *preflight) checkCompany(ctx context.Context) bool {
	ctx, cancel := p.timeout(ctx)
	defer cancel()
	id := p.cfg.Whop.CompanyID
	c, err := p.whop.GetCompany(ctx, id)
	switch {
	case errors.Is(err, whop.ErrNotFound):
		p.fail("WHOP_COMPANY_ID", "Whop has no company "+id,
			"set WHOP_COMPANY_ID to the company that owns the app: the biz_… in the URL of its dashboard")
		return false
	case err != nil:
		p.fail("WHOP_COMPANY_ID", "could not read "+id+": "+err.Error(),
			"give the API key the company:basic:read permission, or check the id")
		return false
	case p.app != nil && p.app.CompanyID != "" && p.app.CompanyID != id:
		p.fail("WHOP_COMPANY_ID", fmt.Sprintf("%s (%s) exists but does not own the app; %s does", id, c.Title, p.app.CompanyID),
			"set WHOP_COMPANY_ID="+p.app.CompanyID+": in-app payments go to the company that owns the app")
		return false
	}
	p.pass("WHOP_COMPANY_ID", fmt.Sprintf("%s (%s) owns the app", id, c.Title))
	return true
}

func (p *preflight) checkLedger(ctx context.Context) {
	ctx, cancel := p.timeout(ctx)
	defer cancel()
	acct, err := p.whop.GetLedgerAccount(ctx, p.cfg.Whop.CompanyID)
	if err != nil {
		p.fail("ledger account", "Whop would not show the company's balance: "+err.Error(),
			"give the API key the company:balance:read permission: payouts and revenue shares check the balance before sending")
		return
	}
	var bal int64
	for _, b := range acct.Balances {
		if b.Currency == p.cfg.Currency {
			bal = b.Balance
		}
	}
	p.pass("ledger account", fmt.Sprintf("%s readable, %s available (payouts and revenue shares draw on it)",
		acct.ID, money.Amount{Minor: bal, Currency: p.cfg.Currency}))
}

// checkPremium reads the premium product and plan and that both belong to
// the owner company (and the plan to the product).
func (p *preflight) checkPremium(ctx context.Context) {
	pr := p.cfg.Premium
	if !pr.Enabled() {
		p.skip("premium", "not configured (PREMIUM_PRODUCT_ID and PREMIUM_PLAN_ID unset): the upgrade is hidden")
		return
	}
	owner := p.cfg.Whop.CompanyID
	ctx, cancel := p.timeout(ctx)
	defer cancel()
	prod, err := p.whop.GetProduct(ctx, pr.ProductID)
	switch {
	case err != nil:
		p.fail("PREMIUM_PRODUCT_ID", "could not read "+pr.ProductID+": "+err.Error(),
			"set PREMIUM_PRODUCT_ID to the premium product of "+owner+" (prod_…), readable with access_pass:basic:read")
	case prod.CompanyID != owner:
		p.fail("PREMIUM_PRODUCT_ID", fmt.Sprintf("%s belongs to %s, not to WHOP_COMPANY_ID %s", pr.ProductID, prod.CompanyID, owner),
			"use a product of the company that owns the app: members buy premium from it")
	default:
		p.pass("PREMIUM_PRODUCT_ID", fmt.Sprintf("%s (%s) belongs to %s", pr.ProductID, prod.Title, owner))
	}
	plan, err := p.whop.GetPlan(ctx, pr.PlanID)
	switch {
	case err != nil:
		p.fail("PREMIUM_PLAN_ID", "could not read "+pr.PlanID+": "+err.Error(),
			"set PREMIUM_PLAN_ID to a plan of the premium product (plan_…), readable with plan:basic:read")
	case plan.CompanyID != owner:
		p.fail("PREMIUM_PLAN_ID", fmt.Sprintf("%s belongs to %s, not to WHOP_COMPANY_ID %s", pr.PlanID, plan.CompanyID, owner),
			"use a plan of the owner company's premium product")
	case plan.ProductID != "" && plan.ProductID != pr.ProductID:
		p.fail("PREMIUM_PLAN_ID", fmt.Sprintf("%s is a plan of %s, not of PREMIUM_PRODUCT_ID %s", pr.PlanID, plan.ProductID, pr.ProductID),
			"use a plan of the premium product")
	default:
		p.pass("PREMIUM_PLAN_ID", fmt.Sprintf("%s is a plan of %s", pr.PlanID, pr.ProductID))
	}
}

func (p *preflight) checkUserTokenKeys(ctx context.Context) {
	name, where := "WHOP_USER_TOKEN_JWKS_URL", p.cfg.Whop.JWKSURL
	opts := []whop.TokenOption{whop.WithJWKSURL(where), whop.WithTokenHTTPClient(&http.Client{Timeout: checkTimeout})}
	if p.cfg.Whop.PublicKey != "" {
		name, where = "WHOP_USER_TOKEN_PUBLIC_KEY", "the static key"
		opts = []whop.TokenOption{whop.WithStaticKey(p.cfg.Whop.PublicKey)}
	}
	v, err := whop.NewTokenVerifier(p.cfg.Whop.AppID, opts...)
	if err != nil {
		p.fail(name, err.Error(), "set a P-256 public key as PEM or JWK, or unset it to use Whop's JWKS")
		return
	}
	ctx, cancel := p.timeout(ctx)
	defer cancel()
	n, err := v.SigningKeys(ctx)
	if err != nil {
		p.fail(name, "no ES256 key from "+where+": "+err.Error(),
			"Whop's key set is "+config.DefaultJWKSURL+"; check the URL and that this machine can reach it")
		return
	}
	p.pass(name, fmt.Sprintf("%d ES256 key(s) from %s: member tokens can be verified", n, where))
}

func (p *preflight) checkWebhookSecret() {
	s := p.cfg.Whop.WebhookSecret
	if !webhookSecretShape().MatchString(s) {
		// Never print the secret; its length and start say enough.
		p.fail("WHOP_WEBHOOK_SECRET", fmt.Sprintf("does not have the shape Whop issues (%d characters, starting %q)", len(s), prefixOf(s)),
			"copy the secret exactly as the webhook's page in Whop's dashboard shows it: ws_ followed by hex digits")
		return
	}
	p.pass("WHOP_WEBHOOK_SECRET", "has the shape Whop issues ("+prefixOf(s)+"…)")
}

func prefixOf(s string) string {
	if i := strings.IndexByte(s, '_'); i > 0 && i < 8 {
		return s[:i+1]
	}
	return ""
}

func (p *preflight) checkAppURL(ctx context.Context) {
	u := p.cfg.AppURL
	if u == "" {
		p.skip("APP_URL", "not set: members who pay on Whop's checkout page stay there (their credits still arrive)")
		return
	}
	ctx, cancel := p.timeout(ctx)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u+"/healthz", nil)
	res, err := (&http.Client{Timeout: checkTimeout}).Do(req)
	if err != nil {
		p.fail("APP_URL", u+"/healthz did not answer: "+err.Error(),
			"deploy the app there first, or point Whop's base URL and APP_URL at where it runs")
		return
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		p.fail("APP_URL", fmt.Sprintf("%s/healthz answered %d", u, res.StatusCode), "make APP_URL the origin the app is served at")
		return
	}
	note := ""
	if strings.HasPrefix(u, "http://") {
		note = " (plain http: local only; Whop needs https)"
	}
	p.pass("APP_URL", u+"/healthz answers"+note)
}

package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/creditkit/creditkit/internal/config"
	"github.com/joho/godotenv"
)

var (
	sandboxEnv = []string{"WHOP_API_KEY=apik_sim", "WHOP_APP_ID=app_sim", "PREMIUM_PLAN_ID=plan_sim"}
	fixedEnv   = []string{"PORT=3000", "APP_ENV=development"}
)

func noShell(string) (string, bool) { return "", false }

// TestCopiedEnvExampleKeepsTheDemo is `cp .env.example .env && make dev`:
// the example's empty values leave make dev's demo settings on, and the
// report says where each value came from.
func TestCopiedEnvExampleKeepsTheDemo(t *testing.T) {
	dotenv, err := godotenv.Read("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	env, report := appSettings(origins{shell: noShell, dotenv: dotenv}, sandboxEnv, fixedEnv)
	for _, want := range []string{"PREMIUM_MONTHLY_CREDITS=50", "REVENUE_SHARE_PERCENT=10", "WHOP_API_KEY=apik_sim", "PORT=3000"} {
		if !slices.Contains(env, want) {
			t.Errorf("env lacks %s: %v", want, env)
		}
	}
	wantLines := []string{
		"from the sandbox: WHOP_API_KEY, WHOP_APP_ID, PREMIUM_PLAN_ID",
		"set by make dev: PORT=3000 APP_ENV=development",
		"PREMIUM_MONTHLY_CREDITS=50: make dev's demo value (premium members get monthly credits); set it in .env to change it",
		"REVENUE_SHARE_PERCENT=10: make dev's demo value (creators' dashboards show shares arriving); set it in .env to change it",
	}
	for _, w := range wantLines {
		if !slices.Contains(report, w) {
			t.Errorf("report lacks %q:\n%s", w, strings.Join(report, "\n"))
		}
	}
	last := report[len(report)-1]
	if !strings.HasPrefix(last, "from .env: ") || !strings.Contains(last, "CREDIT_PACKAGES") || strings.Contains(last, "WHOP_API_KEY") {
		t.Errorf("last line = %q, want the .env values the app reads as they are", last)
	}
}

// TestEnvValuesAreNamedNotSilent: a .env that turns the share off, and one
// that sets a credential make dev replaces, are both said out loud; the
// shell wins over .env.
func TestEnvValuesAreNamedNotSilent(t *testing.T) {
	dotenv := map[string]string{"REVENUE_SHARE_PERCENT": "0", "WHOP_API_KEY": "apik_live", "PREMIUM_MONTHLY_CREDITS": "5"}
	shell := func(k string) (string, bool) {
		if k == "PREMIUM_MONTHLY_CREDITS" {
			return "50", true
		}
		return "", false
	}
	env, report := appSettings(origins{shell: shell, dotenv: dotenv}, sandboxEnv, fixedEnv)
	for _, w := range []string{
		"WHOP_API_KEY in .env is not used: make dev runs against the sandbox",
		"REVENUE_SHARE_PERCENT=0: from .env (make dev's demo uses 10; empty the line to get it)",
		"PREMIUM_MONTHLY_CREDITS=50: from your environment",
	} {
		if !slices.Contains(report, w) {
			t.Errorf("report lacks %q:\n%s", w, strings.Join(report, "\n"))
		}
	}
	for _, kv := range env {
		if strings.HasPrefix(kv, "REVENUE_SHARE_PERCENT=") || strings.HasPrefix(kv, "PREMIUM_MONTHLY_CREDITS=") {
			t.Errorf("make dev overrode %s, which .env or the shell set", kv)
		}
	}
}

// TestCopiedEnvExampleLoads: what make dev hands the app on top of a
// copied .env.example is a configuration the app accepts, with the demo on.
func TestCopiedEnvExampleLoads(t *testing.T) {
	dotenv, err := godotenv.Read("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	sandbox := []string{"WHOP_API_KEY=apik_sim", "WHOP_APP_ID=app_sim", "WHOP_COMPANY_ID=biz_sim",
		"WHOP_WEBHOOK_SECRET=ws_0123", "WHOP_BASE_URL=http://localhost:8003/api/v1",
		"WHOP_USER_TOKEN_JWKS_URL=http://localhost:8003/.well-known/jwks.json",
		"PREMIUM_PRODUCT_ID=prod_sim", "PREMIUM_PLAN_ID=plan_sim"}
	fixed := []string{"DATABASE_URL=postgres://postgres@127.0.0.1:54329/creditkit", "PORT=3000", "APP_ENV=development",
		"SANDBOX_ORIGINS=http://localhost:8003,http://localhost:8004", "APP_URL=http://localhost:8004"}
	env, _ := appSettings(origins{shell: noShell, dotenv: dotenv}, sandbox, fixed)
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		return dotenv[k]
	})
	if err != nil {
		t.Fatalf("the app would refuse make dev's configuration:\n%v", err)
	}
	if cfg.Env != config.Development || cfg.Premium.MonthlyCredits != 50 || cfg.RevenueShareBasisPoints != 1000 || !cfg.Premium.Enabled() {
		t.Errorf("config = env %s, monthly %d, share %d, premium %t", cfg.Env, cfg.Premium.MonthlyCredits, cfg.RevenueShareBasisPoints, cfg.Premium.Enabled())
	}
}

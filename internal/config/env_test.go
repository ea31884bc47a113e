package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestEnvironPrefersRealEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte("CK_TEST_A=from-file\nCK_TEST_B=file-only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CK_TEST_A", "from-env")
	getenv := Environ(path)
	if got := getenv("CK_TEST_A"); got != "from-env" {
		t.Errorf("CK_TEST_A = %q, want the real environment to win", got)
	}
	if got := getenv("CK_TEST_B"); got != "file-only" {
		t.Errorf("CK_TEST_B = %q, want the .env value", got)
	}
	if _, set := os.LookupEnv("CK_TEST_B"); set {
		t.Error(".env values must not be written into the process environment")
	}
	if got := Environ(filepath.Join(t.TempDir(), "missing"))("CK_TEST_B"); got != "" {
		t.Errorf("missing .env gave %q", got)
	}
}

// TestEnvExampleListsEveryVariable keeps .env.example honest: every variable
// Load reads is documented there, and nothing there is unknown to Load.
func TestEnvExampleListsEveryVariable(t *testing.T) {
	read := map[string]bool{}
	Load(func(k string) string { read[k] = true; return "" })
	b, err := os.ReadFile("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, "=")
		listed[name] = true
	}
	for k := range read {
		if !listed[k] {
			t.Errorf("Load reads %s but .env.example does not list it", k)
		}
	}
	for k := range listed {
		if !read[k] {
			t.Errorf(".env.example lists %s but Load never reads it", k)
		}
	}
}

// TestEnvExampleAsIsExplainsWhatToFill is `cp .env.example .env` followed by
// a start outside make dev: each missing value gets one line that says what
// to put there and where to look, and nothing complains about the example's
// own placeholders.
func TestEnvExampleAsIsExplainsWhatToFill(t *testing.T) {
	getenv := Environ("../../.env.example")
	fromFile := func(k string) string {
		if _, set := os.LookupEnv(k); set {
			t.Skipf("%s is set in this environment; the test reads .env.example alone", k)
		}
		return getenv(k)
	}
	_, err := Load(fromFile)
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("Load(.env.example) = %v, want the missing credentials", err)
	}
	want := []string{
		"config: WHOP_API_KEY: is required: the app's API key from Whop's developer dashboard (see .env.example; to run against the local Whop sandbox instead, use make dev, which sets it)",
		`config: WHOP_APP_ID: is required: your app's id, from Whop's developer dashboard (app_…) (see .env.example; to run against the local Whop sandbox instead, use make dev, which sets it)`,
		`config: WHOP_COMPANY_ID: is required: the id of the company that owns the app, from the URL of its dashboard (biz_…) (see .env.example; to run against the local Whop sandbox instead, use make dev, which sets it)`,
		"config: WHOP_WEBHOOK_SECRET: is required: the webhook's secret (ws_…) exactly as Whop shows it (see .env.example; to run against the local Whop sandbox instead, use make dev, which sets it)",
	}
	if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, want) {
		t.Fatalf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// With the four credentials filled in, the example is a valid production
	// configuration with the documented defaults.
	creds := map[string]string{"WHOP_API_KEY": "apik_x", "WHOP_APP_ID": "app_x1", "WHOP_COMPANY_ID": "biz_x1", "WHOP_WEBHOOK_SECRET": "ws_x"}
	cfg, err := Load(func(k string) string {
		if v, ok := creds[k]; ok {
			return v
		}
		return fromFile(k)
	})
	if err != nil {
		t.Fatalf("Load(.env.example + credentials): %v", err)
	}
	if cfg.Env != Production || cfg.Premium.MonthlyCredits != 0 || cfg.RevenueShareBasisPoints != 0 ||
		cfg.Whop.APIVersionDate != DefaultAPIVersionDate || len(cfg.SpendItems) != 3 {
		t.Errorf("example defaults: env %s, monthly %d, share %d, version %s, %d items",
			cfg.Env, cfg.Premium.MonthlyCredits, cfg.RevenueShareBasisPoints, cfg.Whop.APIVersionDate, len(cfg.SpendItems))
	}
}

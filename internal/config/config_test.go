package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/creditkit/creditkit/internal/money"
	"github.com/creditkit/creditkit/internal/whop"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func validEnv() map[string]string {
	return map[string]string{
		"DATABASE_URL":        "postgres://ck:secret@db:5432/creditkit",
		"WHOP_API_KEY":        "key_123",
		"WHOP_APP_ID":         "app_abc",
		"WHOP_COMPANY_ID":     "biz_abc",
		"WHOP_WEBHOOK_SECRET": "ws_0123",
	}
}

func TestLoadDefaults(t *testing.T) {
	cfg, err := Load(env(validEnv()))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := &Config{
		Env:            Production,
		Port:           3000,
		DatabaseURL:    "postgres://ck:secret@db:5432/creditkit",
		DatabasePooler: PoolerNone,
		Whop: Whop{
			APIKey:         "key_123",
			AppID:          "app_abc",
			CompanyID:      "biz_abc",
			WebhookSecret:  "ws_0123",
			BaseURL:        "https://api.whop.com/api/v1",
			JWKSURL:        "https://api.whop.com/.well-known/jwks.json",
			PaymentsAPI:    "v1",
			APIVersionDate: "2026-07-01",
		},
		Packages: []Package{
			{ID: "starter", Credits: 100, Price: 499},
			{ID: "pro", Credits: 600, Price: 2499},
		},
		SpendItems: []SpendItem{
			{ID: "sticker", Cost: 5, Title: "Sticker pack", Description: "A pack of animated stickers for the chat."},
			{ID: "boost", Cost: 20, Title: "Profile boost", Description: "Pin your profile to the top of the member list for a day."},
			{ID: "review", Cost: 50, Title: "Expert review", Description: "A written review of your work by the creator."},
		},
		Currency:          money.Currency("usd"),
		ShutdownTimeout:   25 * time.Second,
		ReconcileInterval: time.Minute,
		Workers:           4,
	}
	if cfg.MigrationURL() != cfg.DatabaseURL {
		t.Errorf("MigrationURL() = %q without DATABASE_URL_DIRECT, want DATABASE_URL", cfg.MigrationURL())
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("Load defaults:\n got %+v\nwant %+v", cfg, want)
	}
	if cfg.Premium.Enabled() {
		t.Error("premium enabled without ids")
	}
}

func TestLoadEverySetting(t *testing.T) {
	e := validEnv()
	e["APP_ENV"] = "development"
	e["PORT"] = "8080"
	e["WHOP_BASE_URL"] = "http://localhost:8003/api/v1/"
	e["WHOP_USER_TOKEN_JWKS_URL"] = "http://localhost:8003/.well-known/jwks.json"
	e["WHOP_USER_TOKEN_PUBLIC_KEY"] = " -----BEGIN PUBLIC KEY-----x "
	e["WHOP_PAYMENTS_API"] = "v5"
	e["CREDIT_PACKAGES"] = "tiny:10:500, big:1000:4500"
	e["CREDIT_CURRENCY"] = "JPY"
	e["PREMIUM_PRODUCT_ID"] = "prod_p"
	e["PREMIUM_PLAN_ID"] = "plan_p"
	e["PREMIUM_MONTHLY_CREDITS"] = "50"
	e["REVENUE_SHARE_PERCENT"] = "12.5"
	e["SANDBOX_ORIGINS"] = "http://localhost:8003, http://localhost:8004/"
	e["SHUTDOWN_TIMEOUT"] = "5s"
	e["RECONCILE_INTERVAL"] = "30s"
	e["WORKERS"] = "0"
	e["PPROF_ADDR"] = "127.0.0.1:6060"
	e["APP_URL"] = "http://localhost:8004/"
	e["WHOP_API_VERSION_DATE"] = "2026-06-09"
	e["SPEND_ITEMS"] = "hint:3:Hint: the next step, skip:40:Skip a level:Jump ahead: once"
	e["DATABASE_URL"] = "postgres://ck:secret@pgbouncer:6432/creditkit"
	e["DATABASE_POOLER"] = "Transaction"
	e["DATABASE_URL_DIRECT"] = "postgres://ck:secret@db:5432/creditkit"
	e["DATABASE_REPLICA_URL"] = "postgres://ck:secret@db-replica:5432/creditkit"
	cfg, err := Load(env(e))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"Env", cfg.Env, Development},
		{"Port", cfg.Port, 8080},
		{"BaseURL", cfg.Whop.BaseURL, "http://localhost:8003/api/v1"},
		{"JWKSURL", cfg.Whop.JWKSURL, "http://localhost:8003/.well-known/jwks.json"},
		{"PublicKey", cfg.Whop.PublicKey, "-----BEGIN PUBLIC KEY-----x"},
		{"PaymentsAPI", cfg.Whop.PaymentsAPI, "v5"},
		{"Currency", cfg.Currency, money.Currency("jpy")},
		{"Packages", cfg.Packages, []Package{{ID: "tiny", Credits: 10, Price: 500}, {ID: "big", Credits: 1000, Price: 4500}}},
		{"Premium", cfg.Premium, Premium{ProductID: "prod_p", PlanID: "plan_p", MonthlyCredits: 50}},
		{"RevenueShareBasisPoints", cfg.RevenueShareBasisPoints, int64(1250)},
		{"SandboxOrigins", cfg.SandboxOrigins, []string{"http://localhost:8003", "http://localhost:8004"}},
		{"ShutdownTimeout", cfg.ShutdownTimeout, 5 * time.Second},
		{"ReconcileInterval", cfg.ReconcileInterval, 30 * time.Second},
		{"Workers", cfg.Workers, 0},
		{"PprofAddr", cfg.PprofAddr, "127.0.0.1:6060"},
		{"AppURL", cfg.AppURL, "http://localhost:8004"},
		{"APIVersionDate", cfg.Whop.APIVersionDate, "2026-06-09"},
		{"DatabaseURL", cfg.DatabaseURL, "postgres://ck:secret@pgbouncer:6432/creditkit"},
		{"DatabasePooler", cfg.DatabasePooler, PoolerTransaction},
		{"DatabaseDirectURL", cfg.DatabaseDirectURL, "postgres://ck:secret@db:5432/creditkit"},
		{"DatabaseReplicaURL", cfg.DatabaseReplicaURL, "postgres://ck:secret@db-replica:5432/creditkit"},
		{"MigrationURL", cfg.MigrationURL(), "postgres://ck:secret@db:5432/creditkit"},
		{"SpendItems", cfg.SpendItems, []SpendItem{
			{ID: "hint", Cost: 3, Title: "Hint", Description: "the next step"},
			{ID: "skip", Cost: 40, Title: "Skip a level", Description: "Jump ahead: once"},
		}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	if p, ok := cfg.Package("big"); !ok || p.Credits != 1000 {
		t.Errorf("Package(big) = %+v, %t", p, ok)
	}
	if _, ok := cfg.Package("nope"); ok {
		t.Error("Package(nope) found")
	}
	if !cfg.Premium.Enabled() {
		t.Error("premium not enabled with both ids")
	}
}

func TestLoadProblems(t *testing.T) {
	tests := []struct {
		name string
		set  map[string]string // overrides; "" deletes
		want []string          // "VAR: substring", in order
	}{
		{"database url unset", map[string]string{"DATABASE_URL": ""}, []string{"DATABASE_URL: is required"}},
		{"database url malformed", map[string]string{"DATABASE_URL": "mysql://nope"}, []string{"DATABASE_URL: expected a Postgres URL"}},
		{"pooler unknown", map[string]string{"DATABASE_POOLER": "statement"}, []string{`DATABASE_POOLER: expected none (Postgres itself, or a pooler in session mode) or transaction`}},
		{"transaction pooler without a direct url", map[string]string{"DATABASE_POOLER": "transaction"},
			[]string{"DATABASE_URL_DIRECT: is required with DATABASE_POOLER=transaction: migrations hold session-level advisory locks"}},
		{"direct url is the pooler's", map[string]string{"DATABASE_POOLER": "transaction", "DATABASE_URL_DIRECT": "postgres://ck:secret@db:5432/creditkit"},
			[]string{"DATABASE_URL_DIRECT: is DATABASE_URL itself, the pooler's address"}},
		{"replica url malformed", map[string]string{"DATABASE_REPLICA_URL": "mysql://nope"}, []string{"DATABASE_REPLICA_URL: expected a Postgres URL"}},
		{"port not a number", map[string]string{"PORT": "abc"}, []string{`PORT: expected a port number from 1 to 65535, got "abc"`}},
		{"port out of range", map[string]string{"PORT": "70000"}, []string{"PORT: expected a port number"}},
		{"every required missing", map[string]string{"DATABASE_URL": "", "WHOP_API_KEY": "", "WHOP_APP_ID": "", "WHOP_COMPANY_ID": "", "WHOP_WEBHOOK_SECRET": ""},
			[]string{"DATABASE_URL: is required", "WHOP_API_KEY: is required", "WHOP_APP_ID: is required", "WHOP_COMPANY_ID: is required", "WHOP_WEBHOOK_SECRET: is required"}},
		{"app id without prefix", map[string]string{"WHOP_APP_ID": "abc"}, []string{`WHOP_APP_ID: expected a Whop id starting with "app_", got "abc"`}},
		{"company id bare prefix", map[string]string{"WHOP_COMPANY_ID": "biz_"}, []string{`WHOP_COMPANY_ID: holds only the prefix "biz_": put the id of the company that owns the app`}},
		{"app id bare prefix", map[string]string{"WHOP_APP_ID": "app_"}, []string{`WHOP_APP_ID: holds only the prefix "app_": put your app's id, from Whop's developer dashboard`}},
		{"api version not a date", map[string]string{"WHOP_API_VERSION_DATE": "2026-7-1"}, []string{`WHOP_API_VERSION_DATE: expected a Whop API version date YYYY-MM-DD from 2025-01-01 on (e.g. 2026-07-01), got "2026-7-1"`}},
		{"api version before versioning", map[string]string{"WHOP_API_VERSION_DATE": "2024-12-31"}, []string{`WHOP_API_VERSION_DATE: expected a Whop API version date`}},
		{"currency not priceable", map[string]string{"CREDIT_CURRENCY": "whop_usd"}, []string{`CREDIT_CURRENCY: expected a currency the app can price in (usd, eur, gbp,`}},
		{"base url not http", map[string]string{"WHOP_BASE_URL": "ftp://x"}, []string{"WHOP_BASE_URL: expected an http(s) URL"}},
		{"payments api unknown", map[string]string{"WHOP_PAYMENTS_API": "v3"}, []string{"WHOP_PAYMENTS_API: expected one of v1, v2, v5"}},
		{"currency malformed", map[string]string{"CREDIT_CURRENCY": "dollars!"}, []string{"CREDIT_CURRENCY: expected a currency the app can price in"}},
		{"package shape", map[string]string{"CREDIT_PACKAGES": "starter:100"}, []string{"CREDIT_PACKAGES: \"starter:100\" is not id:credits:price"}},
		{"package zero credits", map[string]string{"CREDIT_PACKAGES": "a:0:1.00"}, []string{"CREDIT_PACKAGES: package \"a\": credits must be a whole number from 1 to 1000000000, got \"0\""}},
		{"package credits past the most", map[string]string{"CREDIT_PACKAGES": "big:9223372036854775807:1.00"}, []string{`CREDIT_PACKAGES: package "big": credits must be a whole number from 1 to 1000000000, got "9223372036854775807"`}},
		{"package price past the most", map[string]string{"CREDIT_PACKAGES": "big:10:1000000000000.01"}, []string{`CREDIT_PACKAGES: package "big": price must be at most 1000000000000, got "1000000000000.01"`}},
		{"package price too precise", map[string]string{"CREDIT_PACKAGES": "a:10:1.999"}, []string{"CREDIT_PACKAGES: package \"a\": price must be above 0 with at most 2 decimals"}},
		{"package price float text", map[string]string{"CREDIT_PACKAGES": "a:10:free"}, []string{"CREDIT_PACKAGES: package \"a\": price must be above 0"}},
		{"package duplicate", map[string]string{"CREDIT_PACKAGES": "a:1:1,a:2:2"}, []string{`CREDIT_PACKAGES: package id "a" appears twice`}},
		{"package bad id", map[string]string{"CREDIT_PACKAGES": "Big Pack:1:1"}, []string{`CREDIT_PACKAGES: package id "Big Pack" must be`}},
		{"premium half", map[string]string{"PREMIUM_PRODUCT_ID": "prod_x"}, []string{"PREMIUM_PLAN_ID: PREMIUM_PRODUCT_ID and PREMIUM_PLAN_ID go together"}},
		{"premium wrong prefix", map[string]string{"PREMIUM_PRODUCT_ID": "pass_x", "PREMIUM_PLAN_ID": "plan_x"}, []string{`PREMIUM_PRODUCT_ID: expected a Whop id starting with "prod_"`}},
		{"monthly credits negative", map[string]string{"PREMIUM_MONTHLY_CREDITS": "-1"}, []string{"PREMIUM_MONTHLY_CREDITS: expected a whole number from 0 to 1000000000"}},
		{"monthly credits past the most", map[string]string{"PREMIUM_MONTHLY_CREDITS": "9223372036854775807"}, []string{`PREMIUM_MONTHLY_CREDITS: expected a whole number from 0 to 1000000000, got "9223372036854775807"`}},
		{"share over 100", map[string]string{"REVENUE_SHARE_PERCENT": "100.01"}, []string{"REVENUE_SHARE_PERCENT: expected a percentage from 0 to 100"}},
		{"share three decimals", map[string]string{"REVENUE_SHARE_PERCENT": "1.005"}, []string{"REVENUE_SHARE_PERCENT: expected a percentage"}},
		{"env unknown", map[string]string{"APP_ENV": "staging"}, []string{`APP_ENV: expected development or production, got "staging"`}},
		{"sandbox origin with path", map[string]string{"SANDBOX_ORIGINS": "http://localhost:8003/app"}, []string{"SANDBOX_ORIGINS: expected comma-separated origins"}},
		{"shutdown timeout", map[string]string{"SHUTDOWN_TIMEOUT": "soon"}, []string{"SHUTDOWN_TIMEOUT: expected a positive duration"}},
		{"reconcile interval", map[string]string{"RECONCILE_INTERVAL": "-1m"}, []string{"RECONCILE_INTERVAL: expected a positive duration"}},
		{"workers", map[string]string{"WORKERS": "many"}, []string{"WORKERS: expected a whole number from 0 to 10000"}},
		{"workers past River's most", map[string]string{"WORKERS": "20000"}, []string{`WORKERS: expected a whole number from 0 to 10000, got "20000"`}},
		{"pprof every interface", map[string]string{"PPROF_ADDR": ":6060"}, []string{"PPROF_ADDR: expected a host"}},
		{"pprof not an address", map[string]string{"PPROF_ADDR": "localhost"}, []string{"PPROF_ADDR: expected host:port"}},
		{"app url not a url", map[string]string{"APP_URL": "myapp.apps.whop.com"}, []string{"APP_URL: expected the app's public origin"}},
		{"app url with a path", map[string]string{"APP_URL": "https://myapp.apps.whop.com/app"}, []string{"APP_URL: expected an origin with no path"}},
		{"app url with a query", map[string]string{"APP_URL": "https://myapp.apps.whop.com?x=1"}, []string{"APP_URL: expected an origin with no path"}},
		{"app url with credentials", map[string]string{"APP_URL": "https://me:pw@myapp.apps.whop.com"}, []string{"APP_URL: expected the app's public origin"}},
		{"app url plain http", map[string]string{"APP_URL": "http://myapp.example.com"}, []string{"APP_URL: expected https (plain http only for localhost)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := validEnv()
			for k, v := range tt.set {
				e[k] = v
			}
			cfg, err := Load(env(e))
			if cfg != nil {
				t.Fatalf("Load returned a config with problems: %+v", cfg)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Load error = %v, want *config.Error", err)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) || len(ce.Problems) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(lines), len(tt.want), err)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(lines[i], "config: ") || !strings.Contains(lines[i], w) {
					t.Errorf("line %d = %q, want it to contain %q", i, lines[i], w)
				}
			}
		})
	}
}

func TestAppURLIsAnOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"":                              "",
		"https://myapp.apps.whop.com":   "https://myapp.apps.whop.com",
		" https://myapp.apps.whop.com/": "https://myapp.apps.whop.com",
		"https://credits.example:8443":  "https://credits.example:8443",
		"http://127.0.0.1:3000":         "http://127.0.0.1:3000",
		"http://[::1]:3000":             "http://[::1]:3000",
	} {
		e := validEnv()
		e["APP_URL"] = in
		cfg, err := Load(env(e))
		if err != nil {
			t.Errorf("APP_URL=%q: %v", in, err)
			continue
		}
		if cfg.AppURL != want {
			t.Errorf("APP_URL=%q gave %q, want %q", in, cfg.AppURL, want)
		}
	}
}

func TestDatabaseURLProblemHidesPassword(t *testing.T) {
	e := validEnv()
	e["DATABASE_URL"] = "postgres://ck:hunter2@db:notaport/x"
	_, err := Load(env(e))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error must exist and must not echo the password: %v", err)
	}
}

// TestMaxPriceIsWhatTheAppReadsBack: a package priced at the most the
// configuration takes is a payment amount the Whop client still reads.
func TestMaxPriceIsWhatTheAppReadsBack(t *testing.T) {
	if MaxPrice != whop.MaxAmount {
		t.Fatalf("MaxPrice = %d, whop.MaxAmount = %d", MaxPrice, whop.MaxAmount)
	}
}

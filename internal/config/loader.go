package config

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/creditkit/creditkit/internal/money"
	"github.com/jackc/pgx/v5"
)

// loader reads one variable at a time and collects every problem, so Load
// can report them all at once.
type loader struct {
	getenv   func(string) string
	problems []Problem
}

func (l *loader) bad(name, format string, args ...any) {
	l.problems = append(l.problems, Problem{Var: name, Want: fmt.Sprintf(format, args...)})
}

func (l *loader) str(name, def string) string {
	if v := strings.TrimSpace(l.getenv(name)); v != "" {
		return v
	}
	return def
}

// whereToFind ends every "is required" line: where the value comes from,
// and that local development needs none of it.
const whereToFind = " (see .env.example; to run against the local Whop sandbox instead, use make dev, which sets it)"

func (l *loader) required(name, what string) string {
	v := strings.TrimSpace(l.getenv(name))
	if v == "" {
		l.bad(name, "is required: %s%s", what, whereToFind)
	}
	return v
}

// idKinds says in words what each Whop id prefix names, for messages.
var idKinds = map[string]string{
	"app_":  "your app's id, from Whop's developer dashboard",
	"biz_":  "the id of the company that owns the app, from the URL of its dashboard",
	"prod_": "the premium product's id",
	"plan_": "the premium plan's id",
}

func (l *loader) prefixed(name, prefix string, required bool) string {
	v := strings.TrimSpace(l.getenv(name))
	switch {
	case v == "" && required:
		l.bad(name, "is required: %s (%s…)%s", idKinds[prefix], prefix, whereToFind)
	case v == prefix:
		// The placeholder of an example file, copied as it is.
		l.bad(name, "holds only the prefix %q: put %s there (%s followed by letters and digits)", v, idKinds[prefix], prefix)
	case v != "" && !strings.HasPrefix(v, prefix):
		l.bad(name, "expected a Whop id starting with %q, got %q", prefix, v)
	}
	return v
}

// versionDate reads an API version date, YYYY-MM-DD, no earlier than
// Whop's original version.
func (l *loader) versionDate(name, def string) string {
	v := l.str(name, def)
	t, err := time.Parse("2006-01-02", v)
	if err != nil || t.Before(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)) {
		l.bad(name, "expected a Whop API version date YYYY-MM-DD from 2025-01-01 on (e.g. %s), got %q", def, v)
	}
	return v
}

func (l *loader) port(name string) int {
	v := strings.TrimSpace(l.getenv(name))
	if v == "" {
		return DefaultPort
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 65535 {
		l.bad(name, "expected a port number from 1 to 65535, got %q", v)
	}
	return n
}

func (l *loader) databaseURL(name string) string {
	v := strings.TrimSpace(l.getenv(name))
	if v == "" {
		l.bad(name, "is required: a Postgres URL such as postgres://user:pass@localhost:5432/creditkit%s", whereToFind)
		return ""
	}
	return l.optionalDatabaseURL(name)
}

// optionalDatabaseURL reads a Postgres URL that may be left empty.
func (l *loader) optionalDatabaseURL(name string) string {
	v := strings.TrimSpace(l.getenv(name))
	if v == "" {
		return ""
	}
	if _, err := pgx.ParseConfig(v); err != nil {
		// pgx's message may echo the password; say only what is wrong.
		l.bad(name, "expected a Postgres URL such as postgres://user:pass@host:5432/db")
	}
	return v
}

// pooler reads what stands between the app and Postgres.
func (l *loader) pooler(name string) Pooler {
	switch v := Pooler(strings.ToLower(l.str(name, string(PoolerNone)))); v {
	case PoolerNone, PoolerTransaction:
		return v
	default:
		l.bad(name, "expected none (Postgres itself, or a pooler in session mode) or transaction (PgBouncer with pool_mode = transaction), got %q", v)
		return PoolerNone
	}
}

func (l *loader) httpURL(name, def string) string {
	v := l.str(name, def)
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		l.bad(name, "expected an http(s) URL, got %q", v)
	}
	return strings.TrimRight(v, "/")
}

// appURL reads the app's public origin. It is configured rather than taken
// from a request's Host header because it goes into the links Whop sends
// paying members to: a forged Host must never choose where money lands.
// Plain http is accepted only for loopback hosts (local development).
func (l *loader) appURL(name string) string {
	v := strings.TrimSpace(l.getenv(name))
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	switch {
	case err != nil || u.Host == "" || u.User != nil || (u.Scheme != "http" && u.Scheme != "https"):
		l.bad(name, "expected the app's public origin such as https://myapp.apps.whop.com, got %q", v)
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		l.bad(name, "expected an origin with no path, query or fragment, got %q", v)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		l.bad(name, "expected https (plain http only for localhost), got %q", v)
	default:
		return u.Scheme + "://" + u.Host
	}
	return ""
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

func (l *loader) oneOf(name, def string, allowed ...string) string {
	v := l.str(name, def)
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	l.bad(name, "expected one of %s, got %q", strings.Join(allowed, ", "), v)
	return v
}

func (l *loader) currency(name string) money.Currency {
	v := l.str(name, DefaultCurrency)
	c, err := money.ParseCurrency(v)
	if err != nil || !slices.Contains(PriceCurrencies, c) {
		l.bad(name, "expected a currency the app can price in (%s), got %q", joinCurrencies(PriceCurrencies), v)
	}
	return c
}

// PriceCurrencies are the currencies CREDIT_CURRENCY may name: fiat
// currencies Whop's checkout takes (its API's currency list, which also
// has crypto and Whop's own balance currencies: those are left out because
// a member cannot be charged a price in them) whose minor unit
// internal/money knows.
var PriceCurrencies = []money.Currency{
	"usd", "eur", "gbp", "cad", "aud", "nzd", "chf", "sek", "nok", "dkk", "pln", "czk", "huf", "ron",
	"bgn", "jpy", "krw", "sgd", "hkd", "twd", "inr", "myr", "thb", "idr", "php", "vnd", "pkr",
	"aed", "try", "zar", "mxn", "brl", "cop", "clp", "ars", "uyu",
}

func joinCurrencies(cs []money.Currency) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

// upTo reads a whole number from 0 to most (def when unset).
func (l *loader) upTo(name string, def, most int64) int64 {
	v := strings.TrimSpace(l.getenv(name))
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > most {
		l.bad(name, "expected a whole number from 0 to %d, got %q", most, v)
	}
	return n
}

func (l *loader) percent(name string) int64 {
	v := strings.TrimSpace(l.getenv(name))
	if v == "" {
		return 0
	}
	// A percent with up to two decimals is a count of basis points.
	bp, err := money.ParseMajor(v, money.Currency("usd"))
	if err != nil || bp < 0 || bp > 10000 {
		l.bad(name, "expected a percentage from 0 to 100 (up to two decimals), got %q", v)
	}
	return bp
}

func (l *loader) duration(name string, def time.Duration) time.Duration {
	v := strings.TrimSpace(l.getenv(name))
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		l.bad(name, "expected a positive duration such as 25s, got %q", v)
	}
	return d
}

// listenAddr reads an optional host:port to listen on.
func (l *loader) listenAddr(name string) string {
	v := strings.TrimSpace(l.getenv(name))
	if v == "" {
		return ""
	}
	host, port, err := net.SplitHostPort(v)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 1 || n > 65535 {
		l.bad(name, "expected host:port such as 127.0.0.1:6060, got %q", v)
	} else if host == "" {
		l.bad(name, "expected a host (the profiler must not listen on every interface), got %q", v)
	}
	return v
}

func (l *loader) origins(name string) []string {
	var out []string
	for _, o := range strings.Split(l.getenv(name), ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			l.bad(name, "expected comma-separated origins such as http://localhost:8003, got %q", o)
			continue
		}
		out = append(out, u.Scheme+"://"+u.Host)
	}
	return out
}

package whopsim

import (
	"context"
	"net/http"
	"slices"
	"strings"
)

// Dated API versions, as Whop's v1 API has them (docs.whop.com, "API
// versions"): a request pins one with Api-Version-Date; a request without
// the header gets the original 2025-01-01 behaviour; an unknown date is
// refused with 400 naming the supported versions. Only breaking changes
// make a version, so the sandbox keeps one rule per change it serves.

// The versions Whop's changelog lists, oldest first, and what each changed
// in the resources the sandbox serves.
const (
	// Version20250101 is the original API, used when no header is sent.
	Version20250101 = "2025-01-01"
	// Version20260608: user requests take account_id instead of company_id.
	Version20260608 = "2026-06-08"
	// Version20260609: plan requests take account_id instead of company_id,
	// and plans return account instead of company.
	Version20260609 = "2026-06-09"
	// Version20260620 and Version20260701 changed business referrals, which
	// the sandbox does not serve: they answer as 2026-06-09 does.
	Version20260620 = "2026-06-20"
	Version20260701 = "2026-07-01"
	// Version20260720 is what @whop/sdk 0.0.42 sends when not told
	// otherwise; the changelog we read does not list it yet, so it answers
	// as the newest listed version does. Without it, Whop's own client
	// would be refused by default.
	Version20260720 = "2026-07-20"
)

// knownVersions are the dates the sandbox accepts, oldest first.
var knownVersions = []string{Version20250101, Version20260608, Version20260609,
	Version20260620, Version20260701, Version20260720}

// APIVersions returns the Api-Version-Date values this sandbox accepts,
// oldest first: Whop's listed versions plus Options.ExtraAPIVersions.
func (s *Sim) APIVersions() []string {
	out := slices.Clone(knownVersions)
	for _, v := range s.opts.ExtraAPIVersions {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

type versionKey struct{}

// apiVersion is the version a request was answered under (the date, which
// compares as a string since every version is YYYY-MM-DD).
func apiVersion(r *http.Request) string {
	if v, ok := r.Context().Value(versionKey{}).(string); ok {
		return v
	}
	return Version20250101
}

// accountModel reports whether a resource uses account_id under the
// request's version: since moved is the version that renamed it.
func accountModel(r *http.Request, since string) bool { return apiVersion(r) >= since }

// withVersion reads Api-Version-Date on the dated v1 API (the legacy v2 and
// v5 endpoints predate versioning and ignore it) and refuses a date it does
// not know, the way Whop does.
func (s *Sim) withVersion(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := strings.TrimSpace(r.Header.Get("Api-Version-Date"))
		if !strings.HasPrefix(r.URL.Path, "/api/v1/") {
			next.ServeHTTP(w, r)
			return
		}
		if v == "" {
			v = Version20250101
		}
		supported := s.APIVersions()
		if !slices.Contains(supported, v) {
			writeJSON(w, http.StatusBadRequest, obj{"error": obj{
				"code": "invalid_api_version",
				"message": "Api-Version-Date " + quote(v) + " is not a supported API version. Supported versions: " +
					strings.Join(supported, ", ") + " (send none for 2025-01-01).",
				"supported_versions": supported,
			}})
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), versionKey{}, v)))
	})
}

// quote writes s in double quotes for a message.
func quote(s string) string { return `"` + s + `"` }

// accountParam reads the id of the account (company) a request names,
// under the name its version uses: company_id before since, account_id
// from since on. Before the change the sandbox also takes account_id,
// which the newer SDKs send whatever they pin; from the change on, a
// request naming only company_id is refused with the rename, so a client
// pinned to a newer version than it was written for finds out at once.
// field is the name to use in messages.
func accountParam(r *http.Request, since, companyID, accountID string) (id, field string, err error) {
	if accountModel(r, since) {
		if accountID == "" && companyID != "" {
			return "", "account_id", badRequest(
				"company_id was renamed account_id in API version %s; send account_id (this request pins %s)",
				since, apiVersion(r))
		}
		return accountID, "account_id", nil
	}
	if companyID == "" {
		return accountID, "company_id", nil
	}
	return companyID, "company_id", nil
}

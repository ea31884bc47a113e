package simctl

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/creditkit/creditkit/internal/whopsim"
)

// WriteDotenv writes env as a .env file: the variables Whop's official SDKs
// (and the Next.js app template) read, the ones Creditkit reads, and the
// user-token key itself as comments, for apps that take a static key.
func WriteDotenv(w io.Writer, env whopsim.EnvInfo) error {
	jwk, err := json.Marshal(env.UserTokenJWK)
	if err != nil {
		return err
	}
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("# The Whop sandbox at %s (whopsim env). Point an app here instead of Whop.", env.SandboxURL)
	line("WHOP_BASE_URL=%s", env.APIBaseURL)
	line("WHOP_API_KEY=%s", env.APIKey)
	line("WHOP_APP_ID=%s", env.AppID)
	line("NEXT_PUBLIC_WHOP_APP_ID=%s", env.AppID)
	line("WHOP_COMPANY_ID=%s", env.CompanyID)
	line("WHOP_WEBHOOK_SECRET=%s", env.WebhookSecret)
	line("WHOP_USER_TOKEN_JWKS_URL=%s", env.JWKSURL)
	line("")
	line("# Creditkit: the premium plan, and the origins allowed to frame the app (APP_ENV=development).")
	line("PREMIUM_PRODUCT_ID=%s", env.PremiumProductID)
	line("PREMIUM_PLAN_ID=%s", env.PremiumPlanID)
	line("SANDBOX_ORIGINS=%s,%s", env.SandboxURL, env.RelayURL)
	line("")
	line("# The user-token key (ES256, kid %s), for an app given the key instead of the key set.", env.UserTokenKeyID)
	if env.KeySaved {
		line("# The sandbox's state file keeps it across restarts.")
	} else {
		line("# It changes when the sandbox restarts (start it with --state-file to keep it); the key set URL above follows.")
	}
	line("# WHOP_USER_TOKEN_PUBLIC_KEY='%s'", jwk)
	for _, l := range strings.Split(strings.TrimSpace(env.UserTokenPEM), "\n") {
		line("# %s", l)
	}
	line("")
	line("# Company of a creator who installed the app: %s. Experiences: %s (creator), %s (owner).",
		env.CreatorCompanyID, env.CreatorExperienceID, env.OwnerExperienceID)
	line("# Api-Version-Date values the API accepts: %s.", strings.Join(env.APIVersions, ", "))
	_, err = io.WriteString(w, b.String())
	return err
}

// WriteJSON writes env as indented JSON.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

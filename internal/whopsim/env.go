package whopsim

import "io/fs"

// EnvInfo is everything an app needs to talk to this sandbox instead of
// Whop, as `whopsim env` prints it.
type EnvInfo struct {
	// SandboxURL is the parent page, API and control API; RelayURL frames
	// the app.
	SandboxURL string `json:"sandbox_url"`
	RelayURL   string `json:"relay_url"`
	// APIBaseURL is WHOP_BASE_URL (REST v1).
	APIBaseURL    string `json:"api_base_url"`
	APIKey        string `json:"api_key"`
	AppID         string `json:"app_id"`
	WebhookSecret string `json:"webhook_secret"`
	// CompanyID owns the app and receives in-app payments
	// (WHOP_COMPANY_ID); CreatorCompanyID installed it.
	CompanyID        string `json:"company_id"`
	CreatorCompanyID string `json:"creator_company_id"`
	// JWKSURL publishes the user-token key; the key is also given whole,
	// as a JWK and as PEM, for apps configured with a static key.
	JWKSURL         string         `json:"jwks_url"`
	UserTokenKeyID  string         `json:"user_token_key_id"`
	UserTokenJWK    map[string]any `json:"user_token_jwk"`
	UserTokenPEM    string         `json:"user_token_pem"`
	UserTokenIssuer string         `json:"user_token_issuer"`
	// APIVersions are the Api-Version-Date values the API accepts.
	APIVersions []string `json:"api_versions"`
	// The seeded world, for scripts: experiences, premium, users.
	OwnerExperienceID   string     `json:"owner_experience_id"`
	CreatorExperienceID string     `json:"creator_experience_id"`
	PremiumProductID    string     `json:"premium_product_id"`
	PremiumPlanID       string     `json:"premium_plan_id"`
	Users               []SeedUser `json:"users"`
	// KeySaved says whether the token key survives a restart (a state
	// file keeps it); without one, a static key must be fetched again.
	KeySaved bool `json:"user_token_key_saved"`
}

// Env describes this sandbox for an app's configuration.
func (s *Sim) Env() EnvInfo {
	public, relay := s.URLs()
	sd := s.seed
	users := append([]SeedUser{sd.OwnerAdmin, sd.Admin}, sd.Members...)
	return EnvInfo{
		SandboxURL: public, RelayURL: relay, APIBaseURL: public + "/api/v1",
		APIKey: sd.App.APIKey, AppID: sd.App.ID, WebhookSecret: sd.App.WebhookSecret,
		CompanyID: sd.Owner.ID, CreatorCompanyID: sd.Creator.ID,
		JWKSURL: public + "/.well-known/jwks.json", UserTokenKeyID: s.tokens.kid,
		UserTokenJWK: s.PublicKeyJWK(), UserTokenPEM: s.PublicKeyPEM(), UserTokenIssuer: tokenIssuer,
		APIVersions:       s.APIVersions(),
		OwnerExperienceID: sd.Owner.ExperienceID, CreatorExperienceID: sd.Creator.ExperienceID,
		PremiumProductID: sd.PremiumProductID, PremiumPlanID: sd.PremiumPlanID,
		Users: append(users, sd.NoAccess), KeySaved: s.opts.StateFile != "",
	}
}

// HostBundleEmbedded reports whether this build carries the bundled
// @whop/iframe host (`make assets` before `go build`); without it the
// parent page cannot talk to the app it frames.
func HostBundleEmbedded() bool {
	_, err := fs.Stat(assets, hostBundle)
	return err == nil
}

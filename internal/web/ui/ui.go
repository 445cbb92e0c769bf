// Package ui is Augur's pages for signed-in users and visitors: sign-in,
// registration and the account, the prediction form, job pages, the
// models' leaderboard, the portfolio dashboard and webhooks. The pages do their work
// through the JSON API, or through the same kernel functions it uses.
package ui

import (
	"github.com/gin-gonic/gin"

	"github.com/augurhq/augur/internal/ratelimit"

	"github.com/augurhq/augur/internal/web/kernel"
)

// Config is what the pages need besides the kernel.
type Config struct {
	// Presets lists the sentiment presets the forms offer.
	Presets []string
	// Accounts bounds the sign-in attempts and keys their counters.
	Accounts kernel.Accounts
}

// Server holds the pages' handlers.
type Server struct {
	*kernel.Kernel
	presets          []string
	loginIPRate      ratelimit.Limit
	loginAccountRate ratelimit.Limit
	rateKey          []byte
}

// New returns the pages' handlers on k.
func New(k *kernel.Kernel, c Config) *Server {
	return &Server{
		Kernel:           k,
		presets:          c.Presets,
		loginIPRate:      ratelimit.PerMinute(c.Accounts.LoginPerMinutePerIP),
		loginAccountRate: ratelimit.PerHour(c.Accounts.LoginPerHourPerAccount),
		rateKey:          []byte(c.Accounts.SecretKey),
	}
}

// Routes adds the pages open to everyone to site, and the others to
// signedIn, which requires a signed-in user.
func (s *Server) Routes(site, signedIn gin.IRoutes) {
	kernel.GetOrHead(site, "/docs", s.docsPage)
	kernel.GetOrHead(site, "/login", s.loginPage)
	site.POST("/login", s.login)
	kernel.GetOrHead(site, "/login/two-factor", s.loginTwoFactorPage)
	site.POST("/login/two-factor", s.loginTwoFactor)
	site.POST("/login/passkey/begin", s.beginPasskeyLogin)
	site.POST("/login/passkey/finish", s.finishPasskeyLogin)
	kernel.GetOrHead(site, "/register", s.registerPage)
	site.POST("/register", s.register)
	site.POST("/logout", s.logout)
	kernel.GetOrHead(signedIn, "/", s.indexPage)
	kernel.GetOrHead(signedIn, "/jobs/:id", s.jobPage)
	signedIn.POST("/jobs/:id/cancel", s.cancelForm)
	kernel.GetOrHead(signedIn, "/dashboard", s.dashboardPage)
	signedIn.POST("/dashboard/deposits", s.depositForm)
	signedIn.POST("/dashboard/orders", s.orderForm)
	signedIn.POST("/dashboard/dividends", s.dividendForm)
	kernel.GetOrHead(signedIn, "/models", s.modelsPage)
	kernel.GetOrHead(signedIn, "/watchlists", s.watchlistsPage)
	signedIn.POST("/watchlists", s.createWatchlistForm)
	signedIn.POST("/watchlists/:id/delete", s.deleteWatchlistForm)
	kernel.GetOrHead(signedIn, "/batches/:id", s.batchPage)
	signedIn.POST("/batches/:id/cancel", s.cancelBatchForm)
	signedIn.POST("/schedules/:id/pause", s.pauseScheduleForm)
	signedIn.POST("/schedules/:id/resume", s.resumeScheduleForm)
	signedIn.POST("/schedules/:id/delete", s.deleteScheduleForm)
	kernel.GetOrHead(signedIn, "/account", s.accountPage)
	signedIn.POST("/account/password", s.changePassword)
	signedIn.POST("/account/time-zone", s.setTimeZone)
	signedIn.POST("/account/tokens", s.createToken)
	signedIn.POST("/account/tokens/:id/revoke", s.revokeToken)
	signedIn.POST("/account/two-factor/totp", s.beginTOTP)
	signedIn.POST("/account/two-factor/totp/confirm", s.confirmTOTP)
	signedIn.POST("/account/two-factor/totp/disable", s.disableTOTP)
	signedIn.POST("/account/two-factor/passkeys/begin", s.beginPasskeyRegistration)
	signedIn.POST("/account/two-factor/passkeys/finish", s.finishPasskeyRegistration)
	signedIn.POST("/account/two-factor/passkeys/:id/delete", s.deletePasskey)
	signedIn.POST("/account/sessions/sign-out-others", s.signOutOthers)
	kernel.GetOrHead(signedIn, "/webhooks", s.webhooksPage)
	signedIn.POST("/webhooks", s.createWebhookForm)
	signedIn.POST("/webhooks/:id/delete", s.deleteWebhookForm)
	signedIn.POST("/webhooks/:id/deliveries/:delivery/replay", s.replayForm)
}

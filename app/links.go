package app

// Pages are where the links Roster sends point to: the paths, under ROSTER_BASE_URL, of the
// pages that serve them. app builds the links (Link, with the token in the query string) but
// does not know these paths: whoever serves the pages gives them in Config.Pages (the console,
// console.Pages; cmd wires it).
type Pages struct {
	AcceptInvitation string // ?token=: see, accept or decline an invitation
	SetPassword      string // ?token=: a password reset, or the first password of a user created directly
	VerifyEmail      string // ?token=: prove the address after sign-up
	ConfirmEmail     string // ?token=: confirm a new address
	Setup            string // ?token=: create the first operator
	ITSetup          string // ?token=: an organization's setup link, opened by its IT administrator (setuplinks.go)
	Login            string
	// Logo, followed by /{organization}/{image}, is an organization's current logo, served to
	// whoever has the address: emails and the invitation page show it (Organizations.LogoURL).
	Logo string
}

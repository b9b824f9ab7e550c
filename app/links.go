package app

// Paths of the console pages that links in emails and in the log point to. Links are always
// absolute, built by Link from ROSTER_BASE_URL, with the token in the query string; the
// console serves each of these paths.
const (
	PathAcceptInvitation = "/invitations/accept" // ?token=: see, accept or decline an invitation
	PathSetPassword      = "/reset-password"     // ?token=: a password reset, or the first password of a user created directly
	PathVerifyEmail      = "/verify-email"       // ?token=: prove the address after sign-up
	PathConfirmEmail     = "/confirm-email"      // ?token=: confirm a new address
	PathSetup            = "/setup"              // ?token=: create the first operator
	PathLogin            = "/login"
)

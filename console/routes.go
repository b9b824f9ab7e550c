package console

import (
	"net/http"

	"github.com/rosterhq/roster/app"
)

// Pages are the console's pages that links in emails and in the log open; cmd gives them to
// the app (app.Config.Pages), which builds the links.
var Pages = app.Pages{
	AcceptInvitation: "/invitations/accept",
	SetPassword:      "/reset-password",
	VerifyEmail:      "/verify-email",
	ConfirmEmail:     "/confirm-email",
	Setup:            "/setup",
	ITSetup:          "/it-setup",
	Login:            "/login",
	Logo:             "/logos",
}

// routes registers every page of the console.
func (s *Server) routes(mux *http.ServeMux) {
	mux.Handle("GET /static/", staticFiles())
	mux.HandleFunc("GET "+Pages.Logo+"/{org}/{image}", s.publicLogo) // no session: emails show it

	// Signed out: accounts and one-time links.
	s.handle(mux, "GET "+Pages.Login, public, s.loginPage)
	s.handle(mux, "POST "+Pages.Login, public, s.login)
	s.handle(mux, "POST /login/mfa", public, s.loginSecondStep)
	s.handle(mux, "POST /login/sso", public, s.loginSSO) // sso.go
	s.handle(mux, "GET "+app.SSOCallbackPath, public, s.ssoCallback)
	mux.HandleFunc("GET "+app.SSOSAMLPath+"{conn}", s.ssoMetadata)
	mux.HandleFunc("POST "+app.SSOSAMLPath+"{conn}/acs", s.ssoACS)                     // posted from the identity provider's origin
	s.handle(mux, "POST /login/mfa/passkey/options", public, s.loginMFAPasskeyOptions) // passkeys.go
	s.handle(mux, "POST /login/passkey/options", public, s.loginPasskeyOptions)
	s.handle(mux, "POST /login/passkey", public, s.loginPasskey)
	s.handle(mux, "GET /signup", public, s.signupPage)
	s.handle(mux, "POST /signup", public, s.signup)
	s.handle(mux, "POST /logout", public, s.logout)
	s.handle(mux, "GET "+Pages.SetPassword, public, s.resetPage)
	s.handle(mux, "POST "+Pages.SetPassword, public, s.reset)
	s.handle(mux, "GET "+Pages.Setup, public, s.setupPage)
	s.handle(mux, "POST "+Pages.Setup, public, s.setup)

	// Sign in with Roster: the sign-in step of an authorization request (oidc.go).
	s.handle(mux, "GET "+oidcContinuePath, public, s.oidcContinue) // signed out: login, or login_required
	s.handle(mux, "POST "+oidcContinuePath, signedIn, s.oidcContinue)
	s.handle(mux, "POST /language", public, s.language)
	s.handle(mux, "GET /forgot-password", public, s.forgotPage)
	s.handle(mux, "POST /forgot-password", public, s.forgot)
	s.handle(mux, "GET "+Pages.VerifyEmail, public, s.linkPage("verify.title", "verify.text", Pages.VerifyEmail, "verify.submit"))
	s.handle(mux, "POST "+Pages.VerifyEmail, public, s.verifyEmail)
	s.handle(mux, "GET "+Pages.ConfirmEmail, public, s.linkPage("confirm_email.title", "confirm_email.text", Pages.ConfirmEmail, "confirm_email.submit"))
	s.handle(mux, "POST "+Pages.ConfirmEmail, public, s.confirmEmail)
	s.handle(mux, "GET "+Pages.AcceptInvitation, public, s.acceptPage)
	s.handle(mux, "POST "+Pages.AcceptInvitation, public, s.accept)
	s.handle(mux, "POST /invitations/decline", public, s.decline)

	// Identities of this browser.
	s.handle(mux, "POST /accounts/switch", signedIn, s.switchAccount)
	s.handle(mux, "POST /accounts/signout", signedIn, s.signOutAccount)
	s.handle(mux, "POST /accounts/resume", public, s.switchAccount) // after the active identity signed out

	// Home and the selector.
	s.handle(mux, "GET /{$}", signedIn, s.home)
	s.handle(mux, "POST /select", signedIn, s.selectStore)

	// Organizations.
	s.handle(mux, "GET /orgs/new", signedIn, s.orgNewPage)
	s.handle(mux, "POST /orgs/new", signedIn, s.orgCreate)
	s.handle(mux, "GET /orgs/{org}", signedIn, s.orgIndex)
	s.handle(mux, "GET /orgs/{org}/details", signedIn, s.orgDetails)
	s.handle(mux, "POST /orgs/{org}/details", signedIn, s.orgDetailsSave)
	s.handle(mux, "POST /orgs/{org}/logo", signedIn, s.orgLogoSave)
	s.handle(mux, "GET /orgs/{org}/logo", signedIn, s.orgLogo)
	s.handle(mux, "GET /orgs/{org}/stores", signedIn, s.orgStores)
	s.handle(mux, "GET /orgs/{org}/stores/new", signedIn, s.orgStores)
	s.handle(mux, "POST /orgs/{org}/stores/new", signedIn, s.storeCreate)
	s.handle(mux, "GET /orgs/{org}/stores/{store}/archive", signedIn, s.orgStores)
	s.handle(mux, "POST /orgs/{org}/stores/{store}/archive", signedIn, s.storeArchive)
	s.handle(mux, "POST /orgs/{org}/stores/{store}/unarchive", signedIn, s.storeUnarchive)
	s.handle(mux, "GET /orgs/{org}/stores/{store}/delete", signedIn, s.orgStores)
	s.handle(mux, "POST /orgs/{org}/stores/{store}/delete", signedIn, s.storeDelete)
	s.handle(mux, "GET /orgs/{org}/members", signedIn, s.orgMembers)
	s.handle(mux, "GET /orgs/{org}/members/new", signedIn, s.orgMembers)
	s.handle(mux, "POST /orgs/{org}/members/new", signedIn, s.addMember)
	s.handle(mux, "GET /orgs/{org}/members/create", signedIn, s.orgMembers)
	s.handle(mux, "POST /orgs/{org}/members/create", signedIn, s.createUser)
	s.handle(mux, "GET /orgs/{org}/members/{user}/password-reset", signedIn, s.orgMembers)
	s.handle(mux, "POST /orgs/{org}/members/{user}/password-reset", signedIn, s.memberPasswordReset)
	s.handle(mux, "GET /orgs/{org}/members/{user}/two-factor-reset", signedIn, s.orgMembers)
	s.handle(mux, "POST /orgs/{org}/members/{user}/two-factor-reset", signedIn, s.memberTwoFactorReset)
	s.handle(mux, "GET /orgs/{org}/members/{user}/stores", signedIn, s.orgMembers)
	s.handle(mux, "POST /orgs/{org}/members/{user}/stores", signedIn, s.memberStoreSave)
	s.handle(mux, "GET /orgs/{org}/members/{user}/stores/{store}/remove", signedIn, s.orgMembers)
	s.handle(mux, "POST /orgs/{org}/members/{user}/stores/remove", signedIn, s.memberStoreRemove)
	s.handle(mux, "GET /orgs/{org}/members/{user}/role", signedIn, s.orgMembers)
	s.handle(mux, "POST /orgs/{org}/members/{user}/role", signedIn, s.memberRole)
	s.handle(mux, "POST /orgs/{org}/members/{user}/suspend", signedIn, s.memberSuspend)
	s.handle(mux, "POST /orgs/{org}/members/{user}/reactivate", signedIn, s.memberReactivate)
	s.handle(mux, "GET /orgs/{org}/members/{user}/remove", signedIn, s.orgMembers)
	s.handle(mux, "POST /orgs/{org}/members/{user}/remove", signedIn, s.memberRemove)
	s.handle(mux, "GET /orgs/{org}/invitations", signedIn, s.orgInvitations)
	s.handle(mux, "POST /orgs/{org}/invitations/{inv}/resend", signedIn, s.invitationResend)
	s.handle(mux, "GET /orgs/{org}/invitations/{inv}/cancel", signedIn, s.orgInvitations)
	s.handle(mux, "POST /orgs/{org}/invitations/{inv}/cancel", signedIn, s.invitationCancel)
	s.handle(mux, "GET /orgs/{org}/policy", signedIn, s.orgPolicy)
	s.handle(mux, "POST /orgs/{org}/policy", signedIn, s.orgPolicySave)
	s.handle(mux, "GET /orgs/{org}/roles", signedIn, s.orgRoles)
	s.handle(mux, "GET /orgs/{org}/roles/new", signedIn, s.orgRoles)
	s.handle(mux, "POST /orgs/{org}/roles/new", signedIn, s.roleCreate)
	s.handle(mux, "GET /orgs/{org}/roles/{role}/edit", signedIn, s.orgRoles)
	s.handle(mux, "POST /orgs/{org}/roles/{role}/edit", signedIn, s.roleUpdate)
	s.handle(mux, "GET /orgs/{org}/roles/{role}/delete", signedIn, s.orgRoles)
	s.handle(mux, "POST /orgs/{org}/roles/{role}/delete", signedIn, s.roleDelete)
	s.handle(mux, "GET /orgs/{org}/api-keys", signedIn, s.orgKeys)
	s.handle(mux, "GET /orgs/{org}/api-keys/new", signedIn, s.orgKeys)
	s.handle(mux, "POST /orgs/{org}/api-keys/new", signedIn, s.keyCreate)
	s.handle(mux, "GET /orgs/{org}/api-keys/{key}/clone", signedIn, s.orgKeys)
	s.handle(mux, "POST /orgs/{org}/api-keys/{key}/clone", signedIn, s.keyClone)
	s.handle(mux, "GET /orgs/{org}/api-keys/{key}/revoke", signedIn, s.orgKeys)
	s.handle(mux, "POST /orgs/{org}/api-keys/{key}/revoke", signedIn, s.keyRevoke)
	s.handle(mux, "GET /orgs/{org}/api-keys/{key}/requests", signedIn, s.orgKeys)
	s.handle(mux, "GET /orgs/{org}/sso", signedIn, s.orgSSO)
	s.handle(mux, "POST /orgs/{org}/sso", signedIn, s.ssoSave)
	s.handle(mux, "POST /orgs/{org}/sso/delete", signedIn, s.ssoRemove)
	s.handle(mux, "POST /orgs/{org}/sso/domains/{domain}", signedIn, s.ssoRequire)
	s.handle(mux, "GET /orgs/{org}/domains", signedIn, s.orgDomains)
	s.handle(mux, "POST /orgs/{org}/domains", signedIn, s.domainAdd)
	s.handle(mux, "POST /orgs/{org}/domains/{domain}/verify", signedIn, s.domainVerify)
	s.handle(mux, "POST /orgs/{org}/domains/{domain}/join", signedIn, s.domainJoin)
	s.handle(mux, "GET /orgs/{org}/domains/{domain}/delete", signedIn, s.orgDomains)
	s.handle(mux, "POST /orgs/{org}/domains/{domain}/delete", signedIn, s.domainRemove)
	s.handle(mux, "GET /orgs/{org}/scim", signedIn, s.orgSCIM)
	s.handle(mux, "POST /orgs/{org}/scim", signedIn, s.scimCreate)
	s.handle(mux, "POST /orgs/{org}/scim/{dir}/rotate", signedIn, s.scimRotate)
	s.handle(mux, "GET /orgs/{org}/scim/{dir}/delete", signedIn, s.orgSCIM)
	s.handle(mux, "POST /orgs/{org}/scim/{dir}/delete", signedIn, s.scimDelete)
	s.handle(mux, "POST /orgs/{org}/scim/{dir}/groups/{group}", signedIn, s.scimMap)
	s.handle(mux, "GET /orgs/{org}/setup-links", signedIn, s.orgSetupLinks) // setuplinks.go
	s.handle(mux, "POST /orgs/{org}/setup-links", signedIn, s.setupLinkCreate)
	s.handle(mux, "POST /orgs/{org}/setup-links/{link}/revoke", signedIn, s.setupLinkRevoke)
	s.handle(mux, "POST /orgs/{org}/join-requests/{request}/approve", signedIn, s.joinRequestAnswer(true))
	s.handle(mux, "POST /orgs/{org}/join-requests/{request}/decline", signedIn, s.joinRequestAnswer(false))
	s.handle(mux, "POST /join-requests", signedIn, s.joinRequest)
	s.handle(mux, "GET /orgs/{org}/webhooks", signedIn, s.orgWebhooks)
	s.handle(mux, "GET /orgs/{org}/webhooks/new", signedIn, s.orgWebhooks)
	s.handle(mux, "POST /orgs/{org}/webhooks/new", signedIn, s.webhookCreate)
	s.handle(mux, "GET /orgs/{org}/webhooks/{hook}", signedIn, s.orgWebhook)
	s.handle(mux, "POST /orgs/{org}/webhooks/{hook}", signedIn, s.webhookUpdate)
	s.handle(mux, "GET /orgs/{org}/webhooks/{hook}/rotate", signedIn, s.orgWebhook)
	s.handle(mux, "POST /orgs/{org}/webhooks/{hook}/rotate", signedIn, s.webhookRotate)
	s.handle(mux, "POST /orgs/{org}/webhooks/{hook}/test", signedIn, s.webhookTest)
	s.handle(mux, "POST /orgs/{org}/webhooks/{hook}/redeliver", signedIn, s.webhookRedeliver)
	s.handle(mux, "POST /orgs/{org}/webhooks/{hook}/replay", signedIn, s.webhookReplay)
	s.handle(mux, "GET /orgs/{org}/webhooks/{hook}/delete", signedIn, s.orgWebhook)
	s.handle(mux, "POST /orgs/{org}/webhooks/{hook}/delete", signedIn, s.webhookDelete)
	s.handle(mux, "GET /orgs/{org}/usage", signedIn, s.orgUsage)
	s.handle(mux, "GET /orgs/{org}/audit", signedIn, s.orgAudit)
	s.handle(mux, "GET /orgs/{org}/audit/export", signedIn, s.auditExport)
	s.handle(mux, "GET /orgs/{org}/delete", signedIn, s.deletePage)
	s.handle(mux, "POST /orgs/{org}/delete", signedIn, s.deleteOrg)
	s.handle(mux, "GET /orgs/{org}/transfer", signedIn, s.transferPage)
	s.handle(mux, "POST /orgs/{org}/transfer", signedIn, s.transfer)

	// A setup link's pages (setuplinks.go): one organization's domains, single sign-on and SCIM
	// directories for its IT administrator, through the Security tab's own handlers.
	s.handle(mux, "GET "+Pages.ITSetup, public, s.itSetupOpen) // ?token=: kept in a cookie, then the domains
	s.handle(mux, "POST "+Pages.ITSetup+"/leave", setupLink, s.itSetupLeave)
	s.handle(mux, "POST "+Pages.ITSetup+"/language", setupLink, s.language)
	s.handle(mux, "GET "+Pages.ITSetup+"/domains", setupLink, s.orgDomains)
	s.handle(mux, "POST "+Pages.ITSetup+"/domains", setupLink, s.domainAdd)
	s.handle(mux, "POST "+Pages.ITSetup+"/domains/{domain}/verify", setupLink, s.domainVerify)
	s.handle(mux, "POST "+Pages.ITSetup+"/domains/{domain}/join", setupLink, s.domainJoin)
	s.handle(mux, "GET "+Pages.ITSetup+"/domains/{domain}/delete", setupLink, s.orgDomains)
	s.handle(mux, "POST "+Pages.ITSetup+"/domains/{domain}/delete", setupLink, s.domainRemove)
	s.handle(mux, "GET "+Pages.ITSetup+"/sso", setupLink, s.orgSSO)
	s.handle(mux, "POST "+Pages.ITSetup+"/sso", setupLink, s.ssoSave)
	s.handle(mux, "POST "+Pages.ITSetup+"/sso/delete", setupLink, s.ssoRemove)
	s.handle(mux, "POST "+Pages.ITSetup+"/sso/domains/{domain}", setupLink, s.ssoRequire)
	s.handle(mux, "GET "+Pages.ITSetup+"/scim", setupLink, s.orgSCIM)
	s.handle(mux, "POST "+Pages.ITSetup+"/scim", setupLink, s.scimCreate)
	s.handle(mux, "POST "+Pages.ITSetup+"/scim/{dir}/rotate", setupLink, s.scimRotate)
	s.handle(mux, "GET "+Pages.ITSetup+"/scim/{dir}/delete", setupLink, s.orgSCIM)
	s.handle(mux, "POST "+Pages.ITSetup+"/scim/{dir}/delete", setupLink, s.scimDelete)

	// Store manager.
	s.handle(mux, "GET /stores/{store}", signedIn, s.storePage)
	s.handle(mux, "POST /stores/{store}", signedIn, s.storeSave)
	s.handle(mux, "POST /stores/{store}/logo", signedIn, s.storeLogoSave)
	s.handle(mux, "GET /stores/{store}/logo", signedIn, s.storeLogo)
	s.handle(mux, "GET /stores/{store}/invite", signedIn, s.storePage)
	s.handle(mux, "POST /stores/{store}/invite", signedIn, s.storeInvite)
	s.handle(mux, "POST /stores/{store}/team/{user}", signedIn, s.teamRole)
	s.handle(mux, "GET /stores/{store}/team/{user}/remove", signedIn, s.storePage)
	s.handle(mux, "POST /stores/{store}/team/{user}/remove", signedIn, s.teamRemove)

	// Account.
	s.handle(mux, "GET /account", signedIn, s.accountPage)
	s.handle(mux, "POST /account/profile", signedIn, s.accountProfile)
	s.handle(mux, "POST /account/password", signedIn, s.accountPassword)
	s.handle(mux, "POST /account/2fa/setup", signedIn, s.accountTOTPSetup)
	s.handle(mux, "POST /account/2fa/confirm", signedIn, s.accountTOTPConfirm)
	s.handle(mux, "POST /account/2fa/recovery-codes", signedIn, s.accountRecoveryCodes)
	s.handle(mux, "POST /account/2fa/remove", signedIn, s.accountTwoFactorRemove)
	s.handle(mux, "POST /account/passkeys/options", signedIn, s.accountPasskeyOptions) // passkeys.go
	s.handle(mux, "POST /account/passkeys", signedIn, s.accountPasskeyAdd)
	s.handle(mux, "POST /account/passkeys/{passkey}/rename", signedIn, s.accountPasskeyRename)
	s.handle(mux, "POST /account/passkeys/{passkey}/remove", signedIn, s.accountPasskeyRemove)
	s.handle(mux, "GET /account/confirm", signedIn, s.confirmPage) // stepup.go
	s.handle(mux, "POST /account/confirm", signedIn, s.confirm)
	s.handle(mux, "POST /account/confirm/passkey-options", signedIn, s.confirmPasskeyOptions)
	s.handle(mux, "POST /account/email", signedIn, s.accountEmail)
	s.handle(mux, "POST /account/verification", signedIn, s.accountVerification)
	s.handle(mux, "POST /account/sessions/revoke", signedIn, s.accountRevokeSession)
	s.handle(mux, "POST /account/sessions/revoke-others", signedIn, s.accountRevokeOthers)
	s.handle(mux, "GET /account/orgs/{org}/leave", signedIn, s.accountPage)
	s.handle(mux, "POST /account/orgs/{org}/leave", signedIn, s.accountLeave)

	// Operators.
	s.handle(mux, "GET /operator/organizations", operator, s.operatorOrgs)
	s.handle(mux, "POST /operator/organizations/{org}/credits", operator, s.operatorCredits)
	s.handle(mux, "GET /operator/users", operator, s.operatorUsers)
	s.handle(mux, "POST /operator/users/{user}/deactivate", operator, s.operatorDeactivate)
	s.handle(mux, "POST /operator/users/{user}/reactivate", operator, s.operatorReactivate)
	s.handle(mux, "POST /operator/users/{user}/reset-factors", operator, s.operatorResetFactors)
	s.handle(mux, "GET /operator/mailbox", operator, s.mailboxPage)
	s.handle(mux, "GET /operator/clients", operator, s.operatorClients)
	s.handle(mux, "POST /operator/clients", operator, s.operatorCreateClient)
	s.handle(mux, "POST /operator/clients/{id}/delete", operator, s.operatorDeleteClient)
	s.handle(mux, "GET /operator/clients/{id}", operator, s.operatorClient)
	s.handle(mux, "POST /operator/clients/{id}", operator, s.operatorUpdateClient)
	s.handle(mux, "POST /operator/clients/{id}/secret", operator, s.operatorRotateClientSecret)
	// The instance's webhook endpoints: the organizations' pages, without an organization.
	s.handle(mux, "GET /operator/webhooks", operator, s.orgWebhooks)
	s.handle(mux, "GET /operator/webhooks/new", operator, s.orgWebhooks)
	s.handle(mux, "POST /operator/webhooks/new", operator, s.webhookCreate)
	s.handle(mux, "GET /operator/webhooks/{hook}", operator, s.orgWebhook)
	s.handle(mux, "POST /operator/webhooks/{hook}", operator, s.webhookUpdate)
	s.handle(mux, "GET /operator/webhooks/{hook}/rotate", operator, s.orgWebhook)
	s.handle(mux, "POST /operator/webhooks/{hook}/rotate", operator, s.webhookRotate)
	s.handle(mux, "GET /operator/webhooks/{hook}/delete", operator, s.orgWebhook)
	s.handle(mux, "POST /operator/webhooks/{hook}/delete", operator, s.webhookDelete)
	s.handle(mux, "POST /operator/webhooks/{hook}/test", operator, s.webhookTest)
	s.handle(mux, "POST /operator/webhooks/{hook}/redeliver", operator, s.webhookRedeliver)
	s.handle(mux, "POST /operator/webhooks/{hook}/replay", operator, s.webhookReplay)
	s.handle(mux, "GET /operator/keys", operator, s.operatorSigningKeys)
	s.handle(mux, "POST /operator/keys/rotate", operator, s.operatorRotateSigningKeys)
}

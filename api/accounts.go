package api

import (
	"context"
	"net/http"

	"github.com/rosterhq/roster"
	"github.com/rosterhq/roster/app"
)

type createUserInput struct {
	OrgPath
	Body struct {
		Email  string            `json:"email" maxLength:"320"`
		Name   string            `json:"name" maxLength:"100"`
		Locale string            `json:"locale,omitempty" enum:"en,fr,es"`
		Role   string            `json:"role,omitempty" enum:"admin,member" doc:"Organization role; member when absent"`
		Stores []StoreMembership `json:"stores,omitempty" maxItems:"500"`
	}
}

type emailInput struct {
	Body struct {
		Email string `json:"email" maxLength:"320"`
	}
}

type tokenInput struct {
	Body struct {
		Token string `json:"token" maxLength:"200" doc:"The token of the one-time link"`
	}
}

type changeEmailInput struct {
	Body struct {
		Email    string `json:"email" maxLength:"320" doc:"The new address"`
		Password string `json:"password,omitempty" maxLength:"1024" doc:"Your password, unless you entered it in this session in the last 10 minutes"`
	}
}

func (s *Server) registerAccounts() {
	register(s.api, op("create-user", http.MethodPost, "/v1/organizations/{org}/users", "Create a user directly in the organization", "Members"),
		func(ctx context.Context, in *createUserInput) (*userOutput, error) {
			u, err := s.app.Accounts.Create(ctx, actor(ctx), in.Org, app.NewUserInput{Email: in.Body.Email, Name: in.Body.Name, Locale: in.Body.Locale,
				Role: roster.OrgRole(in.Body.Role), Stores: grantsInput(in.Body.Stores)})
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &userOutput{Body: userJSON(u)}, nil
		}, withStatus(http.StatusCreated),
		withDescription("Owner and admins. The new user receives a link to choose their password; no password is ever sent by email. "+
			"An address that already has an account gets user_exists: invite it instead (details.invite)."))

	register(s.api, op("send-password-reset", http.MethodPost, "/v1/organizations/{org}/members/{user}/password-reset", "Email a member a password reset link", "Members"),
		func(ctx context.Context, in *MemberPath) (*acceptedOutput, error) {
			if err := s.app.Accounts.SendPasswordReset(ctx, actor(ctx), in.Org, in.User); err != nil {
				return nil, s.fail(ctx, err)
			}
			return accepted("A link to choose a new password is on its way to the member."), nil
		}, withStatus(http.StatusAccepted), withDescription("Owner and admins, never on the owner. The link is valid 60 minutes."))

	register(s.api, public(op("request-password-reset", http.MethodPost, "/v1/auth/password-reset", "Ask for a password reset link", "Authentication")),
		func(ctx context.Context, in *emailInput) (*acceptedOutput, error) {
			if err := s.app.Accounts.RequestPasswordReset(ctx, actor(ctx), in.Body.Email); err != nil {
				return nil, s.fail(ctx, err)
			}
			return accepted("If an account uses this address, a link to choose a new password is on its way. It is valid 60 minutes."), nil
		}, withStatus(http.StatusAccepted),
		withDescription("Always the same answer, whether or not the address has an account. Limited per IP address and per address (429)."))

	register(s.api, public(op("verify-email", http.MethodPost, "/v1/auth/verify-email", "Verify an email address through its link", "Authentication")),
		func(ctx context.Context, in *tokenInput) (*userOutput, error) {
			u, err := s.app.Accounts.VerifyEmail(ctx, actor(ctx), in.Body.Token)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &userOutput{Body: userJSON(u)}, nil
		})

	register(s.api, public(op("confirm-email-change", http.MethodPost, "/v1/auth/confirm-email", "Confirm a new email address through its link", "Authentication")),
		func(ctx context.Context, in *tokenInput) (*userOutput, error) {
			u, err := s.app.Accounts.ConfirmEmailChange(ctx, actor(ctx), in.Body.Token)
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			return &userOutput{Body: userJSON(u)}, nil
		}, withDescription("Applies the change; the old address is told. The new address must still satisfy the policy of every organization of the user."))

	register(s.api, op("resend-verification", http.MethodPost, "/v1/me/verify-email", "Send me a new verification link", "Account"),
		func(ctx context.Context, _ *struct{}) (*acceptedOutput, error) {
			if err := s.app.Accounts.ResendVerification(ctx, actor(ctx)); err != nil {
				return nil, s.fail(ctx, err)
			}
			return accepted("A new verification link is on its way."), nil
		}, withStatus(http.StatusAccepted))

	register(s.api, op("change-email", http.MethodPost, "/v1/me/email", "Change my email address", "Account"),
		func(ctx context.Context, in *changeEmailInput) (*acceptedOutput, error) {
			if err := s.app.Accounts.RequestEmailChange(ctx, actor(ctx), in.Body.Email, in.Body.Password); err != nil {
				return nil, s.fail(ctx, err)
			}
			return accepted("A confirmation link is on its way to the new address; the change applies once it is followed."), nil
		}, withStatus(http.StatusAccepted),
		withDescription("Needs your password. The new address must be free and satisfy the policy of every organization you belong to."))
}

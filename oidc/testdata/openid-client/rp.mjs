// A relying party built on openid-client (panva), driven by oidc/openid_client_test.go:
//   node rp.mjs authorize ISSUER CLIENT_ID SECRET REDIRECT   -> {url, verifier, state, nonce}
//   node rp.mjs finish    ISSUER CLIENT_ID SECRET REDIRECT   (stdin: {callback, verifier, state, nonce})
//                                                             -> what each step returned
//   node rp.mjs client_credentials ISSUER CLIENT_ID SECRET [SCOPE] -> the token, its introspection,
//                                                             or {error} when refused
import * as client from "openid-client";
import { readFileSync } from "node:fs";

const [mode, issuer, clientId, secret, redirect] = process.argv.slice(2);
// Roster is served over plain http on the loopback interface in the test.
const config = await client.discovery(new URL(issuer), clientId, undefined, client.ClientSecretBasic(secret),
  { execute: [client.allowInsecureRequests] });

const out = {};
if (mode === "client_credentials") {
  // A machine client: the fifth argument is the permissions asked for (the scope), if any.
  try {
    const tokens = await client.clientCredentialsGrant(config, redirect ? { scope: redirect } : {});
    Object.assign(out, { access_token: tokens.access_token, token_type: tokens.token_type, expires_in: tokens.expiresIn(), scope: tokens.scope });
    out.introspection = await client.tokenIntrospection(config, tokens.access_token);
  } catch (e) {
    out.error = e.error || e.code || String(e);
  }
} else if (mode === "authorize") {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirect, scope: "openid profile email offline_access organization",
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256", state, nonce,
  });
  Object.assign(out, { url: url.href, verifier, state, nonce });
} else {
  const s = JSON.parse(readFileSync(0, "utf8"));
  const tokens = await client.authorizationCodeGrant(config, new URL(s.callback),
    { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce, idTokenExpected: true });
  out.claims = tokens.claims();
  out.scope = tokens.scope;
  out.token_type = tokens.token_type;
  out.userinfo = await client.fetchUserInfo(config, tokens.access_token, out.claims.sub);
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  out.refreshed_claims = refreshed.claims();
  out.refresh_rotated = refreshed.refresh_token !== tokens.refresh_token;
  out.introspection = await client.tokenIntrospection(config, refreshed.access_token);
  await client.tokenRevocation(config, refreshed.refresh_token);
  out.revoked = true;
  try {
    await client.refreshTokenGrant(config, refreshed.refresh_token);
    out.refresh_after_revocation = "accepted";
  } catch (e) {
    out.refresh_after_revocation = e.error || e.code || String(e);
  }
  // The first refresh token was rotated away: using it again is a reuse.
  try {
    await client.refreshTokenGrant(config, tokens.refresh_token);
    out.reused_refresh = "accepted";
  } catch (e) {
    out.reused_refresh = e.error || e.code || String(e);
  }
}
process.stdout.write(JSON.stringify(out));

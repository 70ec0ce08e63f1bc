// A local OpenID Provider for scimd's SSO tests: panva's oidc-provider (pinned in
// package-lock.json) on 127.0.0.1, one confidential client, PKCE required, RS256 keys made
// fresh per run. No login UI: the test picks the user with login_hint; an unknown hint ends
// in access_denied. Usage: node idp.mjs CALLBACK_URL CLIENT_ID CLIENT_SECRET
// Prints "issuer <url>" on stdout once it listens.
import http from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const [callback, clientId, clientSecret] = process.argv.slice(2);
const users = {
  alice: { sub: '00u-alice', email: 'alice@example.test', email_verified: true },
  carol: { sub: '00u-carol', email: 'carol@example.test', email_verified: false },
  mallory: { sub: '00u-mallory', email: 'mallory@example.test', email_verified: true },
};
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig', alg: 'RS256' };

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [callback],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [jwk] },
  pkce: { required: () => true },
  conformIdTokenClaims: false,
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['preferred_username'] },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: (ctx, id) => (users[id] ? { accountId: id, claims: () => users[id] } : undefined),
});

const app = provider.callback();
server.on('request', async (req, res) => {
  if (!req.url.startsWith('/interaction/')) return app(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    const { prompt, params } = details;
    if (prompt.name === 'login') {
      const hint = params.login_hint;
      const result = users[hint]
        ? { login: { accountId: hint } }
        : { error: 'access_denied', error_description: 'no such user' };
      return await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    }
    const grant = new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
    grant.addOIDCScope(params.scope);
    const grantId = await grant.save();
    return await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  } catch (err) {
    res.statusCode = 500;
    res.end(String(err));
  }
});
process.stdout.write(`issuer ${issuer}\n`);

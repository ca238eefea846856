// Runs one relying-party flow of openid-client 6 against a live IdP and prints JSON lines.
//
//   node flow.mjs [--auth client_secret_basic|private_key_jwt] [--par] [--jar] [--dpop] [--jarm]
//                 [--introspection-alg RS256|ES256] [--id-token-alg RS256|ES256]
//
// Environment: IDP_ISSUER, IDP_CLIENT_ID, IDP_CLIENT_SECRET (secret methods),
// IDP_CLIENT_JWK (the private JWK for private_key_jwt and JAR, JSON), IDP_REDIRECT_URI.
//
// Protocol on stdio: the script prints {"authorization_url": ...}; the caller signs in
// (a browser, or the pytest test with httpx) and writes the callback URL it was sent to
// as one line on stdin; the script then prints {"result": {...}} or {"error": "..."}.
import * as client from 'openid-client';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    auth: { type: 'string', default: 'client_secret_basic' },
    par: { type: 'boolean', default: false },
    jar: { type: 'boolean', default: false },
    dpop: { type: 'boolean', default: false },
    jarm: { type: 'boolean', default: false },
    'introspection-alg': { type: 'string' },
    'id-token-alg': { type: 'string', default: 'RS256' },
  },
});

const env = process.env;
const say = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);

async function importPrivateKey(jwk) {
  const algorithm = jwk.kty === 'EC'
    ? { name: 'ECDSA', namedCurve: jwk.crv }
    : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const key = await crypto.subtle.importKey('jwk', jwk, algorithm, false, ['sign']);
  return { key, kid: jwk.kid };
}

async function readLine() {
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    lines.close();
    return line.trim();
  }
  throw new Error('no callback URL on stdin');
}

async function main() {
  const issuer = new URL(env.IDP_ISSUER);
  const privateKey = env.IDP_CLIENT_JWK ? await importPrivateKey(JSON.parse(env.IDP_CLIENT_JWK)) : undefined;
  const auth = opts.auth === 'private_key_jwt'
    ? client.PrivateKeyJwt(privateKey)
    : client.ClientSecretBasic(env.IDP_CLIENT_SECRET);
  const metadata = { id_token_signed_response_alg: opts['id-token-alg'] };
  if (opts['introspection-alg']) {
    metadata.introspection_signed_response_alg = opts['introspection-alg'];
  }
  // The test IdP listens on plain http on 127.0.0.1; production issuers are https.
  const execute = issuer.protocol === 'http:' ? [client.allowInsecureRequests] : [];
  const config = await client.discovery(issuer, env.IDP_CLIENT_ID, metadata, auth, { execute });
  // Record the media type of each answer (a signed introspection answer is a JWT).
  const mediaTypes = {};
  config[client.customFetch] = async (url, options) => {
    const response = await fetch(url, options);
    mediaTypes[new URL(url).pathname] = response.headers.get('content-type');
    return response;
  };
  // Verify the signatures of ID tokens and signed introspection answers against the JWKS.
  client.enableNonRepudiationChecks(config);
  if (opts.jarm) {
    client.useJwtResponseMode(config); // response_mode=jwt, the answer verified as a JWT
  }
  const dpop = opts.dpop ? client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256')) : undefined;

  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const parameters = {
    redirect_uri: env.IDP_REDIRECT_URI,
    scope: 'openid profile offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    prompt: 'consent',
  };
  let url;
  if (opts.par && opts.jar) {
    const signed = await client.buildAuthorizationUrlWithJAR(config, parameters, privateKey);
    url = await client.buildAuthorizationUrlWithPAR(config, signed.searchParams, { DPoP: dpop });
  } else if (opts.par) {
    url = await client.buildAuthorizationUrlWithPAR(config, parameters, { DPoP: dpop });
  } else if (opts.jar) {
    url = await client.buildAuthorizationUrlWithJAR(config, parameters, privateKey);
  } else {
    url = client.buildAuthorizationUrl(config, parameters);
  }
  say({ authorization_url: url.href });

  const callback = new URL(await readLine());
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
  }, undefined, { DPoP: dpop });
  const claims = tokens.claims();
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub, { DPoP: dpop });
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP: dpop });
  const introspection = await client.tokenIntrospection(config, refreshed.access_token);
  say({
    result: {
      token_type: tokens.token_type,
      id_token_claims: claims,
      userinfo,
      refreshed: {
        token_type: refreshed.token_type,
        new_refresh_token: Boolean(refreshed.refresh_token)
          && refreshed.refresh_token !== tokens.refresh_token,
        id_token_sub: refreshed.claims()?.sub,
      },
      introspection,
      introspection_media_type: mediaTypes['/oauth/introspect'],
      callback_had_response: callback.searchParams.has('response'),
    },
  });
}

main().catch((error) => {
  say({ error: `${error.name}: ${error.message}`, code: error.code, cause: error.cause?.error ?? null });
  process.exitCode = 1;
});

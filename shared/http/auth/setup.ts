/** Builds the authenticators from the parsed settings (for main.ts) and says at boot what is — and is not — protected. */
import type { AppLogger } from '../../ports/logger.js';
import type { OperatorAuthConfig, PushAuthConfig } from '../../config/auth-env.js';
import { apiKeyId } from '../api-key-auth.js';
import { GoogleIdTokenVerifier, HttpCertSource, type CertSource } from './id-token.js';
import { loadApiKeys, type SecretResolver } from './api-key-source.js';
import type { OperatorAuthOptions } from './operator-auth.js';
import type { PushAuth } from './push-auth.js';

/** Google's keys, fetched lazily and cached per their max-age; one source per process, shared by all verifiers. */
export function googleCertSource(url: string): CertSource {
  return new HttpCertSource({ url });
}

export async function buildOperatorAuth(
  cfg: OperatorAuthConfig,
  deps: { resolver: SecretResolver; certs: CertSource; logger: AppLogger },
): Promise<OperatorAuthOptions> {
  const apiKeys = await loadApiKeys({ keys: cfg.apiKeys, secret: cfg.apiKeySecret }, deps.resolver);
  const opts: OperatorAuthOptions = {
    ...(apiKeys.length > 0 ? { apiKeys } : {}),
    ...(cfg.oidc ? { idTokens: new GoogleIdTokenVerifier({ ...cfg.oidc, certs: deps.certs }) } : {}),
  };
  deps.logger.info(
    {
      event: 'OPERATOR_AUTH',
      api_key_ids: apiKeys.map(apiKeyId),
      api_key_secret: cfg.apiKeySecret ?? null,
      oidc_audience: cfg.oidc?.audience ?? null,
      oidc_emails: cfg.oidc?.allowedEmails ?? null,
    },
    `operator endpoints accept ${[apiKeys.length > 0 ? `X-API-Key (${apiKeys.length} key${apiKeys.length === 1 ? '' : 's'})` : '', cfg.oidc ? 'Google ID tokens' : ''].filter(Boolean).join(' and ')}`,
  );
  return opts;
}

export function buildPushAuth(cfg: PushAuthConfig, deps: { certs: CertSource; logger: AppLogger; endpoint: string }): PushAuth {
  if (cfg.mode === 'disabled') {
    deps.logger.warn(
      { event: 'PUSH_AUTH_DISABLED' },
      `push authentication is OFF: ${deps.endpoint} accepts unauthenticated pushes (${cfg.explicit ? 'PUSH_AUTH=disabled' : 'no GCP project or PUSH_AUTH_* configured'})`,
    );
    return { mode: 'disabled' };
  }
  deps.logger.info(
    { event: 'PUSH_AUTH', mode: cfg.mode, audience: cfg.policy.audience, service_accounts: cfg.policy.allowedEmails },
    `push authentication (${cfg.mode}) on ${deps.endpoint}`,
  );
  return cfg.mode === 'oidc'
    ? { mode: 'oidc', verifier: new GoogleIdTokenVerifier({ ...cfg.policy, certs: deps.certs }) }
    : { mode: 'iam', policy: cfg.policy };
}

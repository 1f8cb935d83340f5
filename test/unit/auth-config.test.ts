import { describe, expect, it } from 'vitest';
import { loadCoordinatorConfig } from '../../services/coordinator/config.js';
import { loadWorkerConfig } from '../../services/worker/config.js';
import { operatorAuthConfig, pushAuthConfig } from '../../shared/config/auth-env.js';
import { loadApiKeys, parseKeyList, type SecretResolver } from '../../shared/http/auth/api-key-source.js';
import { ApiKeySet, apiKeyId } from '../../shared/http/api-key-auth.js';
import { buildOperatorAuth, buildPushAuth } from '../../shared/http/auth/setup.js';
import { StaticCertSource } from '../../shared/http/auth/id-token.js';
import { createLogger } from '../../shared/logging/logger.js';
import { captureLogs } from '../helpers/oidc.js';

const KEY = 'key-0123456789abcdef';
const OLD = 'old-key-0123456789abcdef';
const NEW = 'new-key-0123456789abcdef';
const SECRET = 'projects/nba-props/secrets/coordinator-api-keys/versions/latest';

/** An in-memory Secret Manager. */
function fakeResolver(secrets: Record<string, string>): SecretResolver & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    async access(name) {
      reads.push(name);
      const value = secrets[name];
      if (value === undefined) throw new Error(`5 NOT_FOUND: Secret [${name}] not found or has no versions`);
      return value;
    },
  };
}

describe('coordinator operator-auth configuration', () => {
  it('fails with a message naming every way to authenticate when none is configured', () => {
    expect(() => loadCoordinatorConfig({})).toThrow(
      /no operator authentication is configured: set COORDINATOR_API_KEY, COORDINATOR_API_KEYS or COORDINATOR_API_KEY_SECRET.*OPERATOR_AUTH_AUDIENCE/,
    );
    expect(() => loadCoordinatorConfig({ COORDINATOR_API_KEY: '   ' })).toThrow(/no operator authentication/);
  });

  it('accepts an API key alone, a key list alone, a secret alone, or OIDC alone', () => {
    expect(operatorAuthConfig(loadCoordinatorConfig({ COORDINATOR_API_KEY: KEY }))).toEqual({
      apiKeys: [KEY],
      apiKeySecret: undefined,
      oidc: undefined,
    });
    expect(operatorAuthConfig(loadCoordinatorConfig({ COORDINATOR_API_KEYS: `${NEW}, ${OLD}` })).apiKeys).toEqual([NEW, OLD]);
    expect(operatorAuthConfig(loadCoordinatorConfig({ COORDINATOR_API_KEY_SECRET: SECRET })).apiKeySecret).toBe(SECRET);
    const oidc = operatorAuthConfig(
      loadCoordinatorConfig({
        OPERATOR_AUTH_AUDIENCE: 'https://c.run.app',
        OPERATOR_AUTH_EMAILS: 'ops@example.com, sched@p.iam.gserviceaccount.com',
      }),
    );
    expect(oidc).toEqual({
      apiKeys: [],
      apiKeySecret: undefined,
      oidc: { audience: ['https://c.run.app'], allowedEmails: ['ops@example.com', 'sched@p.iam.gserviceaccount.com'] },
    });
  });

  it('rejects short keys, half an OIDC setup, bad emails and a malformed secret name — without echoing a key', () => {
    const short = 'short-key';
    const err = (env: Record<string, string>) => {
      try {
        loadCoordinatorConfig(env);
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('expected a configuration error');
    };
    const shortMsg = err({ COORDINATOR_API_KEY: short });
    expect(shortMsg).toMatch(/COORDINATOR_API_KEY: must be at least 16 characters/);
    expect(shortMsg).not.toContain(short);
    expect(err({ COORDINATOR_API_KEYS: `${KEY},${short}` })).toMatch(/COORDINATOR_API_KEYS\.1: must be at least 16/);
    expect(err({ COORDINATOR_API_KEY: KEY, OPERATOR_AUTH_AUDIENCE: 'https://c.run.app' })).toMatch(
      /OPERATOR_AUTH_EMAILS: OPERATOR_AUTH_AUDIENCE and OPERATOR_AUTH_EMAILS go together/,
    );
    expect(err({ OPERATOR_AUTH_AUDIENCE: 'https://c.run.app', OPERATOR_AUTH_EMAILS: 'not-an-email' })).toMatch(/OPERATOR_AUTH_EMAILS\.0/);
    expect(err({ COORDINATOR_API_KEY_SECRET: 'coordinator-api-keys' })).toMatch(
      /COORDINATOR_API_KEY_SECRET: must be a Secret Manager version name: projects\/PROJECT\/secrets\/SECRET\/versions\/VERSION/,
    );
    expect(err({ COORDINATOR_API_KEY: KEY, OIDC_CERTS_URL: 'http://certs.example.com/x' })).toMatch(/OIDC_CERTS_URL: must be an https URL/);
  });
});

describe('push-auth configuration', () => {
  it('is off in the embedded default (no GCP project)', () => {
    expect(pushAuthConfig(loadWorkerConfig({}))).toEqual({ mode: 'disabled', explicit: false });
  });

  it('is required in production: GCP_PROJECT_ID without push settings fails, naming the variables and the escape hatch', () => {
    expect(() => loadWorkerConfig({ GCP_PROJECT_ID: 'nba-props' })).toThrow(
      /PUSH_AUTH_AUDIENCE: required: push authentication is on by default when GCP_PROJECT_ID is set.*PUSH_AUTH=disabled.*PUSH_AUTH_SERVICE_ACCOUNTS: required/,
    );
    expect(() => loadCoordinatorConfig({ COORDINATOR_API_KEY: KEY, GCP_PROJECT_ID: 'nba-props' })).toThrow(/PUSH_AUTH_AUDIENCE: required/);
  });

  it('turns on as soon as any PUSH_AUTH_* is set, and then needs both', () => {
    expect(() => loadWorkerConfig({ PUSH_AUTH_AUDIENCE: 'https://w.run.app/predict' })).toThrow(/PUSH_AUTH_SERVICE_ACCOUNTS: required/);
  });

  it('builds the policy from the audience and the service accounts (oidc by default, iam on request)', () => {
    const env = {
      GCP_PROJECT_ID: 'nba-props',
      BIGQUERY_LOCATION: 'US',
      PUSH_AUTH_AUDIENCE: 'https://w.run.app/predict',
      PUSH_AUTH_SERVICE_ACCOUNTS: 'push@nba-props.iam.gserviceaccount.com',
    };
    const policy = { audience: ['https://w.run.app/predict'], allowedEmails: ['push@nba-props.iam.gserviceaccount.com'] };
    expect(pushAuthConfig(loadWorkerConfig(env))).toEqual({ mode: 'oidc', policy });
    expect(pushAuthConfig(loadWorkerConfig({ ...env, PUSH_AUTH: 'iam' }))).toEqual({ mode: 'iam', policy });
  });

  it('PUSH_AUTH=disabled opens it explicitly, even in a GCP project; PUSH_AUTH=oidc without settings fails', () => {
    expect(pushAuthConfig(loadWorkerConfig({ GCP_PROJECT_ID: 'nba-props', BIGQUERY_LOCATION: 'US', PUSH_AUTH: 'disabled' }))).toEqual({
      mode: 'disabled',
      explicit: true,
    });
    expect(() => loadWorkerConfig({ PUSH_AUTH: 'oidc' })).toThrow(/PUSH_AUTH_AUDIENCE: required: PUSH_AUTH=oidc/);
    expect(() => loadWorkerConfig({ PUSH_AUTH: 'sometimes' })).toThrow(/PUSH_AUTH/);
  });
});

describe('API keys: sources, rotation and matching', () => {
  it('merges env keys with the secret (one per line, comments and blanks ignored), deduplicated', async () => {
    const resolver = fakeResolver({ [SECRET]: `# rotation 2026-11: new first\n${NEW}\n\n${OLD}\n${KEY}\n` });
    expect(await loadApiKeys({ keys: [KEY], secret: SECRET }, resolver)).toEqual([KEY, NEW, OLD]);
    expect(resolver.reads).toEqual([SECRET]);
  });

  it('does not touch Secret Manager when no secret is configured', async () => {
    const resolver = fakeResolver({});
    expect(await loadApiKeys({ keys: [KEY] }, resolver)).toEqual([KEY]);
    expect(resolver.reads).toEqual([]);
  });

  it('fails the boot clearly when the secret is unreadable, empty, holds a short key, or is misnamed — never echoing a key', async () => {
    await expect(loadApiKeys({ keys: [], secret: SECRET }, fakeResolver({}))).rejects.toThrow(
      /could not read the API keys from Secret Manager \(projects\/nba-props.*NOT_FOUND.*secretAccessor/,
    );
    await expect(loadApiKeys({ keys: [], secret: SECRET }, fakeResolver({ [SECRET]: '# nothing yet\n' }))).rejects.toThrow(
      /holds no API key/,
    );
    const short = 'tooshort';
    const failure = loadApiKeys({ keys: [], secret: SECRET }, fakeResolver({ [SECRET]: `${NEW}\n${short}\n` }));
    await expect(failure).rejects.toThrow(/line 2 holds a key shorter than 16 characters/);
    await expect(failure).rejects.not.toThrow(new RegExp(short));
    await expect(loadApiKeys({ keys: [], secret: 'projects/p/secrets/s' }, fakeResolver({}))).rejects.toThrow(
      /not a Secret Manager version name/,
    );
  });

  it('parseKeyList also takes commas, and refuses keys with inner whitespace', () => {
    expect(parseKeyList(`${NEW},${OLD}\r\n`, 'test')).toEqual([NEW, OLD]);
    expect(() => parseKeyList(`${NEW}\tx${OLD}`, 'test')).toThrow(/line 1 holds a key with whitespace inside/);
  });

  it('ApiKeySet accepts every configured key (old and new during a rotation) and names the match by a short id', () => {
    const set = new ApiKeySet([NEW, OLD]);
    expect(set.match(NEW)).toBe(apiKeyId(NEW));
    expect(set.match(OLD)).toBe(apiKeyId(OLD));
    expect(set.match(KEY)).toBeUndefined();
    expect(set.match('')).toBeUndefined();
    expect(set.match(`${NEW}x`)).toBeUndefined();
    expect(apiKeyId(NEW)).toMatch(/^[0-9a-f]{8}$/);
    expect(apiKeyId(NEW)).not.toBe(apiKeyId(OLD));
  });
});

describe('boot: building the authenticators', () => {
  it('loads env and secret keys, logs only their ids, and builds a verifier when OIDC is configured', async () => {
    const logs = captureLogs();
    const logger = createLogger({ service: 't', level: 'info', destination: logs.destination });
    const cfg = operatorAuthConfig(
      loadCoordinatorConfig({
        COORDINATOR_API_KEY: KEY,
        COORDINATOR_API_KEY_SECRET: SECRET,
        OPERATOR_AUTH_AUDIENCE: 'https://c.run.app',
        OPERATOR_AUTH_EMAILS: 'ops@example.com',
      }),
    );
    const auth = await buildOperatorAuth(cfg, {
      resolver: fakeResolver({ [SECRET]: `${NEW}\n${OLD}\n` }),
      certs: new StaticCertSource({}),
      logger,
    });
    expect(auth.apiKeys).toEqual([KEY, NEW, OLD]);
    expect(auth.idTokens).toBeDefined();
    const text = logs.text();
    for (const k of [KEY, NEW, OLD]) {
      expect(text).not.toContain(k);
      expect(text).toContain(apiKeyId(k));
    }
  });

  it('warns once at boot when push authentication is off, and says how it is on otherwise', () => {
    const logs = captureLogs();
    const logger = createLogger({ service: 't', level: 'info', destination: logs.destination });
    expect(buildPushAuth({ mode: 'disabled', explicit: false }, { certs: new StaticCertSource({}), logger, endpoint: '/predict' })).toEqual(
      { mode: 'disabled' },
    );
    const policy = { audience: ['https://w.run.app/predict'], allowedEmails: ['push@p.iam.gserviceaccount.com'] };
    expect(buildPushAuth({ mode: 'oidc', policy }, { certs: new StaticCertSource({}), logger, endpoint: '/predict' }).mode).toBe('oidc');
    expect(buildPushAuth({ mode: 'iam', policy }, { certs: new StaticCertSource({}), logger, endpoint: '/predict' })).toEqual({
      mode: 'iam',
      policy,
    });
    const lines = logs.lines();
    expect(lines.filter((l) => l.severity === 'WARNING')).toEqual([
      expect.objectContaining({ event: 'PUSH_AUTH_DISABLED', message: expect.stringMatching(/push authentication is OFF: \/predict/) }),
    ]);
    expect(lines.filter((l) => l.event === 'PUSH_AUTH').map((l) => l.mode)).toEqual(['oidc', 'iam']);
  });
});

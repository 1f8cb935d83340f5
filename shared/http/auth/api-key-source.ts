/**
 * Where the coordinator's API keys come from: the environment (`COORDINATOR_API_KEY`, `COORDINATOR_API_KEYS`) and/or a
 * Secret Manager secret version (`COORDINATOR_API_KEY_SECRET`) read once at boot. The secret holds one key per line (blank
 * lines and `#` comments ignored), so during a rotation it holds both the old and the new key.
 *
 * Secret Manager sits behind `SecretResolver` so tests use an in-memory fake; the real client is imported lazily, so a
 * service without a secret never loads it. No key is ever put in an error message.
 */
import { MIN_API_KEY_LENGTH, SECRET_VERSION_PATTERN } from '../../auth/auth-rules.js';
import { errorMessage } from '../../errors/error-message.js';

export interface SecretResolver {
  /** The payload of a secret version, as UTF-8 text. */
  access(versionName: string): Promise<string>;
}

export function assertSecretVersionName(name: string): void {
  if (!SECRET_VERSION_PATTERN.test(name)) {
    throw new Error(
      `'${name}' is not a Secret Manager version name: expected projects/PROJECT/secrets/SECRET/versions/VERSION (VERSION a number or 'latest')`,
    );
  }
}

/** The Secret Manager client, created for the one read at boot and closed after it. */
export function secretManagerResolver(): SecretResolver {
  return {
    async access(versionName) {
      assertSecretVersionName(versionName);
      const { SecretManagerServiceClient } = await import('@google-cloud/secret-manager');
      const client = new SecretManagerServiceClient();
      try {
        const [version] = await client.accessSecretVersion({ name: versionName });
        const data = version.payload?.data;
        if (data === null || data === undefined) throw new Error('the secret version has no payload');
        return typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
      } finally {
        await client.close();
      }
    },
  };
}

/** One key per line (commas also separate); blank lines and `#` comments ignored. `source` names where the text came from. */
export function parseKeyList(text: string, source: string): string[] {
  const keys: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    for (const part of trimmed.split(',')) {
      const key = part.trim();
      if (key === '') continue;
      if (/\s/.test(key)) throw new Error(`${source}: line ${i + 1} holds a key with whitespace inside`);
      if (key.length < MIN_API_KEY_LENGTH)
        throw new Error(`${source}: line ${i + 1} holds a key shorter than ${MIN_API_KEY_LENGTH} characters`);
      keys.push(key);
    }
  });
  return keys;
}

export interface ApiKeySources {
  /** Keys given directly (already validated by the config schema). */
  keys: readonly string[];
  /** A Secret Manager version name holding more keys. */
  secret?: string | undefined;
}

/** Every configured key, deduplicated. A configured secret that cannot be read, or holds no key, fails the boot. */
export async function loadApiKeys(sources: ApiKeySources, resolver: SecretResolver): Promise<string[]> {
  const keys = [...sources.keys];
  if (sources.secret !== undefined) {
    assertSecretVersionName(sources.secret);
    let text: string;
    try {
      text = await resolver.access(sources.secret);
    } catch (err) {
      throw new Error(
        `could not read the API keys from Secret Manager (${sources.secret}): ${errorMessage(err)} — the service account needs roles/secretmanager.secretAccessor on the secret`,
        { cause: err },
      );
    }
    const fromSecret = parseKeyList(text, `secret ${sources.secret}`);
    if (fromSecret.length === 0) throw new Error(`secret ${sources.secret} holds no API key (one key per line expected)`);
    keys.push(...fromSecret);
  }
  return [...new Set(keys)];
}

/**
 * The authentication rules both the config schemas (shared/config/auth-env.ts, services/coordinator/config.ts) and the
 * HTTP authenticators (shared/http/…) apply: in one neutral module, so configuration imports no HTTP code. See
 * docs/security.md.
 */

/** The shortest API key accepted for X-API-Key, from the env or a secret. */
export const MIN_API_KEY_LENGTH = 16;

/** `projects/<project id or number>/secrets/<secret>/versions/<version number | latest | alias>` */
export const SECRET_VERSION_PATTERN = /^projects\/[a-z0-9][a-z0-9-]{0,62}\/secrets\/[A-Za-z0-9_-]{1,255}\/versions\/[A-Za-z0-9_-]{1,63}$/;

/**
 * Google's token-signing keys as PEM, `{kid: pem}` — the format google-auth-library's `verifySignedJwtWithCertsAsync` takes
 * (https://developers.google.com/identity/openid-connect/openid-connect#validatinganidtoken).
 */
export const GOOGLE_PEM_CERTS_URL = 'https://www.googleapis.com/oauth2/v1/certs';

/** Who may present a token: the audiences it must be minted for and the identities (`email` claim) allowed. */
export interface IdTokenPolicy {
  audience: readonly string[];
  allowedEmails: readonly string[];
}

/** The coordinator over HTTP: base URL, credentials, JSON in and out. Network failures become a CliError saying what to check. */
import { CliError } from './errors.js';
import { EXIT } from './exit-codes.js';
import type { Json } from './json.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export interface Credentials {
  /** Sent as `X-API-Key` (env COORDINATOR_API_KEY). */
  apiKey: string | undefined;
  /** Sent as `Authorization: Bearer` (env COORDINATOR_ID_TOKEN), e.g. `gcloud auth print-identity-token`. */
  idToken: string | undefined;
}

export interface ApiResponse {
  status: number;
  body: Json;
}

export class CoordinatorClient {
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    readonly credentials: Credentials,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  get(path: string, query: Record<string, string | undefined> = {}, timeoutMs = 30_000): Promise<ApiResponse> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, v);
    const qs = params.toString();
    return this.request('GET', qs ? `${path}?${qs}` : path, undefined, timeoutMs);
  }

  post(path: string, body: Json, timeoutMs = 30_000): Promise<ApiResponse> {
    return this.request('POST', path, body, timeoutMs);
  }

  private async request(method: 'GET' | 'POST', path: string, body: Json | undefined, timeoutMs: number): Promise<ApiResponse> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.credentials.apiKey) headers['x-api-key'] = this.credentials.apiKey;
    if (this.credentials.idToken) headers.authorization = `Bearer ${this.credentials.idToken}`;
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.baseUrl}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw unreachable(this.baseUrl, method, path, err, timeoutMs);
    }
    const text = await res.text();
    return { status: res.status, body: parseBody(text, res.status) };
  }
}

function parseBody(text: string, status: number): Json {
  if (text.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Json) : { value: parsed };
  } catch {
    // A proxy or load balancer answered (HTML or plain text): keep the start of it for the message.
    return { status: 'error', message: `HTTP ${status} with a non-JSON body: ${text.slice(0, 200).replace(/\s+/g, ' ')}` };
  }
}

function unreachable(baseUrl: string, method: string, path: string, err: unknown, timeoutMs: number): CliError {
  const e = err instanceof Error ? err : new Error(String(err));
  const cause = (e as Error & { cause?: { code?: unknown; message?: unknown } }).cause;
  const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError';
  const reason = timedOut
    ? `no answer within ${Math.round(timeoutMs / 1000)} s`
    : typeof cause?.code === 'string'
      ? cause.code
      : typeof cause?.message === 'string'
        ? cause.message
        : e.message;
  return new CliError(
    EXIT.service,
    `could not reach the coordinator at ${baseUrl} (${method} ${path.split('?')[0] ?? path}: ${reason})`,
    [
      `is the URL right? It comes from --url or COORDINATOR_URL (default ${DEFAULT_URL})`,
      `is the service up? curl ${baseUrl}/health answers without credentials`,
    ],
    { url: baseUrl, reason },
  );
}

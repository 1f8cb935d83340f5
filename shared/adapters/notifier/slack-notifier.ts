/**
 * Notifier over a Slack incoming webhook (https://api.slack.com/messaging/webhooks): one POST of `{"text": …}` per alert;
 * Slack answers 200 `ok`, or 4xx/5xx with a short reason (`invalid_payload`, `no_service`, 429 with Retry-After).
 *
 * The webhook URL is a secret: it comes from a Secret Manager version (`SLACK_WEBHOOK_SECRET`, read through the same
 * `SecretResolver` as the API keys, shared/http/auth/api-key-source.ts) or, for a local receiver, from `SLACK_WEBHOOK_URL`.
 * It is resolved lazily — on the first alert, not at boot, so a notifier problem never stops the service from starting — then
 * cached; a failed resolution is retried by the next alert. The URL is never logged nor put in an error message.
 */
import type { Alert, Notifier } from '../../ports/notifier.js';
import type { SecretResolver } from '../../http/auth/api-key-source.js';
import { assertSecretVersionName } from '../../http/auth/api-key-source.js';
import { errorMessage } from '../../errors/error-message.js';

export interface SlackNotifierOptions {
  /** The webhook URL itself (a local receiver in tests; production uses `secret`). */
  url?: string | undefined;
  /** A Secret Manager version name whose payload is the webhook URL. */
  secret?: string | undefined;
  resolver: SecretResolver;
  /** Per POST (default 5 s): a slow Slack never holds the work that raised the alert for long. */
  timeoutMs?: number;
}

const SEVERITY_MARK = { info: ':information_source:', warning: ':warning:', critical: ':rotating_light:' } as const;

/** An https URL, or http on loopback (a local receiver). */
export function checkWebhookUrl(url: string, source: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    throw new Error(`${source} is not a URL`);
  }
  const loopback = parsed.hostname === '127.0.0.1' || parsed.hostname === 'localhost' || parsed.hostname === '[::1]';
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback))
    throw new Error(`${source} must be an https URL (http only on loopback)`);
  return parsed.toString();
}

/** The Slack message for an alert: a bold title, the lines, the fields as a list, and the alert's id last (mrkdwn text). */
export function slackText(alert: Alert): string {
  const fields = Object.entries(alert.fields ?? {}).map(([k, v]) => `• ${k}: ${v === null ? '—' : String(v)}`);
  return [`${SEVERITY_MARK[alert.severity]} *${alert.title}*`, ...alert.lines, ...fields, `_alert ${alert.id}_`].join('\n');
}

export class SlackNotifier implements Notifier {
  readonly name = 'slack';
  private resolving: Promise<string> | undefined;
  private readonly timeoutMs: number;

  constructor(private readonly opts: SlackNotifierOptions) {
    if (!opts.url && !opts.secret)
      throw new Error('the Slack notifier needs SLACK_WEBHOOK_SECRET (or SLACK_WEBHOOK_URL for a local receiver)');
    if (opts.secret) assertSecretVersionName(opts.secret);
    if (opts.url) checkWebhookUrl(opts.url, 'SLACK_WEBHOOK_URL');
    this.timeoutMs = opts.timeoutMs ?? 5_000;
  }

  async send(alert: Alert): Promise<void> {
    const url = await this.webhookUrl();
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: slackText(alert) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      // eslint-disable-next-line preserve-caught-error -- the cause's message holds the webhook URL (a secret), redacted here
      throw new Error(`Slack webhook did not answer: ${errorMessage(err).replace(url, '<webhook>')}`);
    }
    const body = (await res.text().catch(() => '')).slice(0, 200);
    if (!res.ok)
      throw new Error(
        `Slack webhook answered ${res.status}${body ? `: ${body}` : ''}${res.headers.get('retry-after') ? ` (retry after ${res.headers.get('retry-after')} s)` : ''}`,
      );
  }

  private webhookUrl(): Promise<string> {
    if (this.opts.url) return Promise.resolve(checkWebhookUrl(this.opts.url, 'SLACK_WEBHOOK_URL'));
    this.resolving ??= (async () => {
      const secret = this.opts.secret as string;
      let text: string;
      try {
        text = await this.opts.resolver.access(secret);
      } catch (err) {
        throw new Error(
          `could not read the Slack webhook URL from Secret Manager (${secret}): ${errorMessage(err)} — the service account needs roles/secretmanager.secretAccessor on the secret`,
          { cause: err },
        );
      }
      return checkWebhookUrl(text, `secret ${secret}`);
    })();
    const pending = this.resolving;
    pending.catch(() => {
      if (this.resolving === pending) this.resolving = undefined;
    });
    return pending;
  }
}

/**
 * The Slack incoming-webhook notifier against a receiver on 127.0.0.1: the URL comes from Secret Manager on the first alert
 * (not at construction), is cached, a failed read is retried by the next alert, and the URL never shows in an error.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SlackNotifier } from '../../shared/adapters/notifier/slack-notifier.js';
import { loadCoordinatorConfig } from '../../services/coordinator/config.js';
import type { SecretResolver } from '../../shared/http/auth/api-key-source.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import type { Alert } from '../../shared/ports/notifier.js';

const SECRET = 'projects/nba-props/secrets/slack-webhook-url/versions/latest';
const alert: Alert = {
  id: 'batch_end.b1',
  kind: 'batch_end',
  severity: 'critical',
  title: 'Batch b1 ended failed',
  lines: ['- merge failed: boom'],
  fields: { game_date: '2026-03-10', published: 12, rows_merged: null },
};

let hook: WebhookReceiver | undefined;
afterEach(async () => {
  await hook?.close();
  hook = undefined;
});

describe('SlackNotifier', () => {
  it('reads the webhook URL from Secret Manager on the first alert only, and posts the alert as text', async () => {
    hook = await startWebhookReceiver();
    const reads: string[] = [];
    const resolver: SecretResolver = { access: async (name) => (reads.push(name), `${hook!.url}\n`) };
    const notifier = new SlackNotifier({ secret: SECRET, resolver });
    expect(reads).toEqual([]);
    await notifier.send(alert);
    await notifier.send({ ...alert, id: 'batch_end.b2' });
    expect(reads).toEqual([SECRET]);
    expect(hook.received.map((r) => r.id)).toEqual(['batch_end.b1', 'batch_end.b2']);
    expect(hook.received[0]?.text).toBe(
      ':rotating_light: *Batch b1 ended failed*\n- merge failed: boom\n• game_date: 2026-03-10\n• published: 12\n• rows_merged: —\n_alert batch_end.b1_',
    );
  });

  it('a failed secret read fails that alert and is retried by the next; a non-2xx answer fails the alert with its reason, never the URL', async () => {
    hook = await startWebhookReceiver();
    let failures = 1;
    const resolver: SecretResolver = {
      access: async () => {
        if (failures-- > 0) throw new Error('PERMISSION_DENIED');
        return hook!.url;
      },
    };
    const notifier = new SlackNotifier({ secret: SECRET, resolver });
    await expect(notifier.send(alert)).rejects.toThrow(/could not read the Slack webhook URL from Secret Manager .*PERMISSION_DENIED/);
    await notifier.send(alert);
    expect(hook.received).toHaveLength(1);
    hook.answer(404);
    const err = await notifier.send(alert).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toBe('Slack webhook answered 404: no_service');
    expect(err?.message).not.toContain(hook.url);
  });

  it('an unreachable webhook fails with a message that does not contain the URL', async () => {
    const notifier = new SlackNotifier({
      url: 'http://127.0.0.1:9/services/T/B/secret-token',
      resolver: { access: async () => '' },
      timeoutMs: 2_000,
    });
    const err = await notifier.send(alert).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/^Slack webhook did not answer/);
    expect(err?.message).not.toContain('secret-token');
  });

  it('refuses a plain-http URL off loopback, a secret that is not a version name, and NOTIFIER=slack without a webhook', async () => {
    const resolver: SecretResolver = { access: async () => 'http://hooks.example.com/x' };
    expect(() => new SlackNotifier({ url: 'http://hooks.slack.com/services/x', resolver })).toThrow(/https/);
    expect(() => new SlackNotifier({ secret: 'slack-webhook-url', resolver })).toThrow(/Secret Manager version name/);
    await expect(new SlackNotifier({ secret: SECRET, resolver }).send(alert)).rejects.toThrow(/must be an https URL/);
    const base = { COORDINATOR_API_KEY: 'k'.repeat(24) };
    expect(() => loadCoordinatorConfig({ ...base, NOTIFIER: 'slack' })).toThrow(/NOTIFIER=slack needs SLACK_WEBHOOK_SECRET/);
    expect(() => loadCoordinatorConfig({ ...base, SLACK_WEBHOOK_URL: 'http://hooks.slack.com/x' })).toThrow(/SLACK_WEBHOOK_URL/);
    expect(() => loadCoordinatorConfig({ ...base, SLACK_WEBHOOK_SECRET: 'nope' })).toThrow(/SLACK_WEBHOOK_SECRET/);
    expect(loadCoordinatorConfig(base).NOTIFIER).toBe('log');
    expect(loadCoordinatorConfig({ ...base, SLACK_WEBHOOK_SECRET: SECRET }).NOTIFIER).toBe('slack');
  });
});

/** Builds the notifier the config selects: Slack (webhook URL from Secret Manager, resolved on the first alert) or the log. */
import type { AppLogger } from '../../ports/logger.js';
import type { Notifier } from '../../ports/notifier.js';
import type { SecretResolver } from '../../http/auth/api-key-source.js';
import { LogNotifier } from '../notifier/log-notifier.js';
import { SlackNotifier } from '../notifier/slack-notifier.js';

export interface NotifierConfig {
  NOTIFIER: 'log' | 'slack';
  SLACK_WEBHOOK_SECRET?: string | undefined;
  SLACK_WEBHOOK_URL?: string | undefined;
}

export function createNotifier(cfg: NotifierConfig, logger: AppLogger, resolver: SecretResolver): Notifier {
  if (cfg.NOTIFIER === 'log') return new LogNotifier(logger.child({ component: 'notifier' }));
  return new SlackNotifier({ url: cfg.SLACK_WEBHOOK_URL, secret: cfg.SLACK_WEBHOOK_SECRET, resolver });
}

/** What every command runs with: the client, the output and the global options. */
import type { GlobalOptions } from './args.js';
import type { CoordinatorClient } from './client.js';
import type { Output } from './output.js';

export interface CommandContext {
  client: CoordinatorClient;
  out: Output;
  global: GlobalOptions;
}

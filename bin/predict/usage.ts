/** `predict --help`. */
import { RUN_MODES } from '../../services/coordinator/dispatch/run-modes.js';
import { DEFAULT_URL } from './client.js';

export const USAGE = `predict: run and watch prediction batches on a coordinator.

Usage: predict <command> [options]      (npm run predict -- <command> …, or node dist/bin/predict.js <command> …)

Commands:
  start [DATE|TODAY|TOMORROW]   start a batch (default TODAY, New York) and follow it to the end
      --mode M                  run mode: ${RUN_MODES.join(', ')} (default RETRY)
      --force                   supersede the batch running for the date (it ends 'superseded')
      --require-real-lines      only players with a sportsbook line (runs as FIRST)
      --players a,b             only these player_lookups
      --no-wait                 return once the batch has started, printing its id
      --skip-completeness-check run even if recent analytics are incomplete
      --dataset-prefix P        read and write <P>_<dataset> tables
  backfill --from D1 --to D2    run the dates, several at once, each to its end, then print one table
      --concurrency N           dates at once (default: what the coordinator recommends, GET /capacity)
      --mode M                  default BACKFILL
      --no-skip-existing        re-run dates whose latest batch is complete (default: skip them, so a re-run resumes)
      --continue-on-error       go on after a date that failed or was busy (default: stop there)
      --force                   supersede dates that have a running batch (default: refuse them)
      --skip-completeness-check, --dataset-prefix P   as for start
  status [BATCH_ID] [--date D]  one batch (or the latest of a date) with its summary; no argument: every active batch
      --wait                    follow it to its end (exit code as for start)
      --players                 list every candidate's outcome and reason
  reset BATCH_ID | --date D     end a batch without consolidating and free its date
  check-stalled [BATCH_ID]      complete stalled batches as they stand (--idle-minutes, --min-pct, --max-age-minutes), pick up
                                consolidations past their deadline, finish closings (phase-5 message, run history)
  redrive BATCH_ID              re-predict the players an ended batch lost (dead letters, failures, never reported) in a
                                new batch, and follow it (--no-wait to return once it started)
  check-lines [DATE]            re-predict the players whose line appeared or moved since their prediction (default TODAY)
      --threshold N             a move of at least N points counts (default 1.0)
      --dry-run                 list the players (the first 50) without starting anything
      --no-wait                 return once the batch has started
  line-update DATE --players a,b   re-predict the named players (LINE_UPDATE); --dry-run shows their lines; --no-wait
  regenerate DATE               re-predict the whole date; the new batch's merge supersedes its rows
      --reason R                recorded on the superseded rows and the audit row (default feature_upgrade)
      --metadata JSON           a JSON object recorded beside it, e.g. '{"ticket":"NBA-42"}'
      --skip-completeness-check, --no-wait   as for start
  signal [DATE]                 the champion's daily signal (GREEN/YELLOW/RED) and its numbers (default TODAY)
      --alert                   also send it to the notifier (once per date, model and colour)

Global options:
  --url URL          coordinator base URL (env COORDINATOR_URL, default ${DEFAULT_URL})
  --json             machine output: one JSON object per line (progress events, then a summary object)
  --interval S       longest wait in seconds between status polls (default 2; a young batch is polled sooner:
                     a tenth of the time followed, at least 0.2 s)
  --timeout MIN      stop following a batch after MIN minutes (default 60; 0 = no limit); the batch goes on

Credentials: COORDINATOR_API_KEY (sent as X-API-Key) or COORDINATOR_ID_TOKEN (sent as Authorization: Bearer).

Exit codes: 0 success · 1 a batch ended partial/failed, did not end in time, or was not found · 2 usage error ·
            3 service, network or authentication error · 4 conflict (the date has a running batch)
`;

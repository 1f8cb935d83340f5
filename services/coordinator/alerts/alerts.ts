/**
 * The alerts the coordinator raises, one builder each (pure). Each alert's id names its event, so the dispatcher
 * (notify.ts) sends it once however often the event is seen:
 *   batch_end.<batch>         a batch ended partial or failed
 *   post_checks.<batch>       the champion's post-consolidation checks warned
 *   dead_letter.<message>     a message exhausted its deliveries
 *   repeated_stalls.<hour>    ≥ STALL_ALERT_THRESHOLD batches stalled within an hour (at most one per clock hour, UTC)
 *   check_lines.<batch>       /check-lines started a re-prediction
 *   morning_summary.<date>    /morning-summary
 *   signal.<date>.<model>.<colour>  /check-signal with send_alert
 */
import type { Alert } from '../../../shared/ports/notifier.js';
import type { BatchRecord, PostChecks } from '../../../shared/batch/batch-record.js';

export function batchEndAlert(batch: BatchRecord): Alert | null {
  if (batch.state !== 'partial' && batch.state !== 'failed') return null;
  const reasons = batch.closing?.reasons ?? (batch.error ? [batch.error] : []);
  return {
    id: `batch_end.${batch.batch_id}`,
    kind: 'batch_end',
    severity: batch.state === 'failed' ? 'critical' : 'warning',
    title: `Batch ${batch.batch_id} for ${batch.game_date} ended ${batch.state}`,
    lines: reasons.map((r) => `- ${r}`),
    fields: {
      game_date: batch.game_date,
      purpose: batch.purpose,
      published: batch.expected,
      completed: batch.completed,
      failed: batch.failed,
      predictions: batch.total_predictions,
      rows_merged: batch.consolidation?.merge?.rows_merged ?? null,
    },
  };
}

export function postChecksAlert(batch: BatchRecord, checks: PostChecks): Alert | null {
  if (checks.warnings.length === 0) return null;
  return {
    id: `post_checks.${batch.batch_id}`,
    kind: 'post_checks',
    severity: 'warning',
    title: `Post-consolidation checks for ${batch.game_date} (champion ${checks.champion}) warn`,
    lines: checks.warnings.map((w) => `- ${w}`),
    fields: {
      batch_id: batch.batch_id,
      rows: checks.rows,
      avg_bias: checks.avg_bias,
      over_pct: checks.over_pct,
      under_pct: checks.under_pct,
      direction_mismatches: checks.direction_mismatches,
    },
  };
}

export function deadLetterAlert(input: { messageKey: string; what: string; batchId: string | null; players: number; why: string }): Alert {
  return {
    id: `dead_letter.${input.messageKey}`,
    kind: 'dead_letter',
    severity: 'critical',
    title: `Dead letter: ${input.what}${input.batchId ? ` of batch ${input.batchId}` : ''}`,
    lines: [
      input.why,
      input.players > 0
        ? `${input.players} player${input.players === 1 ? '' : 's'} recorded as dead_lettered: predict redrive ${input.batchId ?? 'BATCH'} re-predicts them once the cause is fixed`
        : 'nothing to redrive',
    ],
    fields: { batch_id: input.batchId, players: input.players },
  };
}

export function repeatedStallsAlert(input: {
  hourKey: string;
  stalls: Array<{ batch_id: string; game_date: string; reason: string }>;
  threshold: number;
}): Alert {
  return {
    id: `repeated_stalls.${input.hourKey}`,
    kind: 'repeated_stalls',
    severity: 'critical',
    title: `${input.stalls.length} batches stalled within the last hour (threshold ${input.threshold})`,
    lines: input.stalls.map((s) => `- ${s.batch_id} (${s.game_date}): ${s.reason}`),
    fields: { stalled: input.stalls.length },
  };
}

export function checkLinesAlert(input: {
  batchId: string;
  gameDate: string;
  newLines: number;
  lineMoves: number;
  published: number;
  players: Array<{ player_lookup: string; reason: string; predicted_line: number | null; current_line: number }>;
}): Alert {
  const shown = input.players
    .slice(0, 20)
    .map((p) => `- ${p.player_lookup}: ${p.predicted_line === null ? 'no line' : p.predicted_line} → ${p.current_line} (${p.reason})`);
  const more = input.players.length > shown.length ? [`… and ${input.players.length - shown.length} more`] : [];
  return {
    id: `check_lines.${input.batchId}`,
    kind: 'check_lines',
    severity: 'info',
    title: `Lines changed for ${input.gameDate}: re-predicting ${input.newLines + input.lineMoves} players`,
    lines: [...shown, ...more],
    fields: { batch_id: input.batchId, new_lines: input.newLines, line_moves: input.lineMoves, published: input.published },
  };
}

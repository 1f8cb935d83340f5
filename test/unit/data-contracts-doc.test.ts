/** docs/data-contracts.md lists every column of player_prop_predictions, in schema order, with who writes it and when. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { playerPropPredictions } from '../../shared/contracts/tables.js';

const doc = readFileSync(resolve(import.meta.dirname, '../../docs/data-contracts.md'), 'utf8');

function predictionTableRows(): Array<{ column: string; writer: string }> {
  const start = doc.indexOf('### `nba_predictions.player_prop_predictions`');
  const end = doc.indexOf('Columns of the original table the product does not write', start);
  expect(start).toBeGreaterThan(-1);
  expect(end).toBeGreaterThan(start);
  return doc
    .slice(start, end)
    .split('\n')
    .map((line) => /^\| `([a-z0-9_]+)` \| [^|]+ \| ([^|]+) \|/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ column: m[1] as string, writer: (m[2] as string).trim() }));
}

describe('docs/data-contracts.md', () => {
  it('lists every player_prop_predictions column, in schema order, each with its writer', () => {
    const rows = predictionTableRows();
    expect(rows.map((r) => r.column)).toEqual(playerPropPredictions.columns.map((c) => c.name));
    for (const r of rows) expect(r.writer, r.column).toMatch(/^(worker|consolidation|nobody)\b/);
  });
});

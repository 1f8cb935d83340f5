import { describe, expect, it } from 'vitest';
import { startBodySchema, toStartRequest } from '../../services/coordinator/dispatch/start-request.js';
import { shapeLine } from '../../services/coordinator/dispatch/line-shaping.js';

describe('/start body', () => {
  it('applies defaults', () => {
    expect(toStartRequest(startBodySchema.parse({}))).toMatchObject({ force: false, requestedMode: 'RETRY', useMultipleLines: false, datasetPrefix: '' });
  });
  it('rejects unknown fields, wrong types, bad modes and bad prefixes, naming the field', () => {
    const fail = (body: unknown) => {
      const r = startBodySchema.safeParse(body);
      expect(r.success).toBe(false);
      return r.success ? '' : r.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ');
    };
    expect(fail({ min_minutes: 15 })).toMatch(/min_minutes/);
    expect(fail({ force: 'yes' })).toMatch(/^force /);
    expect(fail({ prediction_run_mode: 'SOMETIMES' })).toMatch(/prediction_run_mode unknown mode 'SOMETIMES'/);
    expect(fail({ dataset_prefix: 'Prod; DROP' })).toMatch(/dataset_prefix/);
    expect(fail({ player_lookups: [] })).toMatch(/player_lookups/);
  });
});

describe('line shaping', () => {
  const found = { line_value: 20.0, sportsbook: 'FANDUEL', line_source_api: 'ODDS_API' as const, was_line_fallback: true, line_minutes_before_game: 45 };
  it('a genuine 20.0 line from a book is kept as 20.0', () => {
    expect(shapeLine(found, false)).toMatchObject({ line_source: 'ACTUAL_PROP', line_values: [20], base_line: 20, sportsbook: 'FANDUEL' });
  });
  it('multi-line is base ±2 in steps of 1', () => {
    expect(shapeLine({ ...found, line_value: 25.0 }, true).line_values).toEqual([23, 24, 25, 26, 27]);
  });
  it('no line → NO_PROP_LINE with [null] and no provenance', () => {
    expect(shapeLine(undefined, false)).toEqual({
      line_source: 'NO_PROP_LINE', line_values: [null], base_line: null, line_source_api: null, sportsbook: null, was_line_fallback: false, line_minutes_before_game: null,
    });
  });
});

import { describe, expect, it } from 'vitest';
import { startBodySchema, toStartRequest } from '../../services/coordinator/dispatch/start-request.js';
import { shapeLine } from '../../services/coordinator/dispatch/line-shaping.js';

describe('/start body', () => {
  it('applies defaults', () => {
    expect(toStartRequest(startBodySchema.parse({}))).toMatchObject({
      force: false,
      requestedMode: 'RETRY',
      runModeLabel: 'OVERNIGHT',
      useMultipleLines: false,
      datasetPrefix: '',
      triggerSource: 'api',
      parentProcessor: null,
    });
  });
  it("accepts what the original's callers send: the Phase-4→5 function's trigger_source, parent_processor, and min_minutes (ignored)", () => {
    const body = startBodySchema.parse({
      game_date: 'TODAY',
      correlation_id: 'abc',
      trigger_source: 'phase4_to_phase5',
      parent_processor: 'MLFeatureStoreProcessor',
      min_minutes: 15,
    });
    expect(toStartRequest(body)).toMatchObject({
      triggerSource: 'phase4_to_phase5',
      parentProcessor: 'MLFeatureStoreProcessor',
      correlationId: 'abc',
    });
  });
  it('keeps the requested mode name for the rows and its normalised form for the gate; require_real_lines writes EARLY', () => {
    expect(toStartRequest(startBodySchema.parse({ prediction_run_mode: 'overnight' }))).toMatchObject({
      requestedMode: 'RETRY',
      runModeLabel: 'OVERNIGHT',
    });
    expect(toStartRequest(startBodySchema.parse({ prediction_run_mode: 'EARLY' }))).toMatchObject({
      requestedMode: 'FIRST',
      runModeLabel: 'EARLY',
    });
    expect(toStartRequest(startBodySchema.parse({ prediction_run_mode: 'BACKFILL', require_real_lines: true }))).toMatchObject({
      runModeLabel: 'EARLY',
    });
  });
  it('rejects unknown fields, wrong types, bad modes and bad prefixes, naming the field', () => {
    const fail = (body: unknown) => {
      const r = startBodySchema.safeParse(body);
      expect(r.success).toBe(false);
      return r.success ? '' : r.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ');
    };
    expect(fail({ min_points: 15 })).toMatch(/min_points/);
    expect(fail({ min_minutes: 'fifteen' })).toMatch(/^min_minutes /);
    expect(fail({ trigger_source: 7 })).toMatch(/^trigger_source /);
    expect(fail({ force: 'yes' })).toMatch(/^force /);
    expect(fail({ prediction_run_mode: 'SOMETIMES' })).toMatch(/prediction_run_mode unknown mode 'SOMETIMES'/);
    expect(fail({ dataset_prefix: 'Prod; DROP' })).toMatch(/dataset_prefix/);
    expect(fail({ player_lookups: [] })).toMatch(/player_lookups/);
  });
});

describe('line shaping', () => {
  const found = {
    line_value: 20.0,
    sportsbook: 'FANDUEL',
    line_source_api: 'ODDS_API' as const,
    was_line_fallback: true,
    line_minutes_before_game: 45,
  };
  it('a genuine 20.0 line from a book is kept as 20.0', () => {
    expect(shapeLine(found, false)).toMatchObject({ line_source: 'ACTUAL_PROP', line_values: [20], base_line: 20, sportsbook: 'FANDUEL' });
  });
  it('multi-line is base ±2 in steps of 1', () => {
    expect(shapeLine({ ...found, line_value: 25.0 }, true).line_values).toEqual([23, 24, 25, 26, 27]);
  });
  it('no line → NO_PROP_LINE with [null] and no provenance', () => {
    expect(shapeLine(undefined, false)).toEqual({
      line_source: 'NO_PROP_LINE',
      line_values: [null],
      base_line: null,
      line_source_api: null,
      sportsbook: null,
      was_line_fallback: false,
      line_minutes_before_game: null,
    });
  });
});

import { describe, expect, it } from 'vitest';
import { renderDuckDbSql } from '../../shared/adapters/duckdb/duckdb-sql.js';

describe('renderDuckDbSql', () => {
  it('resolves table tokens, quoted, with and without a prefix', () => {
    expect(renderDuckDbSql('SELECT * FROM {{nba_raw.nbac_schedule}} s')).toBe('SELECT * FROM "nba_raw"."nbac_schedule" s');
    expect(renderDuckDbSql('SELECT * FROM {{ nba_raw.nbac_schedule }}', 'test1')).toBe('SELECT * FROM "test1_nba_raw"."nbac_schedule"');
  });

  it('rejects an invalid prefix and a malformed table token', () => {
    expect(() => renderDuckDbSql('SELECT * FROM {{nba_raw.t}}', 'Bad-Prefix')).toThrow(/invalid dataset prefix/);
    expect(() => renderDuckDbSql('SELECT * FROM {{nba_raw}}')).toThrow(/malformed table token/);
  });

  it('rewrites parameters and IN UNNEST', () => {
    expect(renderDuckDbSql('WHERE game_date = @game_date AND player_lookup IN UNNEST(@players)')).toBe(
      'WHERE game_date = $game_date AND player_lookup IN (SELECT unnest($players))',
    );
    expect(renderDuckDbSql('WHERE x NOT IN UNNEST( @ids )')).toBe('WHERE x NOT IN (SELECT unnest($ids))');
    expect(renderDuckDbSql('WHERE x in unnest(@ids)')).toBe('WHERE x in (SELECT unnest($ids))');
    expect(() => renderDuckDbSql('WHERE x IN UNNEST([1, 2])')).toThrow(/IN UNNEST/);
  });

  it('maps BigQuery types inside CAST and SAFE_CAST only', () => {
    expect(renderDuckDbSql('SELECT CAST(x AS INT64), SAFE_CAST(y AS FLOAT64), CAST(z AS STRING), cast(n as numeric)')).toBe(
      'SELECT CAST(x AS BIGINT), TRY_CAST(y AS DOUBLE), CAST(z AS VARCHAR), cast(n as DECIMAL(38,9))',
    );
    expect(renderDuckDbSql('SELECT CAST(v AS NUMERIC(4, 1)), CAST(b AS BOOL), CAST(d AS DATE)')).toBe(
      'SELECT CAST(v AS DECIMAL(4, 1)), CAST(b AS BOOLEAN), CAST(d AS DATE)',
    );
    expect(renderDuckDbSql('SELECT CAST(COALESCE(CAST(a AS STRING), b) AS INT64) AS int64')).toBe(
      'SELECT CAST(COALESCE(CAST(a AS VARCHAR), b) AS BIGINT) AS int64',
    );
    // An alias that happens to be a type name is left alone outside CAST.
    expect(renderDuckDbSql('SELECT x AS string FROM t')).toBe('SELECT x AS string FROM t');
  });

  it('drops the parentheses of CURRENT_TIMESTAMP() and CURRENT_DATE()', () => {
    expect(renderDuckDbSql('SELECT CURRENT_TIMESTAMP(), current_date ( ), CURRENT_TIMESTAMP')).toBe(
      'SELECT CURRENT_TIMESTAMP, CURRENT_DATE, CURRENT_TIMESTAMP',
    );
  });

  it('never rewrites inside string literals, and re-emits them as DuckDB literals', () => {
    expect(renderDuckDbSql("SELECT '@x {{nba_raw.t}} IN UNNEST(@p) CAST(a AS INT64)' AS s")).toBe(
      "SELECT '@x {{nba_raw.t}} IN UNNEST(@p) CAST(a AS INT64)' AS s",
    );
    expect(renderDuckDbSql("SELECT 'it\\'s', \"say \\\"hi\\\" @x\", 'a\\\\b'")).toBe("SELECT 'it''s', 'say \"hi\" @x', 'a\\b'");
    expect(renderDuckDbSql("SELECT ''")).toBe("SELECT ''");
  });

  it('rejects literal forms outside the subset', () => {
    expect(() => renderDuckDbSql("SELECT 'it''s'")).toThrow(/adjacent string literals/);
    expect(() => renderDuckDbSql("SELECT '''x'''")).toThrow(/triple-quoted/);
    expect(() => renderDuckDbSql("SELECT r'\\d+'")).toThrow(/raw or bytes/);
    expect(() => renderDuckDbSql("SELECT 'open")).toThrow(/unterminated/);
  });

  it('passes comments through and converts # comments and backtick identifiers', () => {
    expect(renderDuckDbSql('SELECT 1 -- @x {{a.b}}\n/* @y */ # note @z\nFROM `my table`')).toBe(
      'SELECT 1 -- @x {{a.b}}\n/* @y */ -- note @z\nFROM "my table"',
    );
  });

  it('renders a MERGE with QUALIFY untouched apart from tokens and parameters', () => {
    const sql = `MERGE INTO {{nba_predictions.player_prop_predictions}} T
USING (SELECT * FROM {{nba_predictions.prediction_staging}} WHERE batch_id = @batch
       QUALIFY ROW_NUMBER() OVER (PARTITION BY prediction_id ORDER BY created_at DESC) = 1) S
ON T.prediction_id = S.prediction_id
WHEN MATCHED THEN UPDATE SET predicted_points = S.predicted_points
WHEN NOT MATCHED THEN INSERT (prediction_id) VALUES (S.prediction_id)`;
    const out = renderDuckDbSql(sql, 'p1');
    expect(out).toContain('MERGE INTO "p1_nba_predictions"."player_prop_predictions" T');
    expect(out).toContain('FROM "p1_nba_predictions"."prediction_staging" WHERE batch_id = $batch');
    expect(out).toContain('QUALIFY ROW_NUMBER() OVER (PARTITION BY prediction_id ORDER BY created_at DESC) = 1) S');
  });
});

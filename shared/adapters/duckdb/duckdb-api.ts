/**
 * @duckdb/node-api's runtime values, loaded with `require()`. The package is CommonJS: an index re-exporting ≈ 180 files.
 * An ESM `import` of it makes Node pre-parse every one of those files for their named exports (cjs-module-lexer) before
 * running them; `require()` only runs them. Measured: 0.38 → 0.20 CPU-s for loading the package, paid by every process
 * that opens the embedded warehouse — each coordinator start on the embedded default (docs/benchmarks.md → "Process
 * starts"). The objects are the same either way (one CommonJS module cache), so `instanceof` holds against values made
 * by code that imports the package. Types still come from the package (`import type`).
 */
import { createRequire } from 'node:module';
import type * as DuckDb from '@duckdb/node-api';

const api = createRequire(import.meta.url)('@duckdb/node-api') as typeof DuckDb;

export const {
  BIGINT,
  BOOLEAN,
  DATE,
  DECIMAL,
  DOUBLE,
  DuckDBArrayValue,
  DuckDBDataChunk,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBInstance,
  DuckDBListValue,
  DuckDBMapValue,
  DuckDBStructValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  LIST,
  ResultReturnType,
  TIMESTAMP,
  VARCHAR,
} = api;
export type DuckDBInstance = DuckDb.DuckDBInstance;
export type DuckDBListValue = DuckDb.DuckDBListValue;

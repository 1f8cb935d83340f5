/** Which adapters a service runs on: the embedded ones by default, the Google ones when a project is configured. */
import { describe, expect, it } from 'vitest';
import { loadCoordinatorConfig } from '../../services/coordinator/config.js';
import { loadWorkerConfig } from '../../services/worker/config.js';

const key = { COORDINATOR_API_KEY: 'adapter-config-test-key-0123' };

describe('adapter selection', () => {
  it('runs on the embedded adapters when no project is configured', () => {
    const c = loadCoordinatorConfig({ ...key });
    expect([c.WAREHOUSE, c.BUS, c.BATCH_STORE]).toEqual(['duckdb', 'local', 'local']);
    const w = loadWorkerConfig({});
    expect([w.WAREHOUSE, w.BUS, w.MODEL_STORE]).toEqual(['duckdb', 'local', 'file']);
  });

  it('defaults to BigQuery, Pub/Sub, Firestore and Cloud Storage when GCP_PROJECT_ID is set', () => {
    const c = loadCoordinatorConfig({ ...key, GCP_PROJECT_ID: 'nba-props', PUSH_AUTH: 'disabled', BIGQUERY_LOCATION: 'US' });
    expect([c.WAREHOUSE, c.BUS, c.BATCH_STORE]).toEqual(['bigquery', 'pubsub', 'firestore']);
    const w = loadWorkerConfig({ GCP_PROJECT_ID: 'nba-props', PUSH_AUTH: 'disabled', BIGQUERY_LOCATION: 'US' });
    expect([w.WAREHOUSE, w.BUS, w.MODEL_STORE]).toEqual(['bigquery', 'pubsub', 'gcs']);
  });

  it('lets each adapter be chosen on its own (Pub/Sub and Firestore emulators over a DuckDB warehouse)', () => {
    const c = loadCoordinatorConfig({ ...key, GCP_PROJECT_ID: 'emulated', PUSH_AUTH: 'disabled', WAREHOUSE: 'duckdb' });
    expect([c.WAREHOUSE, c.BUS, c.BATCH_STORE]).toEqual(['duckdb', 'pubsub', 'firestore']);
  });

  it('refuses a Google adapter without a project, naming the variable', () => {
    expect(() => loadCoordinatorConfig({ ...key, BUS: 'pubsub' })).toThrow(/BUS: BUS=pubsub needs GCP_PROJECT_ID/);
    expect(() => loadWorkerConfig({ WAREHOUSE: 'bigquery' })).toThrow(/WAREHOUSE: WAREHOUSE=bigquery needs GCP_PROJECT_ID/);
  });

  it('needs the BigQuery location with the BigQuery warehouse (no silent US default), and only then', () => {
    const google = { GCP_PROJECT_ID: 'nba-props', PUSH_AUTH: 'disabled' };
    expect(() => loadWorkerConfig(google)).toThrow(/BIGQUERY_LOCATION: required with WAREHOUSE=bigquery/);
    expect(() => loadCoordinatorConfig({ ...key, ...google, BIGQUERY_LOCATION: '  ' })).toThrow(
      /BIGQUERY_LOCATION: required with WAREHOUSE=bigquery/,
    );
    expect(loadWorkerConfig({ ...google, WAREHOUSE: 'duckdb' }).BIGQUERY_LOCATION).toBeUndefined();
    expect(loadWorkerConfig({}).BIGQUERY_LOCATION).toBeUndefined();
  });

  it("takes the location in any case and keeps BigQuery's spelling; refuses one it cannot pair with Firestore", () => {
    const google = { GCP_PROJECT_ID: 'nba-props', PUSH_AUTH: 'disabled' };
    expect(loadWorkerConfig({ ...google, BIGQUERY_LOCATION: 'eu' }).BIGQUERY_LOCATION).toBe('EU');
    expect(loadCoordinatorConfig({ ...key, ...google, BIGQUERY_LOCATION: 'US-West2' }).BIGQUERY_LOCATION).toBe('us-west2');
    expect(() => loadWorkerConfig({ ...google, BIGQUERY_LOCATION: 'moon-base1' })).toThrow(
      /BIGQUERY_LOCATION: not a supported data location: use one of US, EU, /,
    );
  });

  it('refuses an unknown adapter name', () => {
    expect(() => loadCoordinatorConfig({ ...key, BATCH_STORE: 'redis' })).toThrow(/BATCH_STORE/);
  });
});

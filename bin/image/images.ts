/**
 * What each service image ships: the packages its code loads in production (the Google path), and the ones the code can
 * reach but the image leaves out, with why. test/unit/image-dependencies.test.ts walks each service's imports from its
 * main.ts and fails when a package is in neither list, so a new import cannot silently miss the image (or bloat it).
 *
 * Imports only node: modules — the Dockerfile runs prune-node-modules.js before anything else is installed.
 */
export type ServiceName = 'coordinator' | 'worker';

export interface ImageSpec {
  /** The process the image runs (the Dockerfile's CMD), relative to /app. */
  main: string;
  /** Top-level packages (with everything they depend on) kept in node_modules. */
  dependencies: readonly string[];
  /** Packages the code can reach but never loads on the deployed path, with the reason. */
  omitted: Readonly<Record<string, string>>;
}

const EMBEDDED_ONLY =
  'the embedded default (DuckDB warehouse, local bus and batch store): imported only when selected (shared/adapters/select/warehouse.ts, services/coordinator/wiring.ts); deployed services use BigQuery, Pub/Sub and Firestore';

export const IMAGES: Readonly<Record<ServiceName, ImageSpec>> = {
  coordinator: {
    main: 'dist/services/coordinator/main.js',
    dependencies: [
      'express',
      'pino',
      'pino-http',
      'zod',
      'google-auth-library',
      '@google-cloud/bigquery',
      '@google-cloud/firestore',
      '@google-cloud/pubsub',
      '@google-cloud/secret-manager',
    ],
    omitted: { '@duckdb/node-api': EMBEDDED_ONLY },
  },
  worker: {
    main: 'dist/services/worker/main.js',
    dependencies: [
      'express',
      'pino',
      'pino-http',
      'zod',
      'google-auth-library',
      '@google-cloud/bigquery',
      '@google-cloud/firestore',
      '@google-cloud/pubsub',
      '@google-cloud/storage',
      'onnxruntime-node',
      'flatbuffers',
      'protobufjs',
    ],
    omitted: {
      '@duckdb/node-api': EMBEDDED_ONLY,
      '@google-cloud/secret-manager':
        'reached through the shared auth setup, but only the coordinator reads an API-key secret (COORDINATOR_API_KEY_SECRET)',
    },
  },
};

export const isServiceName = (name: string): name is ServiceName => Object.hasOwn(IMAGES, name);

/**
 * The one data location: where the BigQuery datasets live and every BigQuery job runs, where the Firestore database and the
 * model bucket are created. Setup takes it as `--location`, the build as `_LOCATION`, the services as `BIGQUERY_LOCATION`.
 *
 * Supported: BigQuery's two multi-regions, each paired with the Firestore multi-region over the same geography, and the
 * regions where BigQuery, Firestore and Cloud Storage all exist (the data then stays in that one region).
 *   BigQuery: https://cloud.google.com/bigquery/docs/locations
 *   Firestore: https://cloud.google.com/firestore/docs/locations (multi-regions nam5 = United States, eur3 = Europe)
 *   Cloud Storage: https://cloud.google.com/storage/docs/locations (US and EU multi-regions, the same regions)
 */

export interface DataLocation {
  /** BigQuery location as BigQuery spells it: `US`, `EU`, or a lower-case region. */
  bigquery: string;
  /** Firestore location id for `gcloud firestore databases create --location`. */
  firestore: string;
  /** Cloud Storage bucket location. */
  storage: string;
}

const MULTI_REGIONS: Readonly<Record<string, string>> = { US: 'nam5', EU: 'eur3' };

const REGIONS: readonly string[] = [
  'africa-south1',
  'asia-east1',
  'asia-east2',
  'asia-northeast1',
  'asia-northeast2',
  'asia-northeast3',
  'asia-south1',
  'asia-south2',
  'asia-southeast1',
  'asia-southeast2',
  'australia-southeast1',
  'australia-southeast2',
  'europe-central2',
  'europe-north1',
  'europe-southwest1',
  'europe-west1',
  'europe-west2',
  'europe-west3',
  'europe-west4',
  'europe-west6',
  'europe-west8',
  'europe-west9',
  'europe-west10',
  'europe-west12',
  'me-central1',
  'me-central2',
  'me-west1',
  'northamerica-northeast1',
  'northamerica-northeast2',
  'southamerica-east1',
  'southamerica-west1',
  'us-central1',
  'us-east1',
  'us-east4',
  'us-east5',
  'us-south1',
  'us-west1',
  'us-west2',
  'us-west3',
  'us-west4',
];

/** Every accepted spelling's canonical form, for messages. */
export const SUPPORTED_LOCATIONS: readonly string[] = [...Object.keys(MULTI_REGIONS), ...REGIONS];

/** The location for `input` (case-insensitive: `us` → `US`, `US-WEST2` → `us-west2`), or undefined when not supported. */
export function findDataLocation(input: string): DataLocation | undefined {
  const trimmed = input.trim();
  const multi = MULTI_REGIONS[trimmed.toUpperCase()];
  if (multi !== undefined) return { bigquery: trimmed.toUpperCase(), firestore: multi, storage: trimmed.toUpperCase() };
  const region = trimmed.toLowerCase();
  return REGIONS.includes(region) ? { bigquery: region, firestore: region, storage: region } : undefined;
}

export function unsupportedLocationMessage(input: string): string {
  return `'${input}' is not a supported data location: use US or EU (multi-regions), or a region where BigQuery, Firestore and Cloud Storage all exist (${REGIONS.join(', ')})`;
}

export function dataLocation(input: string): DataLocation {
  const found = findDataLocation(input);
  if (!found) throw new Error(unsupportedLocationMessage(input));
  return found;
}

/**
 * BigQuery job labels (cost attribution in INFORMATION_SCHEMA.JOBS and billing exports).
 *
 * BigQuery's rules: at most 64 labels; keys 1–63 characters of lower-case letters, digits, `_` and `-`, starting with a
 * letter; values 0–63 characters of the same set. Keys are written in code, so a bad key is an error; values come from data
 * (batch ids, query names), so they are sanitised: lower-cased, every other character replaced by `_`, cut to 63.
 */

export type Labels = Record<string, string>;

const KEY_PATTERN = /^[a-z][a-z0-9_-]{0,62}$/;
const MAX_LABELS = 64;

/** `Batch 2025-01-15/ABC` → `batch_2025-01-15_abc`. */
export function sanitizeLabelValue(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '_')
    .slice(0, 63);
}

/** Checks every key and sanitises every value; throws naming the first bad key. */
export function validLabels(labels: Labels, source: string): Labels {
  const out: Labels = {};
  for (const [key, value] of Object.entries(labels)) {
    if (!KEY_PATTERN.test(key)) {
      throw new Error(`${source}: label key '${key}' breaks BigQuery's rules (lower case, starts with a letter, at most 63 of [a-z0-9_-])`);
    }
    out[key] = sanitizeLabelValue(value);
  }
  return out;
}

/**
 * Merges label sets left to right. `conflicts: 'override'` lets later sets win (adapter defaults under per-query labels);
 * `'error'` throws when two sets give one key different values (the statements of one transaction).
 */
export function mergeLabels(sets: ReadonlyArray<Labels | undefined>, conflicts: 'override' | 'error', source: string): Labels {
  const out: Labels = {};
  for (const set of sets) {
    if (!set) continue;
    for (const [key, value] of Object.entries(set)) {
      const existing = out[key];
      if (conflicts === 'error' && existing !== undefined && existing !== value) {
        throw new Error(`${source}: label '${key}' is given two values ('${existing}' and '${value}')`);
      }
      out[key] = value;
    }
  }
  if (Object.keys(out).length > MAX_LABELS) throw new Error(`${source}: ${Object.keys(out).length} labels, BigQuery allows ${MAX_LABELS}`);
  return out;
}

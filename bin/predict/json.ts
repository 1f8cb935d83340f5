/** Typed reads of the coordinator's JSON answers (`unknown` in, plain values out; nothing is trusted blindly). */
export type Json = Record<string, unknown>;

export const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
export const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
export const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
export const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

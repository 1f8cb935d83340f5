/**
 * canonicalScalar remembers recent TIMESTAMP and JSON checks (shared/values/scalars.ts): remembering must never let a bad
 * value through or change a good one's canonical form, however full the memory is.
 */
import { describe, expect, it } from 'vitest';
import { canonicalScalar } from '../../shared/values/scalars.js';

describe('canonicalScalar with its memory of recent checks', () => {
  it('gives the same canonical TIMESTAMP on a repeat as the first time, and a bad one still throws', () => {
    const v = '2026-03-10T17:30:00.123456+01:00';
    const first = canonicalScalar('TIMESTAMP', v);
    expect(first).toBe('2026-03-10T16:30:00.123456Z');
    expect(canonicalScalar('TIMESTAMP', v)).toBe(first);
    expect(() => canonicalScalar('TIMESTAMP', '2026-02-30T00:00:00Z')).toThrow(/not a valid TIMESTAMP/);
    expect(() => canonicalScalar('TIMESTAMP', '2026-02-30T00:00:00Z')).toThrow(/not a valid TIMESTAMP/);
  });

  it('rejects invalid JSON text before and after valid texts fill (and overflow) its memory', () => {
    expect(() => canonicalScalar('JSON', '{"a":')).toThrow(/not valid JSON text/);
    for (let i = 0; i < 600; i++) expect(canonicalScalar('JSON', `{"i":${i}}`)).toBe(`{"i":${i}}`);
    expect(() => canonicalScalar('JSON', '{"a":')).toThrow(/not valid JSON text/);
    expect(canonicalScalar('JSON', '{"i":599}')).toBe('{"i":599}');
  });

  it('keeps each distinct timestamp distinct across many inputs', () => {
    for (let s = 0; s < 600; s++) {
      const v = `2026-03-10T00:${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}Z`;
      const expected = `${new Date(Date.UTC(2026, 2, 10, 0, Math.floor(s / 60), s % 60)).toISOString().slice(0, -1)}000Z`;
      expect(canonicalScalar('TIMESTAMP', v)).toBe(expected);
    }
  });
});

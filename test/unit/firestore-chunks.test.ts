import { describe, expect, it } from 'vitest';
import { assertDocId, chunkByJsonBytes, chunkId, playerDocId } from '../../shared/adapters/firestore/chunks.js';

describe('firestore chunking and document ids', () => {
  it('splits a list into chunks whose JSON stays within the budget, keeping every item in order', () => {
    const items = Array.from({ length: 500 }, (_, i) => ({ player_lookup: `player${i}`, reason: 'x'.repeat(i % 40) }));
    const chunks = chunkByJsonBytes(items, 2048, 'outcome');
    expect(chunks.length).toBeGreaterThan(10);
    expect(chunks.flat()).toEqual(items);
    for (const chunk of chunks) expect(Buffer.byteLength(JSON.stringify(chunk))).toBeLessThanOrEqual(2048);
    expect(chunkByJsonBytes([], 2048, 'outcome')).toEqual([]);
  });

  it('refuses an item larger than the budget instead of dropping or truncating it', () => {
    expect(() => chunkByJsonBytes([{ a: 1 }, { a: 'y'.repeat(3000) }], 2048, 'outcome')).toThrow(
      /^outcome 1 is \d+ bytes of JSON, over the 2048-byte chunk budget$/,
    );
  });

  it('names chunks so they sort in order, and turns awkward player lookups into valid, distinct document ids', () => {
    expect([chunkId(10), chunkId(2)].sort()).toEqual(['00002', '00010']);
    expect(playerDocId('a/b')).toBe('a%2Fb');
    expect(playerDocId('lebronjames')).toBe('lebronjames');
    expect(playerDocId('__x__')).toBe('%5F%5Fx%5F%5F');
    expect(playerDocId('..')).toBe('%2E%2E');
    expect(new Set(['__x__', '%5F%5Fx%5F%5F', '..', '%2E%2E'].map(playerDocId)).size).toBe(4);
    expect(() => playerDocId('')).toThrow('player_lookup "" cannot be a Firestore document id');
    expect(() => assertDocId('..', 'batch_id')).toThrow('batch_id ".." cannot be a Firestore document id');
    expect(() => assertDocId('__meta__', 'batch_id')).toThrow('cannot be a Firestore document id');
    expect(assertDocId('batch_2026-11-22_1_abc', 'batch_id')).toBe('batch_2026-11-22_1_abc');
  });
});

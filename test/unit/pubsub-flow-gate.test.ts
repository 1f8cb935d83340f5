import { describe, expect, it } from 'vitest';
import { FlowGate } from '../../shared/adapters/pubsub/flow-gate.js';

const settled = async (p: Promise<void>): Promise<boolean> => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
};

describe('publisher flow gate (block)', () => {
  it('holds a publish while the message limit is reached and lets waiters through in order as messages settle', async () => {
    const gate = new FlowGate({ maxOutstandingMessages: 2 });
    await gate.acquire(10);
    await gate.acquire(10);
    const third = gate.acquire(10);
    const fourth = gate.acquire(10);
    expect(await settled(third)).toBe(false);
    gate.release(10);
    expect(await settled(third)).toBe(true);
    expect(await settled(fourth)).toBe(false);
    gate.release(10);
    expect(await settled(fourth)).toBe(true);
    expect(gate.outstanding).toEqual({ messages: 2, bytes: 20, waiting: 0 });
  });

  it('holds on bytes, and lets a message larger than the byte limit go alone rather than never', async () => {
    const gate = new FlowGate({ maxOutstandingBytes: 100 });
    await gate.acquire(60);
    const big = gate.acquire(500);
    const small = gate.acquire(1);
    expect(await settled(big)).toBe(false);
    expect(await settled(small)).toBe(false); // FIFO: nobody overtakes the waiting message
    gate.release(60);
    expect(await settled(big)).toBe(true);
    expect(await settled(small)).toBe(false);
    gate.release(500);
    expect(await settled(small)).toBe(true);
  });

  it('rejects limits that would never let anything through', () => {
    expect(() => new FlowGate({ maxOutstandingMessages: 0 })).toThrow('maxOutstandingMessages must be a positive integer, got 0');
    expect(() => new FlowGate({ maxOutstandingBytes: 1.5 })).toThrow('maxOutstandingBytes must be a positive integer');
  });
});

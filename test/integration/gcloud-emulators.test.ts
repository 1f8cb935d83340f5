/** The emulator harness itself: bounded startup with the emulator's output in the error, and a stop that takes it all down. */
import { describe, expect, it } from 'vitest';
import { skipWithoutGcloud, startEmulator } from '../helpers/gcloud-emulators.js';

const skip = skipWithoutGcloud();

const answers = (host: string) =>
  fetch(`http://${host}/`, { signal: AbortSignal.timeout(2_000) }).then(
    (r) => r.ok,
    () => false,
  );

describe.skipIf(skip)('gcloud emulator harness', () => {
  it('a startup that exceeds its bound fails with a message naming the emulator, its address and its output', async () => {
    await expect(startEmulator('pubsub', { startTimeoutMs: 1 })).rejects.toThrow(/^pubsub emulator did not answer on 127\.0\.0\.1:\d+ within 1 ms\. Output:/);
  });

  it('serves on a loopback port once started and no longer answers after stop', async () => {
    const emulator = await startEmulator('firestore');
    expect(emulator.host).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(await answers(emulator.host)).toBe(true);
    await emulator.stop();
    expect(await answers(emulator.host)).toBe(false);
  });
});

/**
 * The emulator harness itself: bounded startup with the emulator's output in the error. That a started emulator serves
 * on a loopback port, and that stop() takes it all down, is checked by the run's global setup and teardown
 * (test/global-setup.ts), which start and stop the emulators every other file shares: one start per run.
 */
import { describe, expect, it } from 'vitest';
import { skipWithoutGcloud, startEmulator } from '../helpers/gcloud-emulators.js';
import { sharedEmulators } from '../helpers/shared-emulators.js';

const skip = skipWithoutGcloud();

describe.skipIf(skip)('gcloud emulator harness', () => {
  it('a startup that exceeds its bound fails with a message naming the emulator, its address and its output', async () => {
    await expect(startEmulator('pubsub', { startTimeoutMs: 1 })).rejects.toThrow(
      /^pubsub emulator did not answer on 127\.0\.0\.1:\d+ within 1 ms\. Output:/,
    );
  });

  it('the shared emulators were started on loopback ports and answer', async () => {
    const emulators = sharedEmulators();
    for (const host of [emulators?.pubsub, emulators?.firestore]) {
      expect(host).toMatch(/^127\.0\.0\.1:\d+$/);
      const ok = await fetch(`http://${host}/`, { signal: AbortSignal.timeout(5_000) }).then(
        (r) => r.ok,
        () => false,
      );
      expect(ok).toBe(true);
    }
  });
});

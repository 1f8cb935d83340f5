/**
 * Worker-thread entry of the training pool (bin/demo/train-pool.ts): trains one model per message and posts it back.
 * Same trainer, same inputs, same model as in-process training; only the thread differs.
 */
import { parentPort } from 'node:worker_threads';
import { trainObliviousBoosting } from './trainer.js';
import type { TrainJob } from './train-pool.js';

if (!parentPort) throw new Error('train-worker: run as a worker thread');
const port = parentPort;
port.on('message', (job: TrainJob & { id: number }) => {
  try {
    const t0 = performance.now();
    const model = trainObliviousBoosting(job.data, job.opts);
    port.postMessage({ id: job.id, model, seconds: (performance.now() - t0) / 1000 });
  } catch (err) {
    port.postMessage({ id: job.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
});

/**
 * Trains several demo models at once on worker threads (one model per job, up to `threads` at a time), so seeding a season
 * uses every core: the main thread keeps generating and appending the world while the models train. Where the compiled
 * worker is not available (the TypeScript sources run under the test runner) the jobs run in this thread, one after
 * another; the models are the same either way (the trainer is deterministic).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ObliviousEnsemble } from '../../shared/catboost/oblivious-ensemble.js';
import { trainObliviousBoosting, type TrainingData, type TrainOptions } from './trainer.js';

export interface TrainJob {
  data: TrainingData;
  opts: TrainOptions;
}

export interface Trained {
  model: ObliviousEnsemble;
  /** Training time of this model alone. */
  seconds: number;
}

type Reply = { id: number; model: ObliviousEnsemble; seconds: number } | { id: number; error: string };

const WORKER_URL = new URL('./train-worker.js', import.meta.url);

/** Worker threads the pool uses by default: one per core, at most 4 (there are 4 demo models). */
export function defaultTrainThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** Whether jobs can run on worker threads here (the compiled worker file exists). */
export function workerThreadsAvailable(): boolean {
  return WORKER_URL.protocol === 'file:' && existsSync(fileURLToPath(WORKER_URL));
}

/** Trains every job; results in job order. `threads` 0 (or no compiled worker) trains in this thread. */
export async function trainAll(jobs: readonly TrainJob[], threads = defaultTrainThreads()): Promise<Trained[]> {
  if (threads <= 0 || !workerThreadsAvailable()) {
    return jobs.map((job) => {
      const t0 = performance.now();
      const model = trainObliviousBoosting(job.data, job.opts);
      return { model, seconds: (performance.now() - t0) / 1000 };
    });
  }
  const results: Trained[] = new Array<Trained>(jobs.length);
  let next = 0;
  const runWorker = async (): Promise<void> => {
    const worker = new Worker(WORKER_URL);
    try {
      for (;;) {
        const id = next++;
        const job = jobs[id];
        if (job === undefined) return;
        const reply = await new Promise<Reply>((resolve, reject) => {
          const onError = (err: Error): void => reject(err);
          worker.once('error', onError);
          worker.once('message', (m: Reply) => {
            worker.off('error', onError);
            resolve(m);
          });
          // The matrices are copied, not transferred: the caller may still need them (evaluation).
          worker.postMessage({ id, ...job });
        });
        if ('error' in reply) throw new Error(`training job ${id} failed in its worker: ${reply.error}`);
        results[id] = { model: reviveModel(reply.model), seconds: reply.seconds };
      }
    } finally {
      await worker.terminate();
    }
  };
  await Promise.all(Array.from({ length: Math.min(threads, jobs.length) }, runWorker));
  return results;
}

/** A model after structured cloning: typed arrays survive; make sure leaves are Float64Array as the writer expects. */
function reviveModel(m: ObliviousEnsemble): ObliviousEnsemble {
  return {
    ...m,
    trees: m.trees.map((t) => ({ splits: t.splits, leaves: t.leaves instanceof Float64Array ? t.leaves : Float64Array.from(t.leaves) })),
  };
}

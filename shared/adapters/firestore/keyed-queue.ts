/**
 * Runs work one at a time per key within this process. Not for correctness (the Firestore transactions give that across
 * instances) but for throughput: transactions on one hot document only abort and back off against each other (Firestore
 * waits ≥ 1 s before a retry), so a process queues its own transactions on a batch document instead of racing them.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    this.tails.set(key, next);
    const forget = () => {
      if (this.tails.get(key) === next) this.tails.delete(key);
    };
    next.then(forget, forget);
    return next;
  }
}

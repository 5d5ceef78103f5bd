import type { Store } from './types';

/**
 * Runs a unit of work again when it lost a race another attempt may win
 * (another replica opened the same fault or locked the same rows): the
 * loser's transaction rolled back whole, so the next attempt starts clean
 * and finds the winner's rows. The one retrier for store races.
 */
export async function withStoreRetry<T>(store: Pick<Store, 'isRetryable'>, work: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= attempts || !store.isRetryable(err)) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
    }
  }
}

import { Failure } from '../errors.ts';
import { type PartKey, partId } from '../model/part.ts';
import type { EnvironmentStore } from '../ports.ts';

/** How long a lock lasts without renewal: a worker that dies frees its part within this time. */
export const LEASE_SECONDS = 60;

/**
 * Another worker holds the part: the job is retried later, not recorded. The local queue does not count such
 * a run as an attempt; SQS counts every receive, so a lock held past a few leases dead-letters the job.
 */
export class EnvironmentBusy extends Failure {
  override name = 'EnvironmentBusy';
  constructor(key: PartKey) {
    super('transient', `${partId(key)} is being deployed by another worker`);
  }
}

/** The part's lock as a lease: taken for LEASE_SECONDS and renewed while the deployment goes on. */
export class Lease {
  readonly #store: EnvironmentStore;
  readonly #key: PartKey;
  readonly #owner: string;
  readonly #timer: NodeJS.Timeout;

  private constructor(store: EnvironmentStore, key: PartKey, owner: string) {
    this.#store = store;
    this.#key = key;
    this.#owner = owner;
    // A renewal that fails or finds the lock gone changes nothing here: recording then fails on the lock.
    this.#timer = setInterval(
      () => void store.renew(key, owner, LEASE_SECONDS).catch(() => false),
      (LEASE_SECONDS * 1000) / 3,
    );
    this.#timer.unref();
  }

  /** Takes the part's lock for `owner`, or throws EnvironmentBusy. */
  static async take(store: EnvironmentStore, key: PartKey, owner: string): Promise<Lease> {
    if (!(await store.lock(key, owner, LEASE_SECONDS))) throw new EnvironmentBusy(key);
    return new Lease(store, key, owner);
  }

  async release(): Promise<void> {
    clearInterval(this.#timer);
    await this.#store.unlock(this.#key, this.#owner);
  }
}

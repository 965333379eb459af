// isomorphic-git has no locking of its own: two fetches into one object store write the same pack file at once,
// and a reader that lists the pack directory while a fetch writes can load a half-written index. Within one
// process (the local mode, or one warm Lambda) every use of a repository's store therefore goes through its lock:
// reads (resolving a commit, writing a tree) share it, writes (fetch, discard) take it alone.

type Waiter = { readonly exclusive: boolean; readonly grant: () => void };

/** A first-come, first-served readers-writer lock: a waiting writer holds back the readers that came after it. */
export class ReadWriteLock {
  #readers = 0;
  #writing = false;
  readonly #queue: Waiter[] = [];

  shared<T>(work: () => Promise<T>): Promise<T> {
    return this.#run(false, work);
  }

  exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.#run(true, work);
  }

  async #run<T>(exclusive: boolean, work: () => Promise<T>): Promise<T> {
    await new Promise<void>((grant) => {
      this.#queue.push({ exclusive, grant });
      this.#admit();
    });
    try {
      return await work();
    } finally {
      if (exclusive) this.#writing = false;
      else this.#readers -= 1;
      this.#admit();
    }
  }

  #admit(): void {
    for (let next = this.#queue[0]; next !== undefined && !this.#writing; next = this.#queue[0]) {
      if (next.exclusive && this.#readers > 0) return;
      this.#queue.shift();
      if (next.exclusive) this.#writing = true;
      else this.#readers += 1;
      next.grant();
    }
  }
}

/**
 * One repository's object store as this process shares it: its lock, and a generation that counts discards, so
 * that checkouts which all met the same corruption discard the store once, not each other's fresh fetch.
 */
export interface SharedStore {
  readonly lock: ReadWriteLock;
  generation: number;
}

// Module-wide, not per adapter instance: two instances with one cache root share the same directories.
const stores = new Map<string, SharedStore>();

/** The shared state of the object store at `gitdir`. */
export function sharedStore(gitdir: string): SharedStore {
  let store = stores.get(gitdir);
  if (store === undefined) {
    store = { lock: new ReadWriteLock(), generation: 0 };
    stores.set(gitdir, store);
  }
  return store;
}

// Our fresh connections that may wait in a prefork backend's accept queue (php-fpm, php-cgi,
// libfcgi), and what their waiting says. A fresh connection has been accepted by a worker once
// its first answer comes; until then it may be waiting for one. While it waits, a kept
// connection that was given its request later and finishes first has overtaken it: the backend
// had no worker for it. Whose worker it waits for is the question: ours, given back a moment
// ago (a turn, a linger) and slow to come back to accept(), or another client's.
import type { BackendConnection } from './connection'

/** What the watch reads of a connection. */
export type WatchedConnection = Pick<BackendConnection, 'answered' | 'attached' | 'attachedAt'>

export class AcceptQueueWatch {
  /** fresh connections of ours waiting for their first answer */
  private waiting = 0
  /**
   * Answered connections of ours closed and not yet followed by a fresh connection's first
   * answer; back to 0 whenever no fresh one waits any more. While there are any, a fresh
   * connection may be waiting for one of their workers, which says nothing about other clients.
   */
  private givenBack = 0
  /** waiting connections already seen overtaken: counted once */
  private readonly counted = new WeakSet<WatchedConnection>()

  /** A fresh connection was given its request. */
  freshSent (): void {
    this.waiting++
  }

  /** A fresh connection stopped waiting: answered (a worker took it), or failed. */
  freshDone (answered: boolean): void {
    this.waiting--
    if (this.waiting === 0) this.givenBack = 0
    else if (answered && this.givenBack > 0) this.givenBack--
  }

  /** A connection of ours closed: an answered one gives its worker back to the accept queue. */
  closed (connection: WatchedConnection): void {
    if (connection.answered) this.givenBack++
  }

  /** The fresh connection of ours still waiting that `returning` has overtaken (see overtook), if any. */
  overtakenBy<C extends WatchedConnection> (open: Iterable<C>, returning: WatchedConnection): C | undefined {
    if (this.waiting === 0) return undefined
    let oldestWaiting: C | undefined
    for (const connection of open) {
      if (!connection.answered && connection.attached && connection.attachedAt < (oldestWaiting?.attachedAt ?? Infinity)) oldestWaiting = connection
    }
    return oldestWaiting !== undefined && overtook(returning, oldestWaiting.attachedAt) ? oldestWaiting : undefined
  }

  /**
   * `waiting` was overtaken: are the `held` workers we hold now what the backend leaves us?
   * Only the first time it is seen (later, what we hold lacks the workers we gave up for it),
   * and not while a worker we gave back may be what it waits for. Undefined: nothing to count.
   */
  share (waiting: WatchedConnection, held: () => number): number | undefined {
    const count = !this.counted.has(waiting) && this.givenBack === 0
    this.counted.add(waiting)
    return count ? held() : undefined
  }
}

/**
 * `returning`, given its request after `since`, has finished first, with a margin: whatever
 * was sent at `since` has waited more than twice as long as `returning` took, plus 1 ms, so it
 * is not just slower, or still being accepted by its worker.
 */
export function overtook (returning: Pick<WatchedConnection, 'attachedAt'>, since: number): boolean {
  if (since >= returning.attachedAt) return false
  const now = performance.now()
  return now - since > 2 * (now - returning.attachedAt) + 1
}

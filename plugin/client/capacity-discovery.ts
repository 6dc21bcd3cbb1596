// How many requests a backend takes at once, learnt from what it does, for backends that keep
// connections but do not say (php-fpm answers FCGI_GET_VALUES without FCGI_MAX_CONNS).
//
// Sending more requests than the backend has workers buys nothing: the extra ones wait in its
// accept queue, and while one of ours waits there, every kept connection that comes back must
// be closed to give a worker to it (a prefork worker stays with its connection). Under load that
// turns every request into connect + accept + close and doubles the CPU per request.
//
// The evidence is exact, not a latency guess. A prefork worker (php-fpm, php-cgi, libfcgi) stays
// with a connection from accept to close, and a multithreaded backend serves every connection it
// accepts. So when a fresh connection gets its first answer while `c` other connections of ours
// are open and have been answered already, the backend was serving c + 1 of them at that moment:
// its capacity is at least c + 1. That lower bound (`known`) only grows.
//
// The limit is room to find more at first: twice `known` (slow start), then one above what we
// hold. Going beyond the capacity shows too: a fresh connection waits in the backend's accept
// queue while a kept connection that was given its request later finishes first (it was
// overtaken). Then the limit holds for a while (1 s, doubling up to 16 s while that keeps
// happening, back to 1 s when more capacity is found) at the workers we hold at that moment
// (`share`), so that in the steady state every request reuses a kept connection and none waits
// in the backend's accept queue.
//
// `share` is `known` while we are the backend's only client. When others use it too (several
// gateway processes on one php-fpm pool), it is what is left to us: holding at `known` instead
// would make each process keep a connection waiting in the accept queue for a worker that
// another process holds, and the workers would pass from process to process one turn at a
// time, every request of the one without a worker waiting for that turn.

/** ms the limit holds at what we hold after the first overtaking */
export const FIRST_HOLD = 1000
/** ms the hold never exceeds */
export const MAX_HOLD = 16_000

type Phase = 'slow-start' | 'probing' | 'holding'

export class CapacityDiscovery {
  /** the backend has been seen serving this many of our connections at once */
  known = 1
  /** the workers we held when the backend last had none for us (at most `known`) */
  share = 1
  private phase: Phase = 'slow-start'
  private hold = FIRST_HOLD

  /** Requests that may be in flight now. */
  get limit (): number {
    switch (this.phase) {
      case 'slow-start': return this.known * 2
      case 'probing': return this.share + 1
      case 'holding': return this.share
    }
  }

  /** A fresh connection got its first answer while `othersAnswered` other connections of ours were open and answered. */
  answered (othersAnswered: number): void {
    const serving = othersAnswered + 1
    // while holding, a worker that came to a connection of ours waiting in the accept queue was
    // most likely another client's, given up at the end of its turn: not ours to keep
    if (serving > this.share && this.phase !== 'holding') this.share = serving
    // only new capacity shortens the hold: a worker won back from another client is not news
    if (serving > this.known) {
      this.known = serving
      this.hold = FIRST_HOLD
    }
  }

  /**
   * A fresh connection was overtaken: the backend had no worker for it while we held `held`
   * (undefined: this connection was counted already, and what we hold since includes workers
   * we gave up for it). Returns ms to hold the limit (the caller calls endHold then), or 0 when
   * it holds already.
   */
  overtaken (held: number | undefined): number {
    if (held !== undefined) this.share = Math.max(1, Math.min(this.known, held))
    if (this.phase === 'holding') return 0
    this.phase = 'holding'
    const ms = this.hold
    this.hold = Math.min(MAX_HOLD, this.hold * 2)
    return ms
  }

  /** The hold is over: probe one above what we hold again. */
  endHold (): void {
    if (this.phase === 'holding') this.phase = 'probing'
  }
}

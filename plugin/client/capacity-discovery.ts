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
// The limit is `known` plus room to find more: twice `known` at first (slow start), then one
// above it. Going beyond the capacity shows too: a fresh connection waits in the backend's
// accept queue while a kept connection that was given its request later finishes first (it was
// overtaken). Then the limit holds at `known` for a while (1 s, doubling up to 16 s while that
// keeps happening, back to 1 s when more capacity is found), so that in the steady state every
// request reuses a kept connection and none waits in the backend's accept queue.

/** ms the limit holds at `known` after the first overtaking */
export const FIRST_HOLD = 1000
/** ms the hold never exceeds */
export const MAX_HOLD = 16_000

type Phase = 'slow-start' | 'probing' | 'holding'

export class CapacityDiscovery {
  /** the backend has been seen serving this many of our connections at once */
  known = 1
  private phase: Phase = 'slow-start'
  private hold = FIRST_HOLD

  /** Requests that may be in flight now. */
  get limit (): number {
    switch (this.phase) {
      case 'slow-start': return this.known * 2
      case 'probing': return this.known + 1
      case 'holding': return this.known
    }
  }

  /** A fresh connection got its first answer while `othersAnswered` other connections of ours were open and answered. */
  answered (othersAnswered: number): void {
    if (othersAnswered + 1 <= this.known) return
    this.known = othersAnswered + 1
    this.hold = FIRST_HOLD
  }

  /**
   * A fresh connection was overtaken: the backend had no worker for it. Returns ms to hold the
   * limit at `known` (the caller calls endHold then), or 0 when it holds there already.
   */
  overtaken (): number {
    if (this.phase === 'holding') return 0
    this.phase = 'holding'
    const ms = this.hold
    this.hold = Math.min(MAX_HOLD, this.hold * 2)
    return ms
  }

  /** The hold is over: probe one above `known` again. */
  endHold (): void {
    if (this.phase === 'holding') this.phase = 'probing'
  }
}

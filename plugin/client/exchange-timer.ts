// The one timer of an exchange. At any moment one deadline matters: the backend's silence
// while a response is owed (read), the backend refusing request data (write), the short hold
// of a parsed head waiting for the rest of a small response (hold), or the client taking
// nothing of the body while the backend waits for it (send), or the grace a reader that fell
// behind gets before the rest of the body goes to a temp file (spill), or the client's silence
// while the backend waits for the rest of a body streamed from it (body). One timer, moved between these
// purposes and refreshed on activity, instead of a timer for each.

export type TimerPurpose = 'read' | 'write' | 'hold' | 'send' | 'spill' | 'body'

export class ExchangeTimer {
  private timer: NodeJS.Timeout | undefined
  private current: TimerPurpose | undefined
  private ms = 0

  constructor (private readonly onFire: (purpose: TimerPurpose) => void) {}

  get purpose (): TimerPurpose | undefined {
    return this.current
  }

  /** Runs for `purpose`, `ms` from now; ms <= 0 means no deadline. */
  set (purpose: TimerPurpose, ms: number): void {
    if (ms <= 0) {
      this.clear()
      return
    }
    if (this.timer !== undefined && this.current === purpose && this.ms === ms) {
      this.timer.refresh()
      return
    }
    this.clear()
    this.current = purpose
    this.ms = ms
    this.timer = setTimeout(() => this.fire(), ms)
  }

  /** Starts the deadline afresh, when it is for `purpose`. */
  refresh (purpose: TimerPurpose): void {
    if (this.current === purpose) this.timer?.refresh()
  }

  clear (): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.current = undefined
  }

  private fire (): void {
    const purpose = this.current as TimerPurpose
    this.timer = undefined
    this.current = undefined
    this.onFire(purpose)
  }
}

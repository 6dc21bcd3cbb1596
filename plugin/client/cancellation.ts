// A cheap, single-listener stand-in for AbortController on the request path: the gateway
// creates one per request and calls cancel() when the client goes away; the client layer
// points it at whatever currently holds the request (a queued waiter, then the exchange).
// No EventTarget, no event objects, no listener lists.

/** Whatever currently holds the request; told once when the request is cancelled. */
export interface CancelTarget {
  onCancel (): void
}

export class Cancellation {
  cancelled = false
  private target: CancelTarget | undefined = undefined

  /** Makes `target` the one to be told (replacing any other); undefined: nobody. */
  watch (target: CancelTarget | undefined): void {
    this.target = target
  }

  /** Stops telling `target` (a no-op when another target has taken over since). */
  unwatch (target: CancelTarget): void {
    if (this.target === target) this.target = undefined
  }

  cancel (): void {
    if (this.cancelled) return
    this.cancelled = true
    const target = this.target
    this.target = undefined
    target?.onCancel()
  }
}

/** A Cancellation that follows an AbortSignal (for callers that have one anyway). */
export function cancellationFromSignal (signal: AbortSignal): Cancellation {
  const cancellation = new Cancellation()
  if (signal.aborted) cancellation.cancel()
  else signal.addEventListener('abort', () => cancellation.cancel(), { once: true })
  return cancellation
}

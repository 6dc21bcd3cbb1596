// Kept connections to libfcgi (keepAlive 'auto', a backend that answers only a padded
// FCGI_GET_VALUES): one that comes back is reused only once a worker shows it reads it again.
//
// libfcgi's multithreaded accept pattern (lighttpd's documented one) takes an accept lock
// around FCGX_Accept_r, which both accepts a connection and reads the next request on a kept
// one. The thread that owns a kept connection must take that lock before it reads, while
// another thread may hold it, asleep in accept(): a request sent on that connection would wait
// for somebody else's connect. A single-threaded or prefork app reads its kept connection as
// soon as a request ends. So a returning connection is asked FCGI_GET_VALUES: an answer means a
// worker is in its read, and stays there until our next request. A request that finds no idle
// connection waits for one of these answers (microseconds on a backend that reads) rather than
// open a connection whose worker would then be the one still reading the asked one.
//
// A connection that goes unanswered for its whole linger is a thread waiting for the lock:
// from then on the backend gets a connection per request (onNotRead). Only a connection that
// has served a request is asked (a fresh one nobody accepted yet would prove nothing), and an
// answer already in the socket when the linger ends still counts.
import type { BackendConnection } from './connection'
import { STARTUP_VALUE_NAMES, paddedGetValues } from './probe-values'

/** "Is a worker reading you?": FCGI_GET_VALUES, padded (libfcgi answers only that). */
const READING_QUESTION = paddedGetValues(STARTUP_VALUE_NAMES)

type Waiter = (connection: BackendConnection | undefined) => void

export class ReadingCheck {
  private readonly asking = new Set<BackendConnection>()
  private readonly waiters: Waiter[] = []

  /**
   * @param onAnswered an answered connection no request waits for (it may go idle)
   * @param onNotRead a connection stayed unanswered for its whole linger
   */
  constructor (private readonly onAnswered: (connection: BackendConnection) => void, private readonly onNotRead: () => void) {}

  /** Asks `connection` (idle, its linger running) whether a worker reads it. */
  ask (connection: BackendConnection): void {
    if (connection.closed) return
    this.asking.add(connection)
    connection.askWhileIdle(READING_QUESTION, () => {
      this.asking.delete(connection)
      const waiter = this.waiters.shift()
      if (waiter !== undefined) waiter(connection)
      else this.onAnswered(connection)
    })
  }

  /**
   * An asked connection once it answers (undefined if it closes first); undefined at once when
   * every asked connection is already promised to a waiting request.
   */
  next (): Promise<BackendConnection | undefined> | undefined {
    if (this.asking.size <= this.waiters.length) return undefined
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  /** `connection` closed (the client's bookkeeping tells every closed connection). */
  gone (connection: BackendConnection): void {
    if (!this.asking.delete(connection)) return
    if (connection.idleExpired) this.onNotRead()
    this.waiters.shift()?.(undefined)
  }

  /** Closes the connections still asked. */
  close (): void {
    for (const connection of [...this.asking]) connection.destroy()
  }
}

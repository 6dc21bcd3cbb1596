// FCGI_STDERR of one request as log records: PHP writes one error over several lines (message,
// stack trace), and a backend may cut it into several records, so lines are gathered per request
// and logged together at the end of the request; past STDERR_BOUND bytes what is complete so far
// goes out, cut at the last line boundary, so memory stays bounded.
import { StringDecoder } from 'node:string_decoder'

/** bytes of STDERR held per request before complete lines are logged early */
export const STDERR_BOUND = 16 * 1024
/** one logged line is cut to this many characters */
const LINE_LIMIT = 4096

export interface StderrLogger {
  warn (obj: object, msg: string): void
}

export class StderrLog {
  private pending = ''
  /** created at the first chunk: most requests write no STDERR */
  private decoder: StringDecoder | undefined

  constructor (private readonly log: StderrLogger, private readonly backend: string) {}

  push (chunk: Buffer): void {
    this.decoder ??= new StringDecoder('utf8')
    this.pending += this.decoder.write(chunk)
    if (this.pending.length < STDERR_BOUND) return
    const cut = this.pending.lastIndexOf('\n')
    // a single line longer than the bound goes out whole (it is cut to LINE_LIMIT anyway)
    const end = cut === -1 ? this.pending.length : cut + 1
    this.emit(this.pending.slice(0, end))
    this.pending = this.pending.slice(end)
  }

  /** The request is over (or this attempt failed): whatever is held goes out. Idempotent. */
  flush (): void {
    if (this.decoder !== undefined) this.pending += this.decoder.end()
    if (this.pending === '') return
    const text = this.pending
    this.pending = ''
    this.emit(text)
  }

  private emit (text: string): void {
    const lines: string[] = []
    for (const raw of text.split('\n')) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
      if (line !== '') lines.push(escapeControls(line.length > LINE_LIMIT ? `${line.slice(0, LINE_LIMIT)}...` : line))
    }
    if (lines.length > 0) this.log.warn({ backend: this.backend }, `FastCGI-stderr: ${lines.join('\n')}`)
  }
}

// C0 controls but TAB, DEL and C1 controls: a script writes what clients send to STDERR
// (`error_log("login failed for $user")`), and ESC sequences, a bare CR or BEL would rewrite
// what an operator reading the log on a terminal sees
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g // eslint-disable-line no-control-regex

/** The line with its control characters as `\xNN`, so that it reads as what was written. */
function escapeControls (line: string): string {
  return line.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

// Fastify's pino output captured as parsed lines, for tests that check what the plugin logs.
import { Writable } from 'node:stream'

export interface LogLine {
  level: number
  msg: string
  [key: string]: unknown
}

export interface LogCapture {
  /** pass as Fastify({ logger }) */
  logger: { level: string, stream: Writable }
  lines: LogLine[]
  /** the first line whose msg matches, or undefined */
  find (pattern: RegExp | string): LogLine | undefined
}

export function captureLog (level = 'info'): LogCapture {
  const lines: LogLine[] = []
  let partial = ''
  const stream = new Writable({
    write (chunk: Buffer, _encoding, callback) {
      partial += chunk.toString('utf8')
      const parts = partial.split('\n')
      partial = parts.pop() ?? ''
      for (const line of parts) if (line !== '') lines.push(JSON.parse(line) as LogLine)
      callback()
    }
  })
  const find = (pattern: RegExp | string): LogLine | undefined =>
    lines.find((l) => typeof pattern === 'string' ? l.msg.includes(pattern) : pattern.test(l.msg))
  return { logger: { level, stream }, lines, find }
}

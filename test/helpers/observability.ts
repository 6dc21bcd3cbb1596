// Shared by the observability tests: bounded polling and reading the status JSON.
import type { FastifyInstance } from 'fastify'
import type { BackendReport, StatusReport } from '../../plugin'

/** Polls `condition` every 20 ms until it holds or `ms` pass; resolves whether it held. */
export async function eventually (condition: () => boolean, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms
  for (let i = 0; i < 10_000 && Date.now() < deadline; i++) {
    if (condition()) return true
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return condition()
}

/** The report entry of one backend of one mapping; throws when absent (the test fails with the message). */
export function backendOf (report: StatusReport, mapping: string, backend: string): BackendReport {
  const found = report.mappings.find((m) => m.mapping === mapping)?.backends.find((b) => b.backend === backend)
  if (found === undefined) throw new Error(`no backend ${backend} under ${mapping} in ${JSON.stringify(report.mappings.map((m) => [m.mapping, m.backends.map((b) => b.backend)]))}`)
  return found
}

export function statusOf (app: FastifyInstance): StatusReport {
  return app.fastcgi.status()
}

/** Prometheus samples as `name{labels}` -> value. */
export function samples (text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const space = line.lastIndexOf(' ')
    out.set(line.slice(0, space), Number(line.slice(space + 1)))
  }
  return out
}

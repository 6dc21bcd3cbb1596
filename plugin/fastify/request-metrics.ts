// Ties a RequestMeasure (pool/metrics.ts) to a Fastify request: one per request, kept across
// local redirects, ended when the reply's socket side is done, with one log line at info naming
// the backend and the time taken.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { RequestMeasure, RequestMetrics } from '../pool/metrics'

const measures = new WeakMap<FastifyRequest, RequestMeasure>()

/** The request's measure, begun at its first call (later calls, for local redirects, return the same). */
export function measureRequest (metrics: RequestMetrics, request: FastifyRequest, reply: FastifyReply, mapping: string): RequestMeasure {
  const known = measures.get(request)
  if (known !== undefined) return known
  const measure = metrics.begin(mapping)
  measures.set(request, measure)
  reply.raw.once('close', () => {
    // writableEnded: the whole response was handed to the socket (inject's fake socket never
    // reports writableFinished); a client gone before that is an abort
    const finished = reply.raw.writableEnded
    measure.end(reply.raw.statusCode, finished)
    request.log.info({
      backend: measure.backend,
      statusCode: reply.raw.statusCode,
      durationMs: round(measure.durationMs),
      firstByteMs: measure.firstByteMs < 0 ? undefined : round(measure.firstByteMs),
      attempts: measure.attemptCount
    }, finished ? 'FastCGI request completed' : 'FastCGI request aborted: the client went away')
  })
  return measure
}

function round (ms: number): number {
  return Math.round(ms * 10) / 10
}

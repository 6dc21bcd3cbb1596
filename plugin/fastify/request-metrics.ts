// Ties a RequestMeasure (pool/metrics.ts) to a Fastify request: one per client request, ended
// when the reply's socket side is done, with one log line at info naming the backend and the
// time taken. A local redirect's hop (an injected request) goes on with its origin's measure,
// so a redirected request is counted once, under the backend that answered.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { RequestMeasure, RequestMetrics } from '../pool/metrics'

/** measures of requests that followed a local redirect, by the client's request */
const carried = new WeakMap<FastifyRequest, RequestMeasure>()

/** A client request's measure, ended (and logged) when its reply closes. */
export function beginMeasure (metrics: RequestMetrics, request: FastifyRequest, reply: FastifyReply, mapping: string): RequestMeasure {
  const measure = metrics.begin(mapping)
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

/** The client's request is about to follow a local redirect: its hops go on with this measure. */
export function carryMeasure (origin: FastifyRequest, measure: RequestMeasure): void {
  carried.set(origin, measure)
}

/** The measure a hop goes on with (undefined: its origin was never measured). */
export function carriedMeasure (origin: FastifyRequest): RequestMeasure | undefined {
  return carried.get(origin)
}

function round (ms: number): number {
  return Math.round(ms * 10) / 10
}

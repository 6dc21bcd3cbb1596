'use strict'
// The Node ceiling: Fastify answering the same bodies itself, no backend (a request body is
// read whole, as a buffering gateway reads it; sleep.php waits its 5 ms on a timer).
const Fastify = require('fastify')
const { expectedBody } = require('../lib/bodies')

const cache = new Map()
const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024 })
app.removeAllContentTypeParsers()
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))
app.get('/*', (request, reply) => {
  const url = request.raw.url
  let answer = cache.get(url)
  if (answer === undefined) {
    answer = expectedBody(url)
    cache.set(url, answer)
  }
  if (answer.delayMs !== undefined) setTimeout(() => reply.type(answer.type).send(answer.body), answer.delayMs)
  else reply.type(answer.type).send(answer.body)
})
app.post('/*', (request, reply) => {
  const length = Buffer.isBuffer(request.body) ? request.body.length : 0
  const answer = expectedBody(request.raw.url, length)
  reply.type(answer.type).send(answer.body)
})
const stop = () => { app.close().then(() => process.exit(0), () => process.exit(1)) }
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 18080) }).catch((err) => { console.error(err); process.exit(1) })

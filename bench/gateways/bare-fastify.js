'use strict'
// The Node ceiling: Fastify answering the same bodies itself, no backend.
const Fastify = require('fastify')
const { expectedBody } = require('../lib/bodies')

const cache = new Map()
const app = Fastify({ logger: false })
app.get('/*', (request, reply) => {
  const url = request.raw.url
  let answer = cache.get(url)
  if (answer === undefined) {
    answer = expectedBody(url)
    cache.set(url, answer)
  }
  reply.type(answer.type).send(answer.body)
})
const stop = () => { app.close().then(() => process.exit(0), () => process.exit(1)) }
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 18080) }).catch((err) => { console.error(err); process.exit(1) })

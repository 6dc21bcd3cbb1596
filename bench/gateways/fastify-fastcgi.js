'use strict'
// fastify-fastcgi as a benchmark gateway: the built plugin (dist/), nothing else on the route.
//   PORT, BACKEND=unix:/path | tcp:host:port, KIND=c|php, DOCROOT (php),
//   MAX_CONCURRENCY (default 2: the backend's real concurrency; 0 = no cap), KEEP_ALIVE (default 1),
//   FASTCGI_DIST (another build's dist/ directory, for A/B comparisons)
const path = require('node:path')
const Fastify = require('fastify')
const fastcgi = require(path.join(process.env.FASTCGI_DIST ?? path.join(__dirname, '..', '..', 'dist'), 'plugin', 'index.js'))

const env = process.env
const port = Number(env.PORT ?? 18080)
const backend = env.BACKEND ?? ''
const kind = env.KIND ?? 'c'
const cap = Number(env.MAX_CONCURRENCY ?? 2)

const host = backend.startsWith('unix:')
  ? { socket: backend.slice(5) }
  : { host: backend.slice(4, backend.lastIndexOf(':')), port: Number(backend.slice(backend.lastIndexOf(':') + 1)) }
if (cap > 0) host.maxConcurrency = cap
host.keepAlive = env.KEEP_ALIVE !== '0'

const app = Fastify({ logger: false })
if (kind === 'php') {
  app.register(fastcgi, { documentRoot: env.DOCROOT, server: { '.php': [host] } })
} else {
  app.register(fastcgi, { documentRoot: env.DOCROOT ?? __dirname, server: { '/': [{ ...host, checkLocal: false }] } })
}

const stop = () => { app.close().then(() => process.exit(0), () => process.exit(1)) }
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
app.listen({ host: '127.0.0.1', port }).catch((err) => { console.error(err); process.exit(1) })

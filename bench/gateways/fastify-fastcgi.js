'use strict'
// fastify-fastcgi as a benchmark gateway: the built plugin (dist/), nothing else on the route.
//   PORT, BACKEND=unix:/path | tcp:host:port, KIND=c|php, DOCROOT (php),
//   MAX_CONCURRENCY (unset or empty: the option is not written, as users write it; N > 0: maxConcurrency N;
//   0: not written either, the "no cap" variant), KEEP_ALIVE (unset: not written; 1/0: keepAlive true/false),
//   REQUEST_BUFFERING (unset: not written; 1/0: requestBuffering true/false, for plugins that have it),
//   RESPONSE_SPOOL_LIMIT (unset: not written; bytes: responseSpoolLimit, 0 turns response spooling off),
//   FASTCGI_DIST (another build's dist/ directory, for A/B comparisons)
// With none of the three set, the host is `{ socket }` or `{ host, port }`: the plugin as users write it.
const path = require('node:path')
const Fastify = require('fastify')
const fastcgi = require(path.join(process.env.FASTCGI_DIST ?? path.join(__dirname, '..', '..', 'dist'), 'plugin', 'index.js'))

const env = process.env
const port = Number(env.PORT ?? 18080)
const backend = env.BACKEND ?? ''
const kind = env.KIND ?? 'c'
const written = (name) => env[name] !== undefined && env[name] !== ''

const host = backend.startsWith('unix:')
  ? { socket: backend.slice(5) }
  : { host: backend.slice(4, backend.lastIndexOf(':')), port: Number(backend.slice(backend.lastIndexOf(':') + 1)) }
if (written('MAX_CONCURRENCY') && Number(env.MAX_CONCURRENCY) > 0) host.maxConcurrency = Number(env.MAX_CONCURRENCY)
if (written('KEEP_ALIVE')) host.keepAlive = env.KEEP_ALIVE !== '0'
if (written('REQUEST_BUFFERING')) host.requestBuffering = env.REQUEST_BUFFERING !== '0'

// plugin-wide: left out unless given (RESPONSE_SPOOL_LIMIT=0 keeps a slow reader's backend waiting)
const plugin = written('RESPONSE_SPOOL_LIMIT') ? { responseSpoolLimit: Number(env.RESPONSE_SPOOL_LIMIT) } : {}

const app = Fastify({ logger: false })
if (kind === 'php') {
  app.register(fastcgi, { ...plugin, documentRoot: env.DOCROOT, server: { '.php': [host] } })
} else {
  app.register(fastcgi, { ...plugin, documentRoot: env.DOCROOT ?? __dirname, server: { '/': [{ ...host, checkLocal: false }] } })
}

const stop = () => { app.close().then(() => process.exit(0), () => process.exit(1)) }
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
app.listen({ host: '127.0.0.1', port }).catch((err) => { console.error(err); process.exit(1) })

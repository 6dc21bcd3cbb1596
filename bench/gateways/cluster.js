'use strict'
// Several processes of one Node gateway behind one listening socket, as node:cluster users run
// them (PM2's cluster mode is the same thing): the primary owns the socket and hands
// connections to WORKERS workers (round-robin, Node's default on Linux), each of which runs
// GATEWAY (a script of bench/gateways/) with the same environment. The primary forwards
// SIGTERM/SIGINT to its workers and exits when they have.
const cluster = require('node:cluster')
const path = require('node:path')

if (cluster.isPrimary) {
  const workers = Math.max(1, Math.min(16, Number(process.env.WORKERS ?? 2)))
  cluster.setupPrimary({ exec: path.join(__dirname, path.basename(process.env.GATEWAY ?? 'fastify-fastcgi.js')) })
  for (let i = 0; i < workers; i++) cluster.fork()
  let stopping = false
  cluster.on('exit', () => {
    if (Object.keys(cluster.workers).length === 0) process.exit(stopping ? 0 : 1)
    // a worker that dies during a run is not replaced: the benchmark must see it
  })
  const stop = () => {
    stopping = true
    for (const worker of Object.values(cluster.workers)) worker.process.kill('SIGTERM')
    setTimeout(() => process.exit(1), 4000).unref()
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

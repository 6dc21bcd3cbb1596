'use strict'
// Slow readers for the slow-clients scenario: CLIENTS connections to 127.0.0.1:PORT, each asking
// for URL again and again (Connection: close, one response per connection) and reading at most
// RATE bytes a second (the socket is paused while it is ahead of its rate, so the kernel's
// buffers fill and the gateway sees a slow reader). Stops at SECONDS (hard bound) or on SIGTERM,
// and writes what it saw as JSON to OUT: responses completed (Content-Length reached, or for a
// response without one, EXPECT_BYTES of body read before the gateway's clean end), bytes read,
// early ends (a response cut short), errors; responses still under way at the stop are neither.
const fs = require('node:fs')
const net = require('node:net')

const env = process.env
const port = Number(env.PORT)
const url = env.URL ?? '/'
const clients = Math.min(1000, Number(env.CLIENTS ?? 200))
const rate = Number(env.RATE ?? 262144)
const expectBytes = Number(env.EXPECT_BYTES ?? 0)
const seconds = Math.min(600, Number(env.SECONDS ?? 30))
const out = env.OUT
const started = Date.now()
const stats = { clients, rate, url, completed: 0, bytes: 0, endedEarly: 0, errors: 0, connected: 0 }
const sockets = new Set()
let stopping = false

function fetchOnce () {
  if (stopping) return
  const socket = net.connect({ host: '127.0.0.1', port })
  sockets.add(socket)
  const opened = Date.now()
  let received = 0
  let head = Buffer.alloc(0)
  let bodyLength
  let bodyRead = 0
  let resumeTimer
  let endedCleanly = false
  socket.once('connect', () => {
    stats.connected++
    socket.write(`GET ${url} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`)
  })
  socket.on('data', (chunk) => {
    received += chunk.length
    stats.bytes += chunk.length
    if (bodyLength === undefined) {
      head = Buffer.concat([head, chunk])
      const end = head.indexOf('\r\n\r\n')
      if (end !== -1) {
        const m = /\r\ncontent-length:\s*(\d+)/i.exec(head.toString('latin1', 0, end))
        bodyLength = m === null ? -1 : Number(m[1])
        bodyRead = head.length - end - 4
        head = undefined
      }
    } else bodyRead += chunk.length
    const aheadMs = (received / rate) * 1000 - (Date.now() - opened)
    if (aheadMs > 5 && resumeTimer === undefined) {
      socket.pause()
      resumeTimer = setTimeout(() => { resumeTimer = undefined; socket.resume() }, Math.min(aheadMs, 10000))
    }
  })
  socket.on('end', () => { endedCleanly = true })
  socket.on('error', () => { if (!stopping) stats.errors++ })
  socket.on('close', () => {
    clearTimeout(resumeTimer)
    sockets.delete(socket)
    if (stopping) return
    // without a Content-Length the body is chunked or ends with the connection: its framing only adds bytes
    if (bodyLength !== undefined && (bodyLength >= 0 ? bodyRead >= bodyLength : endedCleanly && bodyRead >= expectBytes)) stats.completed++
    else stats.endedEarly++
    setImmediate(fetchOnce)
  })
}

function stop () {
  if (stopping) return
  stopping = true
  for (const socket of sockets) socket.destroy()
  stats.seconds = (Date.now() - started) / 1000
  if (out !== undefined) fs.writeFileSync(out, JSON.stringify(stats))
  process.exit(0)
}

for (let i = 0; i < clients; i++) fetchOnce()
setTimeout(stop, seconds * 1000)
process.once('SIGTERM', stop)
process.once('SIGINT', stop)

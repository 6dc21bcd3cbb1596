'use strict'
// The floor of a Node FastCGI gateway, for reference only: node:http and node:net, nothing
// else. Kept connections up to MAX_CONCURRENCY (default 2) with a FIFO queue, as ours; a
// fixed minimal set of params; no routing, no timeouts, no validation of what the backend
// sends, no error handling worth the name. What is left is what Node itself costs per
// request: an HTTP server, a socket to the backend, and a few records. The distance between
// this and fastify-fastcgi is ours to remove; the distance between this and lighttpd is not.
//   PORT, BACKEND=unix:/path | tcp:host:port, KIND=c|php, DOCROOT (php), MAX_CONCURRENCY,
//   BUFFER_REQUEST_BODY=1: read a request's whole body into memory before it takes a backend
//   connection, then send it as STDIN records (what nginx and lighttpd do, and what the plugin
//   does by default once request buffering is its default); otherwise a body is read and dropped.
//   KEEP_CONN=0: a connection per request (FCGI_KEEP_CONN off, as lighttpd and nginx without
//   fastcgi_keep_conn): with several gateway processes on one prefork pool, a kept connection
//   pins a worker, and another process's connections then wait in the pool's accept queue for
//   as long as it stays open (this floor never closes one), so some of its clients are never
//   answered; closing after each request is the least a fair Node gateway can do there.
//   SAME_HEAP=1: first load Fastify and the plugin (dist/, or FASTCGI_DIST) and register it as the
//   benchmark's fastify-fastcgi gateway does, on an app that never listens, so that this process
//   holds the heap ours holds. V8 starts no incremental marking while the old generation is
//   under 8 MB: the bare floor stays under it, a process with Fastify loaded does not, and on
//   large bodies that alone changes its CPU per request (docs/performance.md, "The floor's heap").
const http = require('node:http')
const net = require('node:net')
const path = require('node:path')

const env = process.env
const backend = env.BACKEND ?? ''
const docroot = env.DOCROOT ?? __dirname
const cap = Number(env.MAX_CONCURRENCY ?? 2)
const bufferBodies = env.BUFFER_REQUEST_BODY === '1'
const keepConn = env.KEEP_CONN !== '0'
const STDIN_RECORD = 65528 // the largest multiple of 8 a record can carry: no padding
const connectOptions = backend.startsWith('unix:')
  ? { path: backend.slice(5) }
  : { host: backend.slice(4, backend.lastIndexOf(':')), port: Number(backend.slice(backend.lastIndexOf(':') + 1)) }

function header (type, length, padding) {
  return [1, type, 0, 1, length >> 8, length & 0xff, padding, 0]
}

/** BEGIN_REQUEST (responder, keep the connection unless KEEP_CONN=0), PARAMS and the empty PARAMS. */
function paramsRecords (pairs) {
  const body = []
  for (const [name, value] of pairs) {
    const n = Buffer.byteLength(name)
    const v = Buffer.byteLength(value)
    body.push(Buffer.from(n < 128 ? [n] : [0x80 | (n >>> 24), (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]))
    body.push(Buffer.from(v < 128 ? [v] : [0x80 | (v >>> 24), (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]))
    body.push(Buffer.from(name), Buffer.from(value))
  }
  const params = Buffer.concat(body)
  const padding = (8 - (params.length % 8)) % 8
  return Buffer.concat([
    Buffer.from([...header(1, 8, 0), 0, 1, keepConn ? 1 : 0, 0, 0, 0, 0, 0]),
    Buffer.from(header(4, params.length, padding)), params, Buffer.alloc(padding),
    Buffer.from(header(4, 0, 0))
  ])
}

const EMPTY_STDIN = Buffer.from(header(5, 0, 0))

class Connection {
  constructor () {
    this.socket = net.connect(connectOptions)
    this.socket.setNoDelay(true)
    this.res = undefined
    this.pending = Buffer.alloc(0)
    this.head = undefined // the STDOUT before the end of the CGI head
    this.body = []
    this.bodyBytes = 0
    this.streaming = false
    this.paused = false
    this.socket.on('data', (chunk) => this.onData(chunk))
    this.socket.on('error', () => {})
    this.socket.on('close', () => { if (this.res !== undefined) this.res.destroy(); open.delete(this) })
  }

  send (req, res, body) {
    this.res = res
    this.head = Buffer.alloc(0)
    this.body = []
    this.bodyBytes = 0
    this.streaming = false
    const url = req.url
    const q = url.indexOf('?')
    const scriptName = q === -1 ? url : url.slice(0, q)
    const socket = this.socket
    socket.cork()
    socket.write(paramsRecords([
      ['GATEWAY_INTERFACE', 'CGI/1.1'], ['SERVER_PROTOCOL', 'HTTP/1.1'], ['REQUEST_METHOD', req.method],
      ['REQUEST_URI', url], ['SCRIPT_NAME', scriptName], ['SCRIPT_FILENAME', path.join(docroot, scriptName)],
      ['QUERY_STRING', q === -1 ? '' : url.slice(q + 1)], ['SERVER_NAME', '127.0.0.1'], ['SERVER_PORT', String(env.PORT)],
      ['REMOTE_ADDR', '127.0.0.1'], ['CONTENT_LENGTH', body === undefined ? '' : String(body.length)]
    ]))
    if (body !== undefined) {
      for (let at = 0; at < body.length; at += STDIN_RECORD) {
        const piece = body.subarray(at, Math.min(body.length, at + STDIN_RECORD))
        socket.write(Buffer.from(header(5, piece.length, 0)))
        socket.write(piece)
      }
    }
    socket.write(EMPTY_STDIN)
    socket.uncork()
  }

  onData (chunk) {
    let data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk])
    let at = 0
    let ended = false
    while (data.length - at >= 8) {
      const length = data.readUInt16BE(at + 4)
      const end = at + 8 + length + data[at + 6]
      if (data.length < end) break
      const type = data[at + 1]
      if (type === 6 && length > 0) this.stdout(data.subarray(at + 8, at + 8 + length))
      else if (type === 3) ended = true
      at = end
    }
    this.pending = data.subarray(at)
    if (ended) this.finish()
    else if (this.head === undefined && (this.streaming || this.bodyBytes >= 131072)) {
      // held until the end, as ours does, unless the body is large
      this.streaming = true
      this.flush()
    }
  }

  stdout (content) {
    if (this.head === undefined) {
      this.body.push(content)
      this.bodyBytes += content.length
      return
    }
    this.head = Buffer.concat([this.head, content])
    const blank = this.head.indexOf('\r\n\r\n')
    if (blank === -1) return
    const res = this.res
    for (const line of this.head.toString('latin1', 0, blank).split('\r\n')) {
      const colon = line.indexOf(':')
      const name = line.slice(0, colon)
      const value = line.slice(colon + 1).trim()
      if (name.toLowerCase() === 'status') res.statusCode = parseInt(value, 10)
      else res.setHeader(name, value)
    }
    const rest = this.head.subarray(blank + 4)
    this.head = undefined
    if (rest.length > 0) this.body.push(rest)
    this.bodyBytes = rest.length
  }

  flush () {
    const res = this.res
    let full = false
    if (!res.destroyed) for (const piece of this.body) full = !res.write(piece)
    this.body = []
    this.bodyBytes = 0
    if (full && !this.paused) {
      this.paused = true
      this.socket.pause()
      // a client that went away drains nothing: the rest of its response is read and dropped
      const resume = () => {
        res.removeListener('drain', resume)
        res.removeListener('close', resume)
        if (this.paused) { this.paused = false; this.socket.resume() }
      }
      res.on('drain', resume)
      res.on('close', resume)
    }
  }

  finish () {
    if (this.streaming) {
      this.flush()
      this.res.end()
    } else {
      this.res.end(this.body.length === 1 ? this.body[0] : Buffer.concat(this.body))
    }
    if (this.paused) {
      // the next response goes to another client: this one's backlog no longer holds the backend
      this.paused = false
      this.socket.resume()
    }
    this.res = undefined
    const next = queue.shift()
    if (!keepConn) {
      // the backend closes it: the next request takes a fresh one
      open.delete(this)
      this.socket.destroy()
      if (next !== undefined) dispatch(next.req, next.res, next.body)
    } else if (next !== undefined) this.send(next.req, next.res, next.body)
    else idle.push(this)
  }
}

const open = new Set()
const idle = []
const queue = []

function dispatch (req, res, body) {
  const connection = idle.pop()
  if (connection !== undefined) connection.send(req, res, body)
  else if (open.size < cap) {
    const fresh = new Connection()
    open.add(fresh)
    fresh.send(req, res, body)
  } else queue.push({ req, res, body })
}

if (env.SAME_HEAP === '1') {
  const Fastify = require('fastify')
  const fastcgi = require(path.join(env.FASTCGI_DIST ?? path.join(__dirname, '..', '..', 'dist'), 'plugin', 'index.js'))
  const host = connectOptions.path !== undefined ? { socket: connectOptions.path } : { host: connectOptions.host, port: connectOptions.port }
  const unused = Fastify({ logger: false })
  if (env.KIND === 'php') unused.register(fastcgi, { documentRoot: docroot, server: { '.php': [host] } })
  else unused.register(fastcgi, { documentRoot: docroot, server: { '/': [{ ...host, checkLocal: false }] } })
  unused.ready().then(() => { globalThis.floorUnusedApp = unused }, (err) => { console.error(err); process.exit(1) })
}

http.createServer((req, res) => {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0
  if (!bufferBodies || !hasBody) {
    req.resume()
    dispatch(req, res, undefined)
    return
  }
  const chunks = []
  req.on('data', (chunk) => chunks.push(chunk))
  req.on('end', () => dispatch(req, res, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)))
}).listen(Number(env.PORT ?? 18080), '127.0.0.1')

process.once('SIGTERM', () => process.exit(0))
process.once('SIGINT', () => process.exit(0))

#!/usr/bin/env node
'use strict'
// A small FastCGI responder in plain Node.js, no dependencies, so that the demo serves on any
// machine. It implements the few FastCGI 1.0 records it needs itself.
//
//   node examples/fcgi-app/server.js --socket /tmp/fcgi-app.sock
//   node examples/fcgi-app/server.js --port 9001 [--host 127.0.0.1]
//   FCGI_SOCKET=/tmp/app.sock node examples/fcgi-app/server.js     (or FCGI_PORT / FCGI_HOST)
//   started by a FastCGI spawner with the listening socket on fd 0: no arguments needed
//
// Requests on one connection are served one after another; FCGI_KEEP_CONN keeps the
// connection open. FCGI_GET_VALUES is answered (FCGI_MPXS_CONNS=0: no multiplexing).

const net = require('node:net')
const fs = require('node:fs')

const VERSION = 1
const BEGIN_REQUEST = 1
const ABORT_REQUEST = 2
const END_REQUEST = 3
const PARAMS = 4
const STDIN = 5
const STDOUT = 6
const GET_VALUES = 9
const GET_VALUES_RESULT = 10
const UNKNOWN_TYPE = 11
const RESPONDER = 1
const REQUEST_COMPLETE = 0
const CANT_MPX_CONN = 1
const UNKNOWN_ROLE = 3
const MAX_CONTENT = 0xffff
const MAX_BODY_SHOWN = 64 * 1024
const VALUES = { FCGI_MAX_CONNS: '64', FCGI_MAX_REQS: '64', FCGI_MPXS_CONNS: '0' }
const SHOWN = [
  'REQUEST_METHOD', 'REQUEST_URI', 'SCRIPT_NAME', 'PATH_INFO', 'QUERY_STRING', 'SCRIPT_FILENAME',
  'DOCUMENT_ROOT', 'SERVER_SOFTWARE', 'SERVER_PROTOCOL', 'GATEWAY_INTERFACE', 'REMOTE_ADDR',
  'REQUEST_SCHEME', 'HTTP_HOST', 'HTTP_USER_AGENT', 'CONTENT_TYPE', 'CONTENT_LENGTH'
]

function record (type, requestId, content = Buffer.alloc(0)) {
  const header = Buffer.alloc(8)
  header[0] = VERSION
  header[1] = type
  header.writeUInt16BE(requestId, 2)
  header.writeUInt16BE(content.length, 4)
  return Buffer.concat([header, content])
}

function stream (type, requestId, data) {
  const parts = []
  for (let i = 0; i < data.length; i += MAX_CONTENT) parts.push(record(type, requestId, data.subarray(i, i + MAX_CONTENT)))
  return Buffer.concat(parts)
}

function endRequest (requestId, protocolStatus) {
  const body = Buffer.alloc(8)
  body[4] = protocolStatus
  return record(END_REQUEST, requestId, body)
}

function encodeLength (n) {
  if (n < 128) return Buffer.from([n])
  const b = Buffer.alloc(4)
  b.writeUInt32BE((n | 0x80000000) >>> 0)
  return b
}

function encodePairs (pairs) {
  const parts = []
  for (const [name, value] of pairs) {
    const n = Buffer.from(name)
    const v = Buffer.from(value)
    parts.push(encodeLength(n.length), encodeLength(v.length), n, v)
  }
  return Buffer.concat(parts)
}

function decodePairs (buf) {
  const pairs = []
  let offset = 0
  const readLength = () => {
    if (offset >= buf.length) throw new Error('truncated name-value pair')
    if (buf[offset] < 128) return buf[offset++]
    if (offset + 4 > buf.length) throw new Error('truncated name-value pair')
    const n = buf.readUInt32BE(offset) & 0x7fffffff
    offset += 4
    return n
  }
  while (offset < buf.length) {
    const nameLength = readLength()
    const valueLength = readLength()
    if (offset + nameLength + valueLength > buf.length) throw new Error('name-value pair runs past its block')
    const name = buf.toString('utf8', offset, offset + nameLength)
    const value = buf.toString('utf8', offset + nameLength, offset + nameLength + valueLength)
    offset += nameLength + valueLength
    pairs.push([name, value])
  }
  return pairs
}

function escapeHtml (text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c])
}

function page (params, body, requestNumber) {
  const rows = SHOWN.filter((name) => params.has(name))
    .map((name) => `<tr><th>${escapeHtml(name)}</th><td>${escapeHtml(params.get(name))}</td></tr>`)
    .join('\n')
  let posted = ''
  if (params.get('REQUEST_METHOD') === 'POST' || body.length > 0) {
    const shown = body.subarray(0, MAX_BODY_SHOWN).toString('utf8')
    const more = body.length > MAX_BODY_SHOWN ? `\n… (${body.length - MAX_BODY_SHOWN} more bytes)` : ''
    posted = `<h2>Request body (${body.length} bytes)</h2>\n<pre>${escapeHtml(shown + more)}</pre>\n`
  }
  return '<!doctype html>\n<html><head><meta charset="utf-8"><title>fcgi-app</title></head><body>\n' +
    `<h1>Hello from the example FastCGI app</h1>\n<p>Request ${requestNumber} on this connection, ` +
    `method ${escapeHtml(params.get('REQUEST_METHOD') || '')}, served by pid ${process.pid}.</p>\n` +
    `<table>\n${rows}\n</table>\n${posted}</body></html>\n`
}

let connections = 0

function serveConnection (socket) {
  const connectionId = ++connections
  let buffered = Buffer.alloc(0)
  let current = null // the request being received or answered: { id, keepConn, params, stdin }
  let served = 0
  let closing = false

  socket.on('error', () => {})

  const finish = (id, response, keepConn) => {
    socket.write(Buffer.concat([stream(STDOUT, id, response), record(STDOUT, id), endRequest(id, REQUEST_COMPLETE)]))
    current = null
    if (!keepConn) { closing = true; socket.end() }
  }

  const onRecord = (type, id, content) => {
    if (type === GET_VALUES) {
      const answer = decodePairs(content).filter(([name]) => name in VALUES).map(([name]) => [name, VALUES[name]])
      socket.write(record(GET_VALUES_RESULT, 0, encodePairs(answer)))
      return
    }
    if (type === BEGIN_REQUEST) {
      if (current !== null) { socket.write(endRequest(id, CANT_MPX_CONN)); return }
      const role = content.readUInt16BE(0)
      const keepConn = (content[2] & 1) === 1
      if (role !== RESPONDER) {
        socket.write(endRequest(id, UNKNOWN_ROLE))
        if (!keepConn) { closing = true; socket.end() }
        return
      }
      current = { id, keepConn, paramChunks: [], params: null, stdin: [], stdinLength: 0 }
      return
    }
    if (current === null || id !== current.id) {
      if (type > UNKNOWN_TYPE || type === 0) socket.write(record(UNKNOWN_TYPE, 0, Buffer.from([type, 0, 0, 0, 0, 0, 0, 0])))
      return // a record of a request we are not serving (or a management record we do not know)
    }
    if (type === ABORT_REQUEST) {
      socket.write(endRequest(id, REQUEST_COMPLETE))
      const keepConn = current.keepConn
      current = null
      if (!keepConn) { closing = true; socket.end() }
    } else if (type === PARAMS) {
      if (content.length > 0) current.paramChunks.push(Buffer.from(content))
      else current.params = new Map(decodePairs(Buffer.concat(current.paramChunks)))
    } else if (type === STDIN) {
      if (content.length > 0) {
        current.stdinLength += content.length
        if (current.stdinLength <= 16 * 1024 * 1024) current.stdin.push(Buffer.from(content))
        return
      }
      const params = current.params || new Map()
      served++
      const body = Buffer.concat(current.stdin)
      const html = Buffer.from(page(params, body, served))
      const head = 'Status: 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n' +
        `Content-Length: ${html.length}\r\nX-Connection: ${connectionId}\r\nX-Request-Number: ${served}\r\n\r\n`
      finish(current.id, Buffer.concat([Buffer.from(head), html]), current.keepConn)
    }
  }

  socket.on('data', (chunk) => {
    if (closing) return
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk])
    try {
      while (buffered.length >= 8 && !closing) {
        if (buffered[0] !== VERSION) throw new Error(`bad record version ${buffered[0]}`)
        const length = buffered.readUInt16BE(4)
        const total = 8 + length + buffered[6]
        if (buffered.length < total) break
        const type = buffered[1]
        const id = buffered.readUInt16BE(2)
        const content = buffered.subarray(8, 8 + length)
        buffered = buffered.subarray(total)
        onRecord(type, id, content)
      }
    } catch (err) {
      process.stderr.write(`fcgi-app: ${err.message}; closing the connection\n`)
      socket.destroy()
    }
  })
}

function parseArgs (argv, env) {
  const opts = { socket: env.FCGI_SOCKET, port: env.FCGI_PORT, host: env.FCGI_HOST || '127.0.0.1' }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--socket') opts.socket = argv[++i]
    else if (arg === '--port') opts.port = argv[++i]
    else if (arg === '--host') opts.host = argv[++i]
    else if (arg === '--help' || arg === '-h') opts.help = true
    else throw new Error(`unknown argument ${arg}`)
  }
  return opts
}

function fd0IsSocket () {
  try { return fs.fstatSync(0).isSocket() } catch { return false }
}

function main () {
  let opts
  try { opts = parseArgs(process.argv.slice(2), process.env) } catch (err) {
    process.stderr.write(`${err.message}\n`)
    process.exit(2)
  }
  const usage = 'usage: server.js --socket PATH | --port N [--host H]  (or FCGI_SOCKET / FCGI_PORT, or a listening socket on fd 0)\n'
  if (opts.help) { process.stdout.write(usage); return }
  const server = net.createServer(serveConnection)
  let where
  if (opts.socket) {
    try { if (fs.statSync(opts.socket).isSocket()) fs.unlinkSync(opts.socket) } catch {}
    where = { path: opts.socket }
  } else if (opts.port) {
    where = { host: opts.host, port: Number(opts.port) }
  } else if (fd0IsSocket()) {
    where = { fd: 0 }
  } else {
    process.stderr.write(usage)
    process.exit(2)
  }
  server.on('error', (err) => {
    process.stderr.write(`fcgi-app: cannot listen: ${err.message}\n`)
    process.exit(1)
  })
  server.listen(where, () => {
    if (!('fd' in where)) process.stderr.write(`fcgi-app: listening on ${opts.socket ? opts.socket : `${opts.host}:${opts.port}`}\n`)
  })
  // SIGUSR1 is what libfcgi apps (and lighttpd users) expect for a graceful stop
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGUSR1']) {
    process.on(signal, () => {
      server.close()
      setTimeout(() => process.exit(0), 1000).unref()
    })
  }
}

main()

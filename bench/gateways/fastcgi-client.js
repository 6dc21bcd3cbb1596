'use strict'
// The npm package `fastcgi-client` (0.2.x) behind a minimal node:http server, written the way
// its README shows: one client, a request per HTTP request, CGI headers parsed from STDOUT,
// the rest streamed to the response. PORT, BACKEND=unix:/path | tcp:host:port, KIND, DOCROOT.
const http = require('node:http')
const path = require('node:path')
const fastcgiConnector = require('fastcgi-client')

const env = process.env
const backend = env.BACKEND ?? ''
const docroot = env.DOCROOT ?? __dirname
const options = { skipCheckServer: true }
if (backend.startsWith('unix:')) options.sockFile = backend.slice(5)
else {
  options.host = backend.slice(4, backend.lastIndexOf(':'))
  options.port = Number(backend.slice(backend.lastIndexOf(':') + 1))
}
const client = fastcgiConnector(options)

function fail (res, err) {
  if (!res.headersSent) {
    res.statusCode = 502
    res.end(String(err && err.message))
  } else {
    res.destroy()
  }
}

const server = http.createServer((req, res) => {
  const url = req.url
  const q = url.indexOf('?')
  const pathname = q === -1 ? url : url.slice(0, q)
  const params = {
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_SOFTWARE: 'node',
    SERVER_PROTOCOL: 'HTTP/' + req.httpVersion,
    REQUEST_METHOD: req.method,
    REQUEST_URI: url,
    QUERY_STRING: q === -1 ? '' : url.slice(q + 1),
    SCRIPT_NAME: pathname,
    SCRIPT_FILENAME: path.join(docroot, pathname),
    DOCUMENT_ROOT: docroot,
    REMOTE_ADDR: req.socket.remoteAddress,
    REMOTE_PORT: String(req.socket.remotePort),
    SERVER_ADDR: req.socket.localAddress,
    SERVER_PORT: String(req.socket.localPort),
    SERVER_NAME: 'localhost',
    CONTENT_LENGTH: req.headers['content-length'] ?? '0',
    REDIRECT_STATUS: '200'
  }
  for (const [name, value] of Object.entries(req.headers)) {
    params['HTTP_' + name.toUpperCase().replace(/-/g, '_')] = Array.isArray(value) ? value.join(', ') : value
  }
  client.request(params, (err, request) => {
    if (err) return fail(res, err)
    req.pipe(request.stdin)
    let head = Buffer.alloc(0)
    let inBody = false
    request.stdout.on('data', (chunk) => {
      if (inBody) {
        if (!res.write(chunk)) {
          request.stdout.pause()
          res.once('drain', () => request.stdout.resume())
        }
        return
      }
      head = Buffer.concat([head, chunk])
      const end = head.indexOf('\r\n\r\n')
      if (end === -1) return
      inBody = true
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const colon = line.indexOf(':')
        if (colon === -1) continue
        const name = line.slice(0, colon).trim()
        const value = line.slice(colon + 1).trim()
        if (name.toLowerCase() === 'status') res.statusCode = parseInt(value, 10)
        else res.setHeader(name, value)
      }
      const rest = head.subarray(end + 4)
      if (rest.length > 0) res.write(rest)
    })
    request.stderr.on('data', () => {})
    request.stdout.on('end', () => {
      if (!inBody) return fail(res, new Error('no CGI header block'))
      res.end()
    })
  })
})
const stop = () => server.close(() => process.exit(0))
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
server.keepAliveTimeout = 72000
server.listen(Number(env.PORT ?? 18080), '127.0.0.1')

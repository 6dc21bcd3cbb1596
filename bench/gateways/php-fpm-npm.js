'use strict'
// The npm package `php-fpm` (1.1.x: "Simple, middleware-style PHP binding") behind node:http,
// as its README shows. It buffers the whole response as a UTF-8 string, so binary bodies do not
// survive it (the benchmark's body check reports that). PORT, BACKEND, DOCROOT.
const http = require('node:http')
const phpFpm = require('php-fpm')

const env = process.env
const backend = env.BACKEND ?? ''
const options = { documentRoot: env.DOCROOT ?? __dirname }
if (backend.startsWith('unix:')) options.sockFile = backend.slice(5)
else {
  options.host = backend.slice(4, backend.lastIndexOf(':'))
  options.port = Number(backend.slice(backend.lastIndexOf(':') + 1))
}
const php = phpFpm(options)

const server = http.createServer((req, res) => {
  php(req, res).catch((err) => {
    if (!res.headersSent) {
      res.statusCode = 502
      res.end(String(err && err.message))
    } else {
      res.destroy()
    }
  })
})
const stop = () => server.close(() => process.exit(0))
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
server.keepAliveTimeout = 72000
server.listen(Number(env.PORT ?? 18080), '127.0.0.1')

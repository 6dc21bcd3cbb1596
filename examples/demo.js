'use strict'
// The demo: Fastify on 127.0.0.1:3000 with fastify-fastcgi in front of real FastCGI backends.
//  - /app/...  a small FastCGI application (examples/fcgi-app), spawned by the plugin
//  - *.php     php-cgi spawned by the plugin, when php-cgi is installed
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const Fastify = require('fastify')
const fastcgi = require('..')

function which (name) {
  for (const dir of (process.env.PATH || '').split(':')) {
    const candidate = path.join(dir, name)
    try {
      fs.accessSync(candidate, fs.constants.X_OK)
      return candidate
    } catch {}
  }
  return undefined
}

async function main () {
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL || 'info' } })
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fastify-fastcgi-demo-'))
  const server = {
    '/app/': {
      'node-app': {
        binPath: [process.execPath, path.join(__dirname, 'fcgi-app', 'server.js')],
        socket: path.join(runDir, 'node-app.sock'),
        maxProcs: 1,
        checkLocal: false
      }
    }
  }
  const phpCgi = which('php-cgi')
  if (phpCgi !== undefined) {
    server['.php'] = { php: { binPath: phpCgi, socket: path.join(runDir, 'php.sock'), maxProcs: 1, binEnvironment: { PHP_FCGI_CHILDREN: '2', PHP_FCGI_MAX_REQUESTS: '500' } } }
  } else {
    app.log.warn('php-cgi is not installed: the demo serves /app/ only (apt-get install php-cgi for *.php)')
  }
  await app.register(fastcgi, {
    documentRoot: path.join(__dirname, 'public'),
    indexFiles: ['index.php'],
    server,
    statusUrl: '/fastcgi-status'
  })
  app.get('/', async (request, reply) => reply.type('text/html').send(
    '<h1>fastify-fastcgi demo</h1><ul>' +
    '<li><a href="/app/hello?name=world">/app/hello</a>: the Node FastCGI app</li>' +
    (phpCgi !== undefined ? '<li><a href="/info.php/extra/path?x=1">/info.php</a>: PHP through php-cgi</li>' : '') +
    '<li><a href="/fastcgi-status">/fastcgi-status</a>: backend counters</li></ul>'))
  const removeRunDir = () => fs.rmSync(runDir, { recursive: true, force: true })
  app.addHook('onClose', async () => removeRunDir())
  process.once('exit', removeRunDir)
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
  }
  await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT || 3000) })
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})

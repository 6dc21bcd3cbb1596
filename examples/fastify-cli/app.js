'use strict'
// fastify-fastcgi as a fastify-cli application:
//
//   npm run build
//   npx fastify start -l info -a 127.0.0.1 -p 3000 examples/fastify-cli/app.js
//
// /app/...  the example FastCGI application (examples/fcgi-app/server.js), spawned by the plugin
// *.php     php-cgi, spawned by the plugin, when php-cgi is installed (documents: examples/public)
// /fastcgi-status  the backends and their counters
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const fastcgi = require('fastify-fastcgi')

function which (name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter).concat(['/usr/bin', '/usr/local/bin'])) {
    if (dir === '') continue
    const candidate = path.join(dir, name)
    try {
      fs.accessSync(candidate, fs.constants.X_OK)
      return candidate
    } catch {}
  }
  return undefined
}

module.exports = async function app (fastify, opts) {
  // the sockets of the spawned backends live in a directory of their own, removed at close
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fastify-fastcgi-cli-'))
  fastify.addHook('onClose', async () => { fs.rmSync(runDir, { recursive: true, force: true }) })

  const server = {
    '/app/': {
      'node-app': {
        binPath: [process.execPath, path.join(__dirname, '..', 'fcgi-app', 'server.js')],
        socket: path.join(runDir, 'node-app.sock'),
        maxProcs: 1,
        checkLocal: false
      }
    }
  }
  const phpCgi = which('php-cgi')
  if (phpCgi !== undefined) {
    server['.php'] = {
      php: {
        binPath: phpCgi,
        socket: path.join(runDir, 'php.sock'),
        maxProcs: 1,
        binEnvironment: { PHP_FCGI_CHILDREN: '2', PHP_FCGI_MAX_REQUESTS: '500' }
      }
    }
  } else {
    fastify.log.warn('php-cgi is not installed: serving /app/ only (apt-get install php-cgi for *.php)')
  }

  await fastify.register(fastcgi, {
    documentRoot: path.join(__dirname, '..', 'public'),
    indexFiles: ['index.php'],
    server,
    statusUrl: '/fastcgi-status'
  })

  const backends = fastify.fastcgi.backends().map((b) => ({ name: b.name, pid: b.pid, address: b.address }))
  fastify.log.info({ backends }, 'FastCGI backends started')

  fastify.get('/', async (request, reply) => reply.type('text/html').send(
    '<h1>fastify-fastcgi under fastify-cli</h1><ul>' +
    '<li><a href="/app/hello?name=cli">/app/hello</a>: the Node FastCGI app</li>' +
    (phpCgi !== undefined ? '<li><a href="/info.php/extra?x=1">/info.php</a>: PHP through php-cgi</li>' : '') +
    '<li><a href="/fastcgi-status">/fastcgi-status</a></li></ul>'))
}

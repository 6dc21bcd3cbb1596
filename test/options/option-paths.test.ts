// Error messages name the option's path as it is written in JavaScript.
import t from 'tap'
import { normalizeOptions, pathPart } from '../../plugin/fastify/options'

const fails = (options: unknown): string => {
  try {
    normalizeOptions(options)
  } catch (err) {
    const e = err as { code?: string, message: string }
    if (e.code !== 'FST_FASTCGI_INVALID_OPTION') throw err
    return e.message
  }
  throw new Error('normalizeOptions accepted ' + JSON.stringify(options))
}

const PREFIX = 'Invalid fastify-fastcgi option: '

const cases: Array<[string, unknown, string]> = [
  ['an unnamed backend: index', { server: { '.php': [{ socket: '/run/a.sock' }, { socket: '/run/b.sock', binPth: '/usr/bin/php-cgi' }] } },
    "server['.php'][1].binPth is not a host option; did you mean binPath?"],
  ['a named backend with an identifier name', { server: { '/app/': { app: { socket: '/run/a.sock', maxProc: 2 } } } },
    "server['/app/'].app.maxProc is not a host option; did you mean maxProcs?"],
  ['a named backend whose name is not an identifier', { server: { '.py': { 'python-fcgi': { socket: '/run/a.sock', port: 'x' } } } },
    "server['.py']['python-fcgi'].port must be a port number from 1 to 65535, got \"x\""],
  ['a quote in a key is escaped', { server: { ".it's": [{ socket: '/run/a.sock', checkLocal: 'no' }] } },
    "server['.it\\'s'][0].checkLocal must be true or false, got \"no\""],
  ['a top-level option', { server: { '.php': [{ socket: '/run/a.sock' }] }, documentRot: '/srv' },
    'options.documentRot is not an option; did you mean documentRoot?'],
  ['a nested list entry', { server: { '.php': [{ socket: '/run/a.sock', binPath: '/bin/x', binCopyEnvironment: ['PATH', 3] }] } },
    "server['.php'][0].binCopyEnvironment must be an array of strings, got [\"PATH\",3]"]
]

for (const [name, options, message] of cases) {
  t.test(name, async (t) => {
    t.equal(fails(options), PREFIX + message)
  })
}

t.test('pathPart', async (t) => {
  t.equal(pathPart(0), '[0]')
  t.equal(pathPart('binPath'), '.binPath')
  t.equal(pathPart('.php'), "['.php']")
  t.equal(pathPart('a\\b'), "['a\\\\b']")
})

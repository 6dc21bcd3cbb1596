// Options that cannot work fail register() with the option's path and what is allowed:
// a header limit or concurrency of 0, durations Node cannot wait for, a documentRoot that is
// missing where it is needed or does not exist, a port given as a string.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import os from 'node:os'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { normalizeOptions } from '../../plugin/fastify/options'

const PREFIX = 'Invalid fastify-fastcgi option: '
const W = "server['.php'][0]"
const root = { documentRoot: __dirname }
const remote = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ host: '127.0.0.1', port: 9000, ...extra })
const DURATION = 'a duration in milliseconds from 0 to 2147483647 (about 24.8 days, the longest a Node timer waits)'

const cases: Array<[string, unknown, string]> = [
  ['headerLimit 0', { ...root, headerLimit: 0, server: { '.php': [remote()] } }, 'headerLimit must be a whole number >= 1, got 0'],
  ['maxConcurrency 0', { ...root, server: { '.php': [remote({ maxConcurrency: 0 })] } }, `${W}.maxConcurrency must be a whole number >= 1, got 0`],
  ['readTimeout 2^31', { ...root, server: { '.php': [remote({ readTimeout: 2 ** 31 })] } }, `${W}.readTimeout must be ${DURATION}, got 2147483648`],
  ['queueTimeout a year', { ...root, server: { '.php': [remote({ queueTimeout: 365 * 24 * 3600 * 1000 })] } }, `${W}.queueTimeout must be ${DURATION}, got 31536000000`],
  ['closeGrace 2^31', { ...root, closeGrace: 2 ** 31, server: { '.php': [remote()] } }, `closeGrace must be ${DURATION}, got 2147483648`],
  ['port as a string', { ...root, server: { '.php': [{ host: '127.0.0.1', port: '9000' }] } }, `${W}.port must be a number, not a string: write port: 9000, got "9000"`],
  ['no documentRoot with checkLocal (the default)', { server: { '.php': [remote()] } },
    `documentRoot is required: ${W} looks for scripts in it (checkLocal, the default); expected documentRoot: '/srv/www' (the directory of your scripts), or checkLocal: false and a docroot on every backend`],
  ['no documentRoot, checkLocal: false but SCRIPT_FILENAME from it', { server: { '/app/': { app: remote({ checkLocal: false }) } } },
    "documentRoot is required: server['/app/'].app builds SCRIPT_FILENAME from it (it has no docroot); expected documentRoot: '/srv/www' (the directory of your scripts), or checkLocal: false and a docroot on every backend"],
  ['no documentRoot, one of two hosts needs it', { server: { '/a/': [remote({ checkLocal: false, docroot: '/srv/a' })], '/b/': [remote({ checkLocal: false })] } },
    "documentRoot is required: server['/b/'][0] builds SCRIPT_FILENAME from it (it has no docroot); expected documentRoot: '/srv/www' (the directory of your scripts), or checkLocal: false and a docroot on every backend"],
  ['documentRoot that does not exist', { documentRoot: '/nonexistent/ffcgi-docroot', server: { '.php': [remote()] } },
    `documentRoot "/nonexistent/ffcgi-docroot" does not exist: expected an existing directory (${W} looks for scripts in it); create it, or set documentRoot to the absolute path of your scripts' directory`],
  ['documentRoot empty', { documentRoot: '', server: { '.php': [remote()] } }, "documentRoot is empty: expected the directory of your scripts, such as '/srv/www'"]
]

for (const [name, options, message] of cases) {
  t.test(name, async (t) => {
    t.throws(() => normalizeOptions(options), { code: 'FST_FASTCGI_INVALID_OPTION', message: PREFIX + message })
  })
}

t.test('documentRoot that is a file', async (t) => {
  const dir = mkdtempSync(join(os.tmpdir(), 'ffcgi-docroot-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'index.php')
  writeFileSync(file, '<?php\n')
  t.throws(() => normalizeOptions({ documentRoot: file, server: { '.php': [remote()] } }), {
    message: `${PREFIX}documentRoot ${JSON.stringify(file)} is not a directory: expected the directory of your scripts`
  })
})

t.test('what is allowed', async (t) => {
  const limits = normalizeOptions({ ...root, headerLimit: 1, server: { '.php': [remote({ maxConcurrency: 1, readTimeout: 2 ** 31 - 1, queueTimeout: 0 })] } })
  t.equal(limits.headerLimit, 1)
  t.equal(limits.mappings[0]?.hosts[0]?.readTimeout, 2 ** 31 - 1, 'the longest duration')
  t.equal(limits.mappings[0]?.hosts[0]?.queueTimeout, 0, '0 still turns a timeout off')

  const rel = relative(process.cwd(), __dirname)
  t.equal(normalizeOptions({ documentRoot: rel, server: { '.php': [remote()] } }).documentRoot, __dirname, 'a relative documentRoot is resolved against the working directory')

  const remoteRoot = normalizeOptions({ documentRoot: '/var/www/in-the-container', server: { '/app/': [remote({ checkLocal: false })] } })
  t.equal(remoteRoot.documentRoot, '/var/www/in-the-container', 'without checkLocal it need not exist here (a remote backend\'s path)')

  const ownRoots = normalizeOptions({ server: { '/a/': [remote({ checkLocal: false, docroot: '/srv/a' })], '/b/': { b: remote({ checkLocal: false, docroot: '/srv/b' }) } } })
  t.equal(ownRoots.documentRoot, '/srv/a', 'not needed when every backend has its own docroot and checks nothing locally')
})

t.test('register() fails with the same error', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  app.register(fastcgi, { server: { '.php': [{ host: '127.0.0.1', port: 9000 }] } })
  await t.rejects(async () => { await app.ready() }, { code: 'FST_FASTCGI_INVALID_OPTION', message: /^Invalid fastify-fastcgi option: documentRoot is required: server\['\.php'\]\[0\]/ })
})

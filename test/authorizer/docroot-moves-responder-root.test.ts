// lighttpd: an approving authorizer with a docroot moves the request there, so a responder
// without a docroot of its own finds the script under the authorizer's docroot (check-local
// looks there) and gets DOCUMENT_ROOT / SCRIPT_FILENAME from it.
import t from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { makeTempDir } from '../helpers/tmp'
import { startFaultServer, faults } from '../helpers/fault-server'

t.test('a responder behind an approving authorizer runs scripts from the authorizer docroot', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const docroot = makeTempDir(t, 'ffcgi-private-')
  mkdirSync(join(docroot, 'private'))
  writeFileSync(join(docroot, 'private', 'where.php'), '<?php echo $_SERVER["DOCUMENT_ROOT"], "|", $_SERVER["SCRIPT_FILENAME"], "|", $_SERVER["REMOTE_USER"] ?? "-";\n')
  const gate = await startFaultServer(t, faults.rawHeaders('Variable-REMOTE_USER: carol\r\n\r\n'))
  const php = await startPhpCgi(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: {
      '/private/': [{ ...gate.options, mode: 'authorizer', checkLocal: false, docroot }],
      '.php': [php.options]
    }
  })
  const res = await app.inject({ url: '/private/where.php' })
  t.equal(res.statusCode, 200)
  t.equal(res.body, `${docroot}|${join(docroot, 'private', 'where.php')}|carol`)

  const plain = await app.inject({ url: '/hello.php' })
  t.equal(plain.statusCode, 200, 'requests outside the authorizer keep the plugin\'s documentRoot')
  t.equal(gate.requests.length, 1)
})

// xSendfileDocroot is checked after decoding and normalization, and again after realpath:
// `..`, `%2e%2e`, an encoded slash, a symbolic link leading out and a sibling folder sharing
// the prefix (`files-private` beside `files`) are all refused with 403 and a log line. A link
// that stays inside is fine.
import t from 'tap'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { makeTempDir } from '../helpers/tmp'

t.test('paths leading out of xSendfileDocroot are refused', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const base = makeTempDir(t, 'ffcgi-send-')
  const files = join(base, 'files')
  mkdirSync(files)
  mkdirSync(join(base, 'files-private'))
  writeFileSync(join(files, 'public.txt'), 'public\n')
  writeFileSync(join(base, 'secret.txt'), 'SECRET outside\n')
  writeFileSync(join(base, 'files-private', 'secret.txt'), 'SECRET sibling\n')
  symlinkSync(join(base, 'secret.txt'), join(files, 'link-out.txt'))
  symlinkSync(join(files, 'public.txt'), join(files, 'link-in.txt'))

  const warnings: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _enc, done) { warnings.push(chunk.toString()); done() } })
  const php = await startPhpCgi(t)
  const app = Fastify({ logger: { level: 'warn', stream } })
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [{ ...php.options, xSendfile: true, xSendfileDocroot: [files] }] } })
  const send = async (value: string): Promise<{ statusCode: number, body: string }> => await app.inject({ url: `/sendfile/send.php?v=${encodeURIComponent(value)}` })

  const attempts: Array<[string, string]> = [
    ['dot-dot', `${files}/../secret.txt`],
    ['encoded dot-dot', `${files}/%2e%2e/secret.txt`],
    ['encoded slash', `${files}/..%2Fsecret.txt`],
    ['symbolic link out', `${files}/link-out.txt`],
    ['sibling folder with the same prefix', `${base}/files-private/secret.txt`],
    ['the root itself', files]
  ]
  for (const [name, value] of attempts) {
    const before = warnings.length
    const res = await send(value)
    t.equal(res.statusCode, 403, `${name}: 403`)
    t.notMatch(res.body, 'SECRET', `${name}: nothing of the file`)
    t.notMatch(res.body, 'backend body', `${name}: nor the backend's body`)
    t.ok(warnings.length > before, `${name}: logged`)
  }
  t.match(warnings.join(''), /xSendfileDocroot/)

  const inside = await send(`${files}/link-in.txt`)
  t.equal(inside.statusCode, 200, 'a link that stays inside is fine')
  t.equal(inside.body, 'public\n')
  const plain = await send(`${files}/./public.txt`)
  t.equal(plain.statusCode, 200)
  t.equal(plain.body, 'public\n')
})

// X-Sendfile2 `path range[, path range]`: the ranges are sent one after the other (lighttpd's
// own example: `ten.txt 2-4, ten.txt 8-` -> `23489`), across repeated headers too; a comma in a
// file name is %2c. A missing range, or a range ending before it starts, is 502; a path
// outside xSendfileDocroot 403.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { makeTempDir } from '../helpers/tmp'

t.test('X-Sendfile2 ranges', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const dir = makeTempDir(t, 'ffcgi-send-')
  const ten = join(dir, 'ten.txt')
  writeFileSync(ten, '0123456789')
  writeFileSync(join(dir, 'a,b.txt'), 'abcdef')
  const php = await startPhpCgi(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, { documentRoot: PHP_FIXTURES, server: { '.php': [{ ...php.options, xSendfile: true, xSendfileDocroot: [dir] }] } })
  const send = async (v: string, v2?: string): Promise<{ statusCode: number, body: string, headers: Record<string, unknown> }> =>
    await app.inject({ url: `/sendfile/send.php?h=X-Sendfile2&v=${encodeURIComponent(v)}${v2 === undefined ? '' : `&v2=${encodeURIComponent(v2)}`}` })
  const comma = `${dir}/a%2cb.txt`

  const res = await send(`${ten} 2-4, ${ten} 8-`)
  t.equal(res.statusCode, 200)
  t.equal(res.body, '23489')
  t.equal(res.headers['content-length'], '5')
  t.notOk(res.headers['x-sendfile2'], 'the header is consumed')

  const two = await send(`${ten} 0-0`, `${comma} 1-2`)
  t.equal(two.body, '0bc', 'repeated headers, in order; %2c in a name')

  const whole = await send(`${ten} 0-`)
  t.equal(whole.body, '0123456789')

  const empty = await send(`${ten} 3-2`)
  t.equal(empty.statusCode, 200, 'start = end + 1 is an empty part')
  t.equal(empty.body, '')

  t.equal((await send(ten)).statusCode, 502, 'no range: 502')
  t.equal((await send(`${ten} 5-2`)).statusCode, 502, 'range ending before it starts: 502')
  t.equal((await send(`${ten} 1-2 junk`)).statusCode, 502, 'trailing junk: 502')
  t.equal((await send(`${dir}/../x 0-`)).statusCode, 403, 'outside the docroot: 403')
  t.equal((await send(`${dir}/missing 0-`)).statusCode, 404, 'missing: 404')
})

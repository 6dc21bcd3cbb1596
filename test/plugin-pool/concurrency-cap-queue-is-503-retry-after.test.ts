// Beyond lighttpd: a per-backend concurrency cap with a bounded, timed wait queue. Past the
// queue (full, or waited too long) the answer is 503 with Retry-After, and the backend never
// sees more than the cap at once.
import t from 'tap'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'

t.test('maxConcurrency 1, queueLimit 1: one runs, one waits, the third is refused', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 2 })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '.php': [{ ...php.options, maxConcurrency: 1, queueLimit: 1, queueTimeout: 10_000 }] }
  })
  const running = app.inject('/slow.php?ms=1500')
  const waiting = app.inject('/slow.php?ms=10')
  // the first two have been dispatched (bounded wait) before the third arrives
  for (let i = 0; i < 200 && (app.fastcgi.backends()[0]?.load ?? 0) < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  const refused = await app.inject('/slow.php?ms=10')
  t.equal(refused.statusCode, 503, 'queue full: 503')
  t.equal(refused.headers['retry-after'], '1', 'with Retry-After')
  t.equal(refused.json().code, 'FST_FASTCGI_QUEUE_FULL')
  t.equal((await running).statusCode, 200)
  t.equal((await waiting).statusCode, 200, 'the queued request was served once the slot was free')
})

t.test('queueTimeout: a request that waits too long is 503 with Retry-After', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 2 })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastcgi, {
    documentRoot: PHP_FIXTURES,
    server: { '.php': [{ ...php.options, maxConcurrency: 1, queueLimit: 10, queueTimeout: 200 }] }
  })
  const running = app.inject('/slow.php?ms=1500')
  for (let i = 0; i < 200 && (app.fastcgi.backends()[0]?.load ?? 0) < 1; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  const late = await app.inject('/slow.php?ms=10')
  t.equal(late.statusCode, 503)
  t.equal(late.headers['retry-after'], '1')
  t.equal(late.json().code, 'FST_FASTCGI_QUEUE_TIMEOUT')
  t.equal((await running).statusCode, 200)
})

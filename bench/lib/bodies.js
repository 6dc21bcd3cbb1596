'use strict'
// The bodies every gateway must answer, byte for byte (checked before each measurement).
// The C backend is test/fixtures/c/hello.c: "hello\n", or ?bytes=N: byte[i] = i % 251.
// PHP (bench/www/): hello.php "hello from php\n"; body.php the length of the request body and
// "\n"; sleep.php "slept 5 ms\n" after 5 ms.

const PERIOD = 251

function pattern (length) {
  const buf = Buffer.allocUnsafe(length)
  for (let i = 0; i < length; i++) buf[i] = i % PERIOD
  return buf
}

const C_HELLO = Buffer.from('hello\n')
const PHP_HELLO = Buffer.from('hello from php\n')
const PHP_SLEPT = Buffer.from('slept 5 ms\n')
const SLEEP_MS = 5

/** The body for a request path+query (and the length of the request's body) as the backends answer it (bare Fastify uses this too). */
function expectedBody (url, requestBodyLength = 0) {
  const q = url.indexOf('?')
  const path = q === -1 ? url : url.slice(0, q)
  if (path.endsWith('/body.php')) return { type: 'text/plain', body: Buffer.from(`${requestBodyLength}\n`) }
  if (path.endsWith('/sleep.php')) return { type: 'text/plain', body: PHP_SLEPT, delayMs: SLEEP_MS }
  if (path.endsWith('.php')) return { type: 'text/plain', body: PHP_HELLO }
  const m = q === -1 ? null : /(?:^|&)bytes=(\d+)/.exec(url.slice(q + 1))
  if (m !== null) return { type: 'application/octet-stream', body: pattern(Number(m[1])) }
  return { type: 'text/plain', body: C_HELLO }
}

module.exports = { expectedBody, pattern }

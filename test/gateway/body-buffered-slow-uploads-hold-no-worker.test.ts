// Request buffering (the default): the whole body is read before php-fpm is asked, so two slow
// uploads do not hold both workers of a 2-worker pool. While both are still sending, a third
// request is served, and neither upload's script has started; each body is then whole, its temp
// file (0600) is gone after the reply. With requestBuffering: false the body streams: the
// script starts while the upload is still under way. Expect: 100-continue uploads work.
import t from 'tap'
import http from 'node:http'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { TeardownHost } from '../helpers/tmp'
import { makeTempDir } from '../helpers/tmp'
import { listenGateway } from '../helpers/listen'
import { request } from '../helpers/http'
import { PHP_FIXTURES, hasPhpFpm, startPhpFpm } from '../helpers/php'

const SIZE = 200_000
// PHP otherwise reads the whole body before the script starts; off, the script runs first and
// reads php://input itself, so the marker says when the backend got the request
const LAZY_BODY = { enable_post_data_reading: '0' }
const FIRST = 8192

interface SlowUpload {
  /** sends the rest and resolves with status and X-Body-Length */
  finish: () => Promise<{ status: number, length: string | undefined }>
}

/** Starts a POST of SIZE bytes, sends FIRST of them and holds the rest. */
function startUpload (t: TeardownHost, url: string, headers: http.OutgoingHttpHeaders = {}): SlowUpload {
  const req = http.request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/octet-stream', 'content-length': SIZE, ...headers } })
  t.teardown(() => { req.destroy() })
  const response = new Promise<{ status: number, length: string | undefined }>((resolve, reject) => {
    const timer = setTimeout(() => { req.destroy(new Error('upload not answered within 60 s')) }, 60000)
    req.once('response', (res) => {
      res.resume()
      res.once('end', () => { clearTimeout(timer); resolve({ status: res.statusCode ?? 0, length: res.headers['x-body-length'] as string | undefined }) })
    })
    req.once('error', (err) => { clearTimeout(timer); reject(err) })
  })
  response.catch(() => {})
  req.write(Buffer.alloc(FIRST, 0x61))
  return {
    finish: async () => {
      req.end(Buffer.alloc(SIZE - FIRST, 0x62))
      return await response
    }
  }
}

async function until (what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (check()) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`${what}: not within 30 s`)
}

const skip = !hasPhpFpm() && 'php-fpm missing'

t.test('buffered: slow uploads hold no php-fpm worker', { skip }, async (t) => {
  const fpm = await startPhpFpm(t, { children: 2, ini: LAZY_BODY })
  const spoolDirectory = makeTempDir(t, 'ffcgi-spool-')
  const markers = makeTempDir(t, 'ffcgi-marker-')
  const { base } = await listenGateway(t, { documentRoot: PHP_FIXTURES, spoolMemoryLimit: 4096, spoolDirectory, server: { '.php': [{ ...fpm.options, maxConcurrency: 2 }] } })
  const url = (name: string): string => `${base}/body/started.php?marker=${encodeURIComponent(join(markers, name))}`
  const a = startUpload(t, url('a'))
  const b = startUpload(t, url('b'))
  // both bodies have passed spoolMemoryLimit: the gateway is reading both uploads
  await until('two spool files', () => readdirSync(spoolDirectory).length === 2)
  for (const name of readdirSync(spoolDirectory)) t.equal(statSync(join(spoolDirectory, name)).mode & 0o777, 0o600, 'spool file is 0600')

  const third = await request(`${base}/hello.php`, { timeoutMs: 30000 })
  t.equal(third.status, 200, 'a third request is served while both uploads are under way')
  t.equal(third.body.toString(), 'hello from php\n')
  t.notOk(existsSync(join(markers, 'a')) || existsSync(join(markers, 'b')), 'neither upload\'s script has started')

  const [ra, rb] = await Promise.all([a.finish(), b.finish()])
  t.same(ra, { status: 200, length: String(SIZE) }, 'upload a reached PHP whole')
  t.same(rb, { status: 200, length: String(SIZE) }, 'upload b reached PHP whole')
  await until('spool files removed', () => readdirSync(spoolDirectory).length === 0)
  t.same(readdirSync(spoolDirectory), [], 'temp files are gone after the replies')
})

t.test('buffered: Expect: 100-continue', { skip }, async (t) => {
  const fpm = await startPhpFpm(t, { children: 1 })
  const spoolDirectory = makeTempDir(t, 'ffcgi-spool-')
  const { base } = await listenGateway(t, { documentRoot: PHP_FIXTURES, spoolMemoryLimit: 4096, spoolDirectory, server: { '.php': [fpm.options] } })
  const result = await new Promise<{ continued: boolean, status: number, length: string | undefined }>((resolve, reject) => {
    let continued = false
    const req = http.request(`${base}/body/started.php`, { method: 'POST', agent: false, headers: { 'content-type': 'application/octet-stream', 'content-length': SIZE, expect: '100-continue' } })
    const timer = setTimeout(() => { req.destroy(new Error('no answer within 60 s')) }, 60000)
    req.once('continue', () => { continued = true; req.end(Buffer.alloc(SIZE, 0x63)) })
    req.once('response', (res) => {
      res.resume()
      res.once('end', () => { clearTimeout(timer); resolve({ continued, status: res.statusCode ?? 0, length: res.headers['x-body-length'] as string | undefined }) })
    })
    req.once('error', (err) => { clearTimeout(timer); reject(err) })
  })
  t.same(result, { continued: true, status: 200, length: String(SIZE) })
  await until('spool file removed', () => readdirSync(spoolDirectory).length === 0)
})

t.test('requestBuffering: false streams the upload', { skip }, async (t) => {
  const fpm = await startPhpFpm(t, { children: 2, ini: LAZY_BODY })
  const spoolDirectory = makeTempDir(t, 'ffcgi-spool-')
  const markers = makeTempDir(t, 'ffcgi-marker-')
  const { base } = await listenGateway(t, { documentRoot: PHP_FIXTURES, spoolMemoryLimit: 4096, spoolDirectory, server: { '.php': [{ ...fpm.options, requestBuffering: false }] } })
  const upload = startUpload(t, `${base}/body/started.php?marker=${encodeURIComponent(join(markers, 'streamed'))}`)
  await until('the script starts while the upload is under way', () => existsSync(join(markers, 'streamed')))
  t.pass('the script started before the body was complete')
  t.same(readdirSync(spoolDirectory), [], 'nothing spooled')
  t.same(await upload.finish(), { status: 200, length: String(SIZE) }, 'the body reached PHP whole')
})

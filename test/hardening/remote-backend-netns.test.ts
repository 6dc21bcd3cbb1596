// A backend on another host: php-cgi in its own network namespace, reached over a veth pair
// (TCP). A slow backend is served up to readTimeout and 504 beyond it; a link that goes down
// mid-response aborts the client (the headers were out), one that goes down before the headers
// gives a 5xx, requests while it is down get a 5xx, and once the link is back up requests
// succeed again without restarting anything.
import t from 'tap'
import { PHP_FIXTURES, findBinary, hasPhpCgi } from '../helpers/php'
import { spawnTracked, waitForAddress } from '../helpers/proc'
import { request, requestStream } from '../helpers/http'
import { createNetns, netnsUnavailable } from './netns'
import { listenWithPlugin, loadsBackToZero, sleep } from './support'

const unavailable = netnsUnavailable()

t.test('php-cgi in a network namespace', { skip: unavailable !== false ? unavailable : !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const ns = createNetns(t)
  const port = 9000
  const php = spawnTracked(t, ns.exec([findBinary('php-cgi') as string, '-b', `${ns.nsAddr}:${port}`]), {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PHP_FCGI_CHILDREN: '2' }
  })
  await waitForAddress({ kind: 'tcp', host: ns.nsAddr, port }, { proc: php, what: 'php-cgi in the namespace' })
  const READ_TIMEOUT = 2000
  const { app, base } = await listenWithPlugin(t, {
    documentRoot: PHP_FIXTURES,
    server: { '.php': [{ host: ns.nsAddr, port, readTimeout: READ_TIMEOUT, connectTimeout: 1000, disableTime: 300 }] }
  })

  /** Asks until a request succeeds (the backend may be disabled for disableTime after failures). */
  const recovers = async (what: string): Promise<void> => {
    const deadline = Date.now() + 15_000
    let last = 0
    while (Date.now() < deadline) {
      last = (await request(`${base}/hello.php`, { timeoutMs: 5000, allowAbort: true }).catch(() => ({ status: -1 }))).status
      if (last === 200) break
      await sleep(200)
    }
    t.equal(last, 200, `${what}: requests succeed again`)
    const after = await Promise.all(Array.from({ length: 6 }, () => request(`${base}/env.php?after=1`, { timeoutMs: 5000 })))
    t.same(after.map((r) => r.status), [200, 200, 200, 200, 200, 200], `${what}: six more in a row`)
    t.same(await loadsBackToZero(app), [0], `${what}: load back to 0`)
  }

  await t.test('answers over TCP from the other namespace', async (t) => {
    const res = await request(`${base}/env.php/p?q=1`, { timeoutMs: 10_000 })
    t.equal(res.status, 200)
    const server = (JSON.parse(res.body.toString()) as { server: Record<string, string> }).server
    t.equal(server.SCRIPT_NAME, '/env.php')
    t.equal(server.PATH_INFO, '/p')
    t.equal(server.REMOTE_ADDR, '127.0.0.1', 'REMOTE_ADDR is the HTTP client, not the gateway')
    t.same(app.fastcgi.backends().map((b) => [b.address, b.isLocal]), [[`tcp:${ns.nsAddr}:${port}`, false]])
  })

  await t.test('a slow backend: served within readTimeout, 504 beyond it', async (t) => {
    const started = Date.now()
    const slow = await request(`${base}/slow.php?ms=1200`, { timeoutMs: 10_000 })
    t.equal(slow.status, 200)
    t.equal(slow.body.toString(), 'slept 1200\n')
    t.ok(Date.now() - started >= 1200, 'it took the time it took')
    const tooSlow = await request(`${base}/slow.php?ms=${READ_TIMEOUT + 1500}`, { timeoutMs: 10_000 })
    t.equal(tooSlow.status, 504, 'backend silent past readTimeout')
    await recovers('after a timeout')
  })

  await t.test('the link goes down mid-response: the client connection is aborted', async (t) => {
    const { req, res } = await requestStream(`${base}/slow.php?mid=3000`, { timeoutMs: 10_000 })
    t.equal(res.statusCode, 200, 'headers were out')
    const first = await new Promise<string>((resolve) => res.once('data', (c: Buffer) => resolve(c.toString())))
    t.equal(first, 'start\n')
    ns.setLink(false)
    const started = Date.now()
    const outcome = await new Promise<string>((resolve) => {
      res.on('data', () => {})
      res.once('end', () => resolve(res.complete ? 'complete' : 'incomplete'))
      res.once('error', () => resolve('aborted'))
      res.once('close', () => resolve(res.complete ? 'complete' : 'aborted'))
      setTimeout(() => resolve('still open'), READ_TIMEOUT + 8000)
    })
    req.destroy()
    t.equal(outcome, 'aborted', 'a response cut by the network never looks complete')
    t.ok(Date.now() - started < READ_TIMEOUT + 3000, 'within readTimeout')

    const whileDown = await request(`${base}/hello.php`, { timeoutMs: 10_000, allowAbort: true })
    t.ok(whileDown.status >= 500 && whileDown.status <= 504, `a request while the link is down gets ${whileDown.status}`)
    ns.setLink(true)
    await recovers('after the link came back')
  })

  await t.test('the link goes down before the headers: 5xx', async (t) => {
    const pending = request(`${base}/slow.php?ms=800`, { timeoutMs: 15_000, allowAbort: true })
    await sleep(200)
    ns.setLink(false)
    const res = await pending
    t.ok(res.status >= 500 && res.status <= 504, `status ${res.status}`)
    ns.setLink(true)
    await recovers('after a second outage')
  })
})

// HTTP/1.1 pipelining: several requests written at once on one socket, mixed methods, a body,
// a HEAD, a 404 and an error in the middle: every one is answered, in order, with its own answer.
import t from 'tap'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'
import { listenWithPlugin, parseResponses, rawConnect } from './support'

t.test('pipelined requests through php-cgi come back in order', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t, { children: 2 })
  const { port } = await listenWithPlugin(t, { documentRoot: PHP_FIXTURES, server: { '.php': [php.options] } })
  const requests: Array<{ text: string, head: boolean, check: (r: { status: number, body: string, headers: Record<string, string> }) => void }> = []
  for (let i = 0; i < 12; i++) {
    switch (i % 6) {
      case 0:
        requests.push({ text: `GET /env.php?n=${i} HTTP/1.1\r\nHost: pipe\r\n\r\n`, head: false, check: (r) => {
          t.equal(r.status, 200, `#${i} GET 200`)
          t.equal((JSON.parse(r.body) as { server: Record<string, string> }).server.QUERY_STRING, `n=${i}`, `#${i} got its own answer`)
        } })
        break
      case 1:
        requests.push({ text: `POST /echo.php?n=${i} HTTP/1.1\r\nHost: pipe\r\nContent-Type: text/plain\r\nContent-Length: ${`body ${i}`.length}\r\n\r\nbody ${i}`, head: false, check: (r) => {
          t.equal(r.status, 200, `#${i} POST 200`)
          t.equal(r.body, `body ${i}`, `#${i} its body echoed`)
        } })
        break
      case 2:
        requests.push({ text: `HEAD /hello.php HTTP/1.1\r\nHost: pipe\r\n\r\n`, head: true, check: (r) => {
          t.equal(r.status, 200, `#${i} HEAD 200`)
          t.equal(r.body, '', `#${i} HEAD has no body`)
        } })
        break
      case 3:
        requests.push({ text: `GET /missing-${i}.php HTTP/1.1\r\nHost: pipe\r\n\r\n`, head: false, check: (r) => t.equal(r.status, 404, `#${i} 404`) })
        break
      case 4:
        requests.push({ text: `GET /status.php?status=418 HTTP/1.1\r\nHost: pipe\r\n\r\n`, head: false, check: (r) => t.equal(r.status, 418, `#${i} the backend's status`) })
        break
      case 5:
        requests.push({ text: `GET /big.php?bytes=200000 HTTP/1.1\r\nHost: pipe\r\n\r\n`, head: false, check: (r) => {
          t.equal(r.status, 200, `#${i} big 200`)
          t.equal(r.body.length, 200000, `#${i} whole body`)
        } })
        break
    }
  }
  const conn = await rawConnect(t, port)
  // all at once, in one write
  await conn.write(requests.map((r) => r.text).join(''))
  const heads = requests.map((r) => r.head)
  const text = await conn.waitFor((s) => parseResponses(s, heads).length >= requests.length, 30_000)
  const responses = parseResponses(text, heads)
  t.equal(responses.length, requests.length, 'every pipelined request was answered')
  responses.forEach((r, i) => requests[i]?.check(r))
  t.notOk(conn.closed(), 'the connection stays open')
  conn.destroy()
})

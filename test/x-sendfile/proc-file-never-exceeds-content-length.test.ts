// A /proc file stats as a regular file of size 0 but yields bytes when read. The response
// announces Content-Length: 0 and carries no body byte: two pipelined requests on one
// connection read back as two well-framed responses (a stray byte would start the second).
import t from 'tap'
import net from 'node:net'
import { listenGateway } from '../helpers/listen'
import { PHP_FIXTURES, hasPhpCgi, startPhpCgi } from '../helpers/php'

async function pipelined (base: string, paths: readonly string[]): Promise<string> {
  const { port } = new URL(base)
  const socket = net.connect(Number(port), '127.0.0.1')
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  const requests = paths.map((p, i) => `GET ${p} HTTP/1.1\r\nHost: localhost\r\n${i === paths.length - 1 ? 'Connection: close\r\n' : ''}\r\n`)
  socket.write(requests.join(''))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { socket.destroy(); reject(new Error('no close within 30 s')) }, 30000)
    socket.once('close', () => { clearTimeout(timer); resolve() })
    socket.once('error', () => {})
  })
  return Buffer.concat(chunks).toString('latin1')
}

t.test('X-Sendfile of /proc files sends Content-Length 0 and nothing else', { skip: !hasPhpCgi() && 'php-cgi missing' }, async (t) => {
  const php = await startPhpCgi(t)
  const { base } = await listenGateway(t, { documentRoot: PHP_FIXTURES, server: { '.php': [{ ...php.options, xSendfile: true }] } })
  for (const [name, query] of [
    ['200', 'v=/proc/version'],
    ['status 404 kept', 'status=404&v=/proc/self/status'],
    ['X-Sendfile2 open range', `h=X-Sendfile2&v=${encodeURIComponent('/proc/version 0-')}`]
  ] as const) {
    const raw = await pipelined(base, [`/sendfile/send.php?${query}`, '/hello.php'])
    const responses = raw.split(/(?=HTTP\/1\.1 \d{3} )/)
    t.equal(responses.length, 2, `${name}: exactly two responses on the connection`)
    const [first = '', second = ''] = responses
    t.match(first, /^HTTP\/1\.1 (200|404) /, `${name}: status`)
    t.match(first, /\r\ncontent-length: 0\r\n/i, `${name}: announced length 0`)
    t.ok(first.endsWith('\r\n\r\n'), `${name}: no body byte after the head`)
    t.notMatch(raw, /Linux version|VmRSS/, `${name}: nothing of the file went out`)
    t.match(second, /^HTTP\/1\.1 200 [\s\S]*\r\n\r\n[\s\S]*hello from php/, `${name}: the next response is intact`)
  }
})

// tmp, ports and pattern helpers.
import t from 'tap'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createServer } from 'node:net'
import { makeTempDir } from '../helpers/tmp'
import { freePort } from '../helpers/ports'
import { patternBytes, PatternChecker, patternMd5 } from '../helpers/pattern'
import { createHash } from 'node:crypto'

t.test('makeTempDir removes itself at teardown', async (t) => {
  let dir = ''
  await t.test('inner', async (t) => {
    dir = makeTempDir(t)
    writeFileSync(join(dir, 'file'), 'x')
    t.ok(existsSync(join(dir, 'file')))
  })
  t.notOk(existsSync(dir), 'gone after the inner test ended')
})

t.test('freePort gives a port that can be bound on 127.0.0.1', async (t) => {
  const port = await freePort()
  t.ok(port > 0 && port < 65536)
  const server = createServer()
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', resolve) })
  await new Promise<void>((resolve) => server.close(() => { resolve() }))
})

t.test('the pattern: byte[i] = i % 251, checked across any chunking', async (t) => {
  const bytes = patternBytes(0, 200_000)
  t.equal(bytes[250], 250)
  t.equal(bytes[251], 0)
  t.equal(bytes[65536], 65536 % 251)
  t.ok(patternBytes(1000, 5000).equals(bytes.subarray(1000, 6000)))
  t.equal(patternMd5(200_000), createHash('md5').update(bytes).digest('hex'))
  const checker = new PatternChecker()
  for (let offset = 0; offset < bytes.length;) {
    const size = 1 + (offset % 9973)
    checker.push(bytes.subarray(offset, offset + size))
    offset += size
  }
  t.ok(checker.ok(200_000))
  const broken = Buffer.from(bytes)
  broken[123_456] = (broken[123_456] as number) ^ 1
  const bad = new PatternChecker()
  bad.push(broken.subarray(0, 100_000))
  bad.push(broken.subarray(100_000))
  t.equal(bad.firstMismatch, 123_456)
  t.notOk(bad.ok(200_000))
})

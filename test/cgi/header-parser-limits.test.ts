import t from 'tap'
import { CgiHeaderParser } from '../../plugin/cgi/response-header-parser'

// A block of exactly `size` bytes, terminator included: `X: vvv...\r\n\r\n`.
function blockOf (size: number): Buffer {
  const fixed = 'X: '.length + 4
  return Buffer.from(`X: ${'v'.repeat(size - fixed)}\r\n\r\n`)
}

function* cuts (block: Buffer): Generator<[string, Buffer[]]> {
  yield ['whole', [block]]
  yield ['one byte at a time', [...block].map((b) => Buffer.from([b]))]
  for (const at of [1, block.length >> 1, block.length - 2, block.length - 1]) yield [`split at ${at}`, [block.subarray(0, at), block.subarray(at)]]
}

function tooLarge (t: tap.Test, limit: number, fn: () => void, what: string): void {
  try {
    fn()
  } catch (err) {
    const e = err as { code?: string, statusCode?: number, message?: string }
    t.equal(e.code, 'FST_FASTCGI_HEADER_TOO_LARGE', what)
    t.equal(e.statusCode, 502)
    t.match(e.message, `${limit} byte limit`, 'the message names the limit')
    return
  }
  t.fail(`${what}: no error`)
}

t.test('a block of exactly the limit is accepted', async (t) => {
  for (const limit of [16, 100, 65536]) {
    const block = blockOf(limit)
    t.equal(block.length, limit)
    for (const [how, pieces] of cuts(block)) {
      const parser = new CgiHeaderParser(limit)
      let done = false
      for (const p of pieces) if (parser.push(p) !== undefined) done = true
      t.ok(done, `${limit} ${how}`)
    }
  }
})

t.test('one byte over the limit is HeaderTooLargeError naming the limit', async (t) => {
  for (const limit of [16, 100, 65536]) {
    const block = blockOf(limit + 1)
    for (const [how, pieces] of cuts(block)) {
      const parser = new CgiHeaderParser(limit)
      tooLarge(t, limit, () => { for (const p of pieces) parser.push(p) }, `${limit} ${how}`)
    }
  }
})

t.test('an unterminated block fails as soon as it passes the limit', async (t) => {
  const parser = new CgiHeaderParser(10)
  t.equal(parser.push(Buffer.from('X: 123456\r')), undefined, '10 bytes, still waiting')
  tooLarge(t, 10, () => parser.push(Buffer.from('x')), 'the 11th byte')
  const big = new CgiHeaderParser(10)
  tooLarge(t, 10, () => big.push(Buffer.alloc(1000, 0x61)), 'one big chunk without LF')
})

t.test('body bytes after the block do not count', async (t) => {
  const block = blockOf(20)
  const got = new CgiHeaderParser(20).push(Buffer.concat([block, Buffer.alloc(100000, 0x62)]))
  t.equal(got?.rest.length, 100000)
})

t.test('each block of an interim sequence has the full limit', async (t) => {
  const interim = Buffer.from('Status: 103\r\nL: 1234\r\n\r\n')
  const final = blockOf(interim.length)
  const got = new CgiHeaderParser(interim.length).push(Buffer.concat([interim, interim, final, Buffer.from('b')]))
  t.equal(got?.head.status, 200)
  t.equal(got?.rest.toString(), 'b')
})

t.test('the limit must be a positive integer', async (t) => {
  for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    t.throws(() => new CgiHeaderParser(bad), { code: 'FST_FASTCGI_INVALID_OPTION' }, String(bad))
  }
})

// A backend that can write inside xSendfileDocroot swaps the file it named between the gateway's
// check and its open: for a symbolic link to a file outside that only the gateway can read, for a
// folder on the way that is a link leading out, or for a FIFO. The gateway opens the file once
// and sends what it opened: the link is refused (403, nothing of the outside file goes out), the
// FIFO is refused at once (403) without a threadpool thread left blocked on its open, and no
// descriptor is left open, whichever way the request ends.
//
// The race is made deterministic: every look the gateway takes by name at the file (fs.promises
// realpath and stat) sees the regular file, and the hostile thing is swapped in as it returns.
// Before the fix, the gateway opened the file again by name afterwards: the outside file was
// sent, and the FIFO's open blocked a threadpool thread for good.
import t from 'tap'
import type { Test } from 'tap'
import fs from 'node:fs'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import Fastify from 'fastify'
import fastcgi from '../../plugin'
import type { FastcgiMapping } from '../../plugin'
import { startFaultServer, faults } from '../helpers/fault-server'
import { makeTempDir } from '../helpers/tmp'
import { request } from '../helpers/http'

const SECRET = 'outside secret, readable by the gateway only\n'
const hasProc = fs.existsSync('/proc/self/fd')

/** This process's descriptors open on anything under `dirs`. */
function descriptorsUnder (dirs: readonly string[]): string[] {
  const open: string[] = []
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${fd}`)
      if (dirs.some((dir) => target.startsWith(dir + '/'))) open.push(target)
    } catch {} // closed between the listing and the readlink
  }
  return open
}

async function noDescriptorsLeft (dirs: readonly string[]): Promise<string[]> {
  const deadline = Date.now() + 5000
  while (descriptorsUnder(dirs).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  return descriptorsUnder(dirs)
}

interface Swap {
  /** puts the hostile thing where the checked file was */
  readonly in: () => void
  /** puts the regular file back */
  readonly out: () => void
}

/**
 * Every fs.promises.realpath / stat of `file` sees the regular file; as it returns, `swap.in`
 * runs, until the returned function is called (which puts the regular file back).
 */
function raceOn (t: Test, file: string, swap: Swap): () => void {
  let swapped = false
  let armed = true
  const wrap = (original: typeof fs.promises.realpath | typeof fs.promises.stat) =>
    async (...args: unknown[]): Promise<unknown> => {
      if (!armed || String(args[0]) !== file) return await Reflect.apply(original, fs.promises, args)
      if (swapped) { swap.out(); swapped = false }
      const result: unknown = await Reflect.apply(original, fs.promises, args)
      swap.in()
      swapped = true
      return result
    }
  const realpath = fs.promises.realpath
  const stat = fs.promises.stat
  // the overloads of realpath / stat do not fit a wrapper's type: set without type checking
  Reflect.set(fs.promises, 'realpath', wrap(realpath))
  Reflect.set(fs.promises, 'stat', wrap(stat))
  t.teardown(() => {
    fs.promises.realpath = realpath
    fs.promises.stat = stat
    if (swapped) swap.out()
  })
  return () => {
    armed = false
    if (swapped) swap.out()
    swapped = false
  }
}

interface Setup {
  readonly dir: string
  readonly outside: string
  readonly file: string
  url: (variant: string) => string
  disarm: () => void
}

async function setup (t: Test, makeSwap: (s: { dir: string, outside: string, file: string }) => Swap, nested = false): Promise<Setup> {
  const dir = fs.realpathSync(makeTempDir(t, 'ffcgi-swap-root-'))
  const outside = fs.realpathSync(makeTempDir(t, 'ffcgi-swap-out-'))
  fs.writeFileSync(join(outside, 'f.txt'), SECRET)
  const folder = nested ? join(dir, 'uploads') : dir
  fs.mkdirSync(folder, { recursive: true })
  const file = join(folder, 'f.txt')
  fs.writeFileSync(file, 'the checked file\n')
  const disarm = raceOn(t, file, makeSwap({ dir, outside, file }))
  const state: Setup = { dir, outside, file, url: () => '', disarm }

  const app = Fastify()
  t.teardown(() => app.close())
  const backends: Record<string, string> = {
    200: `Status: 200\r\nContent-Type: text/plain\r\nX-Sendfile: ${file}\r\n\r\n`,
    403: `Status: 403\r\nContent-Type: text/plain\r\nX-Sendfile: ${file}\r\n\r\n`,
    x2: `Status: 200\r\nContent-Type: text/plain\r\nX-Sendfile2: ${encodeURIComponent(file)} 0-\r\n\r\n`
  }
  const server: Record<string, FastcgiMapping> = {}
  for (const [variant, head] of Object.entries(backends)) {
    const backend = await startFaultServer(t, { ...faults.rawHeaders(Buffer.from(head), 'backend body') })
    server[`/b${variant}`] = [{ ...backend.options, checkLocal: false, xSendfile: true, xSendfileDocroot: [dir] }]
  }
  app.get('/plain', async () => 'plain route')
  await app.register(fastcgi, { documentRoot: process.cwd(), server })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  t.ok(address !== null && typeof address === 'object', 'listening')
  const port = address !== null && typeof address === 'object' ? address.port : 0
  state.url = (variant: string) => `http://127.0.0.1:${port}/b${variant}`
  return state
}

const VARIANTS = ['200', '403', 'x2'] as const
const opts = { skip: !hasProc && 'no /proc' }

t.test('last component swapped for a symbolic link leading out: 403, nothing of it sent', opts, async (t) => {
  const s = await setup(t, ({ outside, file }) => ({
    in: () => { fs.renameSync(file, file + '.held'); fs.symlinkSync(join(outside, 'f.txt'), file) },
    out: () => { fs.unlinkSync(file); fs.renameSync(file + '.held', file) }
  }))
  for (const variant of VARIANTS) {
    const res = await request(s.url(variant), { timeoutMs: 5000 })
    t.equal(res.status, 403, `${variant}: refused`)
    t.notMatch(String(res.body), /outside secret/, `${variant}: the outside file does not go out`)
  }
  t.same(await noDescriptorsLeft([s.dir, s.outside]), [], 'no descriptor left open')
  s.disarm()
  const after = await request(s.url('200'), { timeoutMs: 5000 })
  t.equal(String(after.body), 'the checked file\n', 'unswapped, the file is sent')
})

t.test('a folder on the way swapped for a symbolic link leading out: 403, nothing of it sent', opts, async (t) => {
  const s = await setup(t, ({ dir, outside }) => ({
    in: () => { fs.renameSync(join(dir, 'uploads'), join(dir, 'uploads.held')); fs.symlinkSync(outside, join(dir, 'uploads')) },
    out: () => { fs.unlinkSync(join(dir, 'uploads')); fs.renameSync(join(dir, 'uploads.held'), join(dir, 'uploads')) }
  }), true)
  for (const variant of VARIANTS) {
    const res = await request(s.url(variant), { timeoutMs: 5000 })
    t.equal(res.status, 403, `${variant}: refused`)
    t.notMatch(String(res.body), /outside secret/, `${variant}: the outside file does not go out`)
  }
  t.same(await noDescriptorsLeft([s.dir, s.outside]), [], 'no descriptor left open')
})

t.test('swapped for a FIFO: 403 at once, no thread left blocked, the next requests are served', opts, async (t) => {
  const s = await setup(t, ({ file }) => ({
    in: () => { fs.renameSync(file, file + '.held'); execFileSync('mkfifo', [file]) },
    out: () => {
      // a reader blocked on its open (before the fix) is let go, so the test can end
      try { fs.closeSync(fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK)) } catch {} // ENXIO: no reader
      fs.unlinkSync(file)
      fs.renameSync(file + '.held', file)
    }
  }))
  // more than the threadpool's threads (4 by default): one thread blocked by each would starve it
  const n = Math.max(4, Number(process.env.UV_THREADPOOL_SIZE ?? 4)) + 1
  for (let i = 0; i < n; i++) {
    const variant = VARIANTS[i % VARIANTS.length] ?? '200'
    const started = Date.now()
    const res = await request(s.url(variant), { timeoutMs: 3000 }).catch((err: Error) => err)
    t.ok(!(res instanceof Error) && res.status === 403, `${variant} #${i}: 403 (${res instanceof Error ? res.message : res.status})`)
    t.ok(Date.now() - started < 3000, `${variant} #${i}: promptly`)
  }
  t.same(await noDescriptorsLeft([s.dir]), [], 'no descriptor left open')
  s.disarm()
  const file = await request(s.url('200'), { timeoutMs: 3000 }).catch((err: Error) => err)
  t.ok(!(file instanceof Error) && String(file.body) === 'the checked file\n', 'a following X-Sendfile request is served')
  const plain = await request(s.url('').replace(/\/b$/, '/plain'), { timeoutMs: 3000 }).catch((err: Error) => err)
  t.ok(!(plain instanceof Error) && String(plain.body) === 'plain route', 'a normal request is served')
})

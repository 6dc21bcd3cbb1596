// A client that goes away in the middle of its upload is the client's doing: the log says so
// (FST_FASTCGI_CLIENT_ABORTED, 499, at info), never a server error, whether the body was being
// buffered in memory, spooled to a temp file or streamed. A buffered body starts no backend
// request and leaves no temp file, and the server keeps serving.
import t from 'tap'
import Fastify from 'fastify'
import { readdirSync } from 'node:fs'
import fastcgi from '../../plugin'
import { startFaultServer, faults } from '../helpers/fault-server'
import { captureLogs } from '../helpers/logs'
import { request } from '../helpers/http'
import { makeTempDir } from '../helpers/tmp'
import { rawConnect, sleep } from '../hardening/support'

for (const [spoolMemoryLimit, requestBuffering] of [[4 * 1024 * 1024, true], [4096, true], [4096, false]] as const) {
  t.test(`an upload left at 128 KiB of 1 MiB (spoolMemoryLimit ${spoolMemoryLimit}, requestBuffering ${String(requestBuffering)})`, async (t) => {
    const backend = await startFaultServer(t, { ...faults.echoStdin() })
    const spoolDirectory = makeTempDir(t, 'ffcgi-spool-')
    const logs = captureLogs()
    const app = Fastify({ logger: { level: 'info', stream: logs.stream } })
    t.teardown(() => app.close())
    await app.register(fastcgi, { documentRoot: process.cwd(), spoolMemoryLimit, spoolDirectory, server: { '/app': [{ ...backend.options, checkLocal: false, requestBuffering }] } })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as { port: number }

    const conn = await rawConnect(t, port)
    await conn.write(`POST /app HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: ${1024 * 1024}\r\n\r\n`)
    await conn.write(Buffer.alloc(128 * 1024, 0x61))
    // the gateway is reading the upload (and, with the small limit, writing its temp file)
    const deadline = Date.now() + 5000
    while (requestBuffering && spoolMemoryLimit === 4096 && readdirSync(spoolDirectory).length === 0 && Date.now() < deadline) await sleep(10)
    conn.destroy()

    // the gateway notices a moment later: wait for its log line, bounded
    const aborted = (): Record<string, unknown> | undefined => logs.lines.find((l) => (l.err as { code?: string } | undefined)?.code === 'FST_FASTCGI_CLIENT_ABORTED')
    while (aborted() === undefined && Date.now() < deadline + 5000) await sleep(10)
    t.equal(aborted()?.level, 30, 'logged at info as the client closing the request')
    t.equal((aborted()?.res as { statusCode?: number } | undefined)?.statusCode, 499)
    t.same(logs.lines.filter((l) => Number(l.level) >= 50).map((l) => l.msg), [], 'no line at error level')
    if (requestBuffering) t.equal(backend.requests.length, 0, 'no backend request started')
    while (readdirSync(spoolDirectory).length > 0 && Date.now() < deadline + 10000) await sleep(10)
    t.same(readdirSync(spoolDirectory), [], 'no temp file left')
    const after = await request(`http://127.0.0.1:${port}/app`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'small' })
    t.equal(after.headers['x-stdin-length'], '5', 'the server keeps serving')
  })
}

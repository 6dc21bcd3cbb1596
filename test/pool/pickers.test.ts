import t from 'tap'
import type { BackendAddress } from '../../plugin/client/address'
import {
  HashPicker, LeastConnectionPicker, RoundRobinPicker, StickyPicker, createPicker, djbHash, hostHash
} from '../../plugin/pool/pickers'
import type { PickCandidate } from '../../plugin/pool/pickers'
import type { PickHint } from '../../plugin/pool'

interface Candidate extends PickCandidate { label: string }

function candidates (...addresses: BackendAddress[]): Candidate[] {
  return addresses.map((address, index) => ({ index, load: 0, address, label: `h${index}` }))
}

const hint = (over: Partial<PickHint> = {}): PickHint => ({ path: '/index.php', host: 'example.org', clientAddress: '10.0.0.1', ...over })
const tcp = (port: number, host = '127.0.0.1'): BackendAddress => ({ kind: 'tcp', host, port })

function tally (labels: string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const l of labels) out[l] = (out[l] ?? 0) + 1
  return out
}

t.test('djb hash is the uint32 h*33^byte of lighttpd', async (t) => {
  t.equal(djbHash(''), 5381)
  t.equal(djbHash('a'), ((5381 * 33) ^ 97) >>> 0)
  // continuing a hash over a second string equals hashing the concatenation
  t.equal(djbHash('b', djbHash('a')), djbHash('ab'))
  t.ok(djbHash('x'.repeat(1000)) <= 0xffffffff && djbHash('x'.repeat(1000)) >= 0)
})

t.test('least-connection takes the least loaded host, ties to the earliest', async (t) => {
  const picker = new LeastConnectionPicker()
  const hosts = candidates(tcp(9000), tcp(9001), tcp(9002))
  t.equal(picker.pick(hosts)?.label, 'h0')
  const loaded = hosts.map((h, i) => ({ ...h, load: [3, 1, 1][i] ?? 0 }))
  t.equal(picker.pick(loaded)?.label, 'h1')
  t.equal(picker.pick([]), undefined)
})

t.test('least-connection spreads a few hundred concurrent requests evenly', async (t) => {
  const picker = new LeastConnectionPicker()
  const hosts = candidates(tcp(9000), tcp(9001), tcp(9002))
  const loads = [0, 0, 0]
  const picked: string[] = []
  for (let i = 0; i < 300; i++) {
    const chosen = picker.pick(hosts.map((h) => ({ ...h, load: loads[h.index] ?? 0 })))
    if (chosen === undefined) throw new Error('nothing picked')
    loads[chosen.index] = (loads[chosen.index] ?? 0) + 1
    picked.push(chosen.label)
  }
  t.same(tally(picked), { h0: 100, h1: 100, h2: 100 })
})

t.test('round-robin advances once per pick (not twice, as 1.4.69 with check-local)', async (t) => {
  const picker = new RoundRobinPicker()
  const hosts = candidates(tcp(9000), tcp(9001))
  const picked = Array.from({ length: 300 }, () => picker.pick(hosts)?.label ?? '-')
  t.same(picked.slice(0, 4), ['h0', 'h1', 'h0', 'h1'])
  t.same(tally(picked), { h0: 150, h1: 150 })
})

t.test('round-robin skips an unavailable host and continues after the one used last', async (t) => {
  const picker = new RoundRobinPicker()
  const all = candidates(tcp(9000), tcp(9001), tcp(9002))
  t.equal(picker.pick(all)?.label, 'h0')
  // h1 disabled: only h0 and h2 are offered
  t.equal(picker.pick([all[0], all[2]].filter((c): c is Candidate => c !== undefined))?.label, 'h2')
  t.equal(picker.pick(all)?.label, 'h0')
  t.equal(picker.pick(all)?.label, 'h1')
})

t.test('hash: one path always reaches one host, and different paths spread', async (t) => {
  const picker = new HashPicker()
  const hosts = candidates(tcp(9000), tcp(9001))
  const picked: string[] = []
  let unstable = 0
  for (let i = 0; i < 400; i++) {
    const h = hint({ path: `/page/${i}.php` })
    const first = picker.pick(hosts, h)?.label
    if (picker.pick(hosts, h)?.label !== first) unstable++
    picked.push(first ?? '-')
  }
  t.equal(unstable, 0, 'the same request always maps to the same host')
  const counts = tally(picked)
  t.ok((counts.h0 ?? 0) > 100 && (counts.h1 ?? 0) > 100, `both hosts on one IP get a share: ${JSON.stringify(counts)}`)
})

t.test('hash: hosts on the same IP differ by port (1.4.69 always chose the first)', async (t) => {
  t.not(hostHash(tcp(9000)), hostHash(tcp(9001)))
  t.equal(hostHash({ kind: 'unix', path: '/run/php.sock' }), djbHash('/run/php.sock'))
})

t.test('hash covers the host name, case-insensitively', async (t) => {
  const picker = new HashPicker()
  const hosts = candidates(tcp(9000), tcp(9001), tcp(9002), tcp(9003))
  let differs = 0
  let caseMatters = 0
  for (let i = 0; i < 200; i++) {
    const path = `/p${i}`
    if (picker.pick(hosts, hint({ path, host: 'Example.ORG' }))?.label !== picker.pick(hosts, hint({ path, host: 'example.org' }))?.label) caseMatters++
    if (picker.pick(hosts, hint({ path, host: 'a.example' }))?.label !== picker.pick(hosts, hint({ path, host: 'b.example' }))?.label) differs++
  }
  t.equal(caseMatters, 0, 'the host name is compared lowercased')
  t.ok(differs > 0, 'another virtual host can land elsewhere')
})

t.test('sticky: one client address always reaches one host; clients spread', async (t) => {
  const picker = new StickyPicker()
  const hosts = candidates(tcp(9000, '10.1.0.1'), tcp(9000, '10.1.0.2'), tcp(9000, '10.1.0.3'))
  const picked: string[] = []
  let moved = 0
  for (let i = 0; i < 300; i++) {
    const h = hint({ clientAddress: `192.168.${i >> 8}.${i & 255}`, path: `/a/${i}` })
    const first = picker.pick(hosts, h)?.label
    if (picker.pick(hosts, { ...h, path: '/other', host: 'other.example' })?.label !== first) moved++
    picked.push(first ?? '-')
  }
  t.equal(moved, 0, 'neither path nor host name matters')
  const counts = tally(picked)
  t.equal(Object.keys(counts).length, 3, `every host gets clients: ${JSON.stringify(counts)}`)
  for (const n of Object.values(counts)) t.ok(n >= 30, `no host starves: ${JSON.stringify(counts)}`)
})

t.test('createPicker maps every balance name, fair being least-connection', async (t) => {
  t.type(createPicker('fair'), LeastConnectionPicker)
  t.type(createPicker('least-connection'), LeastConnectionPicker)
  t.type(createPicker('round-robin'), RoundRobinPicker)
  t.type(createPicker('hash'), HashPicker)
  t.type(createPicker('sticky'), StickyPicker)
  t.not(createPicker('round-robin'), createPicker('round-robin'), 'a fresh cursor for each mapping')
})

'use strict'
// Reads a V8 .cpuprofile (node --cpu-prof) and prints where the time went: self time by
// category (our plugin, Fastify and its dependencies, Node's JS internals, native / GC /
// idle), the top functions by self time, and the inclusive time of our own functions.
//   node bench/lib/profile-summary.js FILE.cpuprofile [repo root]
const fs = require('node:fs')
const path = require('node:path')

function categoryOf (url, functionName, root) {
  if (functionName === '(idle)') return 'idle'
  if (functionName === '(garbage collector)') return 'GC'
  if (functionName === '(program)') return 'native (program)'
  if (url === '') return 'native (V8 builtins, C++)'
  const file = url.startsWith('file://') ? url.slice(7) : url
  if (file.startsWith('node:')) return 'Node internals (JS)'
  if (file.includes('/dist/plugin/')) return 'fastify-fastcgi (ours)'
  if (file.includes('/node_modules/fastify/')) return 'Fastify'
  if (file.includes('/node_modules/')) return `deps: ${file.split('/node_modules/').pop().split('/').slice(0, file.split('/node_modules/').pop().startsWith('@') ? 2 : 1).join('/')}`
  if (root !== undefined && file.startsWith(root)) return `other: ${path.relative(root, file)}`
  return 'other'
}

function shortUrl (url, root) {
  const file = url.startsWith('file://') ? url.slice(7) : url
  if (file.includes('/node_modules/')) return file.slice(file.lastIndexOf('/node_modules/') + 14)
  if (root !== undefined && file.startsWith(root)) return path.relative(root, file)
  return file
}

function summarizeProfile (profile, root, top = 30) {
  const nodes = new Map()
  for (const n of profile.nodes) nodes.set(n.id, n)
  const parent = new Map()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const selfUs = new Map()
  const { samples, timeDeltas } = profile
  for (let i = 0; i < samples.length; i++) {
    const dt = timeDeltas[i + 1] ?? 0
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + Math.max(0, dt))
  }
  let total = 0
  for (const v of selfUs.values()) total += v
  const idle = [...selfUs.entries()].filter(([id]) => nodes.get(id).callFrame.functionName === '(idle)').reduce((n, [, v]) => n + v, 0)
  const busy = total - idle

  const byCategory = new Map()
  const byFunction = new Map()
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = nodes.get(id).callFrame
    const cat = categoryOf(url, functionName, root)
    byCategory.set(cat, (byCategory.get(cat) ?? 0) + us)
    const key = `${functionName || '(anonymous)'} ${url === '' ? '' : `${shortUrl(url, root)}:${lineNumber + 1}`}`.trim()
    const f = byFunction.get(key) ?? { us: 0, cat }
    f.us += us
    byFunction.set(key, f)
  }

  // inclusive time of our functions (counted once per sample even when recursive)
  const inclusive = new Map()
  for (let i = 0; i < samples.length; i++) {
    const dt = Math.max(0, timeDeltas[i + 1] ?? 0)
    const seen = new Set()
    for (let id = samples[i]; id !== undefined; id = parent.get(id)) {
      const { functionName, url, lineNumber } = nodes.get(id).callFrame
      if (categoryOf(url, functionName, root) !== 'fastify-fastcgi (ours)') continue
      const key = `${functionName || '(anonymous)'} ${shortUrl(url, root)}:${lineNumber + 1}`
      if (seen.has(key)) continue
      seen.add(key)
      inclusive.set(key, (inclusive.get(key) ?? 0) + dt)
    }
  }

  const pct = (us, of) => `${(100 * us / of).toFixed(1)}%`
  const ms = (us) => `${(us / 1000).toFixed(0)} ms`
  const L = []
  L.push(`Sampled ${ms(total)}, of which idle ${ms(idle)} (${pct(idle, total)}); busy ${ms(busy)}. Percentages below are of busy time.`, '')
  L.push('Self time by category:', '')
  L.push('| category | self | % of busy |', '|---|---:|---:|')
  for (const [cat, us] of [...byCategory.entries()].filter(([c]) => c !== 'idle').sort((a, b) => b[1] - a[1])) L.push(`| ${cat} | ${ms(us)} | ${pct(us, busy)} |`)
  L.push('', `Top ${top} functions by self time:`, '')
  L.push('| function | category | self | % of busy |', '|---|---|---:|---:|')
  for (const [key, f] of [...byFunction.entries()].filter(([, f]) => f.cat !== 'idle').sort((a, b) => b[1].us - a[1].us).slice(0, top)) L.push(`| \`${key}\` | ${f.cat} | ${ms(f.us)} | ${pct(f.us, busy)} |`)
  L.push('', 'Our functions by self time:', '')
  L.push('| function | self | % of busy |', '|---|---:|---:|')
  for (const [key, f] of [...byFunction.entries()].filter(([, f]) => f.cat === 'fastify-fastcgi (ours)').sort((a, b) => b[1].us - a[1].us).slice(0, top)) L.push(`| \`${key}\` | ${ms(f.us)} | ${pct(f.us, busy)} |`)
  L.push('', 'Our functions by inclusive time (self + callees):', '')
  L.push('| function | inclusive | % of busy |', '|---|---:|---:|')
  for (const [key, us] of [...inclusive.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) L.push(`| \`${key}\` | ${ms(us)} | ${pct(us, busy)} |`)
  return L.join('\n') + '\n'
}

module.exports = { summarizeProfile }

if (require.main === module) {
  const file = process.argv[2]
  if (file === undefined) { console.error('usage: node bench/lib/profile-summary.js FILE.cpuprofile [root]'); process.exit(2) }
  process.stdout.write(summarizeProfile(JSON.parse(fs.readFileSync(file, 'utf8')), process.argv[3] ?? path.resolve(__dirname, '..', '..')))
}

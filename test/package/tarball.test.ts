// What `npm pack` ships: the LICENSE, the metadata a registry page links to, the built plugin
// with its types, no source map that points at a file outside the tarball, and a README whose
// links work on the registry page (absolute, or to a file that is in the tarball).
import t from 'tap'
import { readFileSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { installIntoProject, packPackage } from './packed'

t.test('the tarball has what a published package needs', async (t) => {
  const packed = packPackage(t)
  const files = new Set(packed.files)
  for (const file of ['LICENSE', 'README.md', 'SECURITY.md', 'package.json', 'bin/fastify-fastcgi.js',
    'dist/plugin/index.js', 'dist/plugin/index.d.ts', 'dist/plugin/lighttpd/index.js', 'dist/plugin/lighttpd/index.d.ts']) {
    t.ok(files.has(file), `${file} is in the tarball`)
  }
  t.notOk(packed.files.some((file) => file.startsWith('test/') || file.startsWith('plugin/') || file.startsWith('bench/')),
    'no tests, TypeScript sources or benchmarks')

  const root = join(installIntoProject(t, packed), 'node_modules', 'fastify-fastcgi')
  t.match(readFileSync(join(root, 'LICENSE'), 'utf8'), /^MIT License/, 'the LICENSE is MIT, as package.json says')
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>
  t.equal(manifest.license, 'MIT')
  t.match(manifest.repository, { url: /github\.com\/fastify-fastcgi\/fastify-fastcgi/ }, 'repository')
  t.match(manifest.homepage, /^https:\/\//, 'homepage')
  t.match(manifest.bugs, { url: /^https:\/\/.*\/issues$/ }, 'bugs')

  // a map is only worth shipping when what it points at is shipped too
  const compiled = packed.files.filter((f) => f.endsWith('.js') || f.endsWith('.d.ts'))
  t.ok(compiled.length > 20, `the built files are there to check (${compiled.length})`)
  for (const file of compiled) {
    const mapUrl = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(root, file), 'utf8'))?.[1]
    if (mapUrl === undefined) continue
    const mapFile = normalize(join(dirname(file), mapUrl))
    t.ok(files.has(mapFile), `${file}: its map ${mapFile} is shipped`)
    if (!files.has(mapFile)) continue
    const map = JSON.parse(readFileSync(join(root, mapFile), 'utf8')) as { sources: string[] }
    for (const source of map.sources) {
      const sourceFile = normalize(join(dirname(mapFile), source))
      t.ok(files.has(sourceFile), `${mapFile}: its source ${sourceFile} is shipped`)
    }
  }
  for (const file of packed.files.filter((f) => f.endsWith('.map'))) {
    t.ok(packed.files.some((f) => readFileSync(join(root, f), 'utf8').includes(`sourceMappingURL=${file.split('/').pop() ?? ''}`)),
      `${file} is referenced by a shipped file (else it is dead weight)`)
  }

  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  t.match(readme, /## Install\n[\s\S]*npm i fastify-fastcgi/, 'an Install section with npm i fastify-fastcgi')
  t.match(readme, /## Requirements\n[\s\S]*Node\.js 20[\s\S]*Fastify 5/, 'a Requirements section naming Node and Fastify')
  const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '')
  t.ok(links.length > 0, 'the README has links')
  for (const link of links) {
    const works = /^https?:\/\//.test(link) || link.startsWith('#') || files.has(normalize(link))
    t.ok(works, `README link ${link} works on the registry page`)
  }
})

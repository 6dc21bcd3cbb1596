// The packed package, installed in a fresh project, as a TypeScript user compiles it: the
// README's `import fastcgi from 'fastify-fastcgi'`, the named export, `import = require`, the
// public types and the `./lighttpd` subpath, under strict TypeScript with module nodenext,
// node16 and bundler, in ESM (.mts) and CommonJS (.cts, .ts in a CommonJS package). The nodenext
// output then runs: each form registers the plugin and serves a request from the example
// FastCGI app (examples/fcgi-app), spawned by the plugin.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from '../helpers/package-build'
import { installIntoProject, packPackage } from './packed'

const TSC = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
const FCGI_APP = join(REPO_ROOT, 'examples', 'fcgi-app', 'server.js')

// shared by the three programs: register the plugin given, serve one request, print the outcome
const SERVE = `
const fcgiApp = process.env.FCGI_APP ?? ''
const runDir = process.env.RUN_DIR ?? ''
const LIGHTTPD = 'fastcgi.server = ( "/app/" => (( "socket" => "/run/app.sock", "check-local" => "disable" )) )'

async function serve (plugin: FastifyPluginAsync<FastcgiPluginOptions>, label: string, same: boolean): Promise<void> {
  const options: FastcgiPluginOptions = {
    documentRoot: runDir,
    server: { '/app/': { app: { binPath: [process.execPath, fcgiApp], socket: runDir + '/' + label + '.sock', maxProcs: 1, checkLocal: false, params: (request) => ({ APP_LABEL: request.hostname }) } } },
    // the hook options type-check with the request, reply and info the plugin gives them
    preHandler: async (request) => { request.log.debug('preHandler') },
    config: { label },
    rewriteHeaders: (headers, request) => ({ ...headers, 'x-method': request.method }),
    onBackendResponse: (_request, reply, info) => { if (info.timings.total < 0 || info.status === 0) reply.log.error('impossible timings') },
    remoteUser: (request) => (request.headers.authorization === undefined ? undefined : { user: 'u', authType: 'Basic' })
  }
  const app = Fastify()
  await app.register(plugin, options)
  const response = await app.inject({ url: '/app/hello?name=' + label })
  const backends: BackendInfo[] = app.fastcgi.backends()
  const imported: LighttpdImport = parseLighttpdConfig(LIGHTTPD)
  process.stdout.write(JSON.stringify({
    label, same, status: response.statusCode, echoed: response.body.includes('name=' + label),
    backends: backends.length, importErrors: imported.errors.length
  }) + '\\n')
  await app.close()
}

// compiled, never called: the types refuse what the plugin refuses
export function wrongUses (): void {
  // @ts-expect-error binPth is not a host option
  Fastify().register(fastcgi, { server: { '.php': [{ socket: '/x', binPth: '/usr/bin/php-cgi' }] } })
  // @ts-expect-error server is required
  const noServer: FastcgiPluginOptions = { documentRoot: '/srv' }
  // @ts-expect-error the import takes the configuration's text
  parseLighttpdConfig(Buffer.from(''))
  void noServer
}
`

const ESM = `import Fastify from 'fastify'
import type { FastifyPluginAsync } from 'fastify'
import fastcgi, { fastifyFastcgi } from 'fastify-fastcgi'
import type { BackendInfo, FastcgiPluginOptions } from 'fastify-fastcgi'
import { parseLighttpdConfig } from 'fastify-fastcgi/lighttpd'
import type { LighttpdImport } from 'fastify-fastcgi/lighttpd'
${SERVE}
await serve(fastcgi, 'esm-default', fastifyFastcgi === fastcgi)
await serve(fastifyFastcgi, 'esm-named', true)
`

const CJS = `import Fastify = require('fastify')
import type { FastifyPluginAsync } from 'fastify'
import fastcgi = require('fastify-fastcgi')
import lighttpd = require('fastify-fastcgi/lighttpd')
import type { BackendInfo, FastcgiPluginOptions } from 'fastify-fastcgi'
import type { LighttpdImport } from 'fastify-fastcgi/lighttpd'
const { parseLighttpdConfig } = lighttpd
${SERVE}
async function main (): Promise<void> {
  await serve(fastcgi, 'cjs-require', fastcgi.fastifyFastcgi === fastcgi && fastcgi.default === fastcgi)
  await serve(fastcgi.fastifyFastcgi, 'cjs-named', true)
}
main().catch((err: unknown) => { process.stderr.write(String(err) + '\\n'); process.exitCode = 1 })
`

// exactly the README's import lines, in a .ts file of a CommonJS package
const README_FORM = `import Fastify from 'fastify'
import type { FastifyPluginAsync } from 'fastify'
import fastcgi from 'fastify-fastcgi'
import type { BackendInfo, FastcgiPluginOptions } from 'fastify-fastcgi'
import { parseLighttpdConfig } from 'fastify-fastcgi/lighttpd'
import type { LighttpdImport } from 'fastify-fastcgi/lighttpd'
${SERVE}
serve(fastcgi, 'cjs-readme', true).catch((err: unknown) => { process.stderr.write(String(err) + '\\n'); process.exitCode = 1 })
`

interface Outcome { label: string, same: boolean, status: number, echoed: boolean, backends: number, importErrors: number }

function tsconfig (module: string, moduleResolution: string, files: string[], emit: boolean): string {
  return JSON.stringify({
    compilerOptions: {
      strict: true, target: 'ES2022', module, moduleResolution, types: ['node'], skipLibCheck: false,
      ...(emit ? { outDir: 'out' } : { noEmit: true })
    },
    files
  }, null, 2)
}

t.test('the packed package types and runs in ESM and CommonJS projects', async (t) => {
  const packed = packPackage(t)
  const project = installIntoProject(t, packed)
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'commonjs' }))
  writeFileSync(join(project, 'esm.mts'), ESM)
  writeFileSync(join(project, 'cjs.cts'), CJS)
  writeFileSync(join(project, 'readme.ts'), README_FORM)
  const configs: Record<string, string> = {
    'tsconfig.nodenext.json': tsconfig('nodenext', 'nodenext', ['esm.mts', 'cjs.cts', 'readme.ts'], true),
    'tsconfig.node16.json': tsconfig('node16', 'node16', ['esm.mts', 'cjs.cts', 'readme.ts'], false),
    // a bundler project is ESM throughout: `import x = require()` is not for it
    'tsconfig.bundler.json': tsconfig('esnext', 'bundler', ['esm.mts', 'readme.ts'], false)
  }
  for (const [file, text] of Object.entries(configs)) {
    writeFileSync(join(project, file), text)
    const tsc = spawnSync(process.execPath, [TSC, '-p', file], { cwd: project, encoding: 'utf8', timeout: 300_000 })
    t.equal(tsc.status, 0, `tsc -p ${file} compiles:\n${tsc.stdout}${tsc.stderr}`)
  }

  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', FCGI_APP, RUN_DIR: project }
  const programs: Record<string, string[]> = {
    'out/esm.mjs': ['esm-default', 'esm-named'],
    'out/cjs.cjs': ['cjs-require', 'cjs-named'],
    'out/readme.js': ['cjs-readme']
  }
  for (const [program, labels] of Object.entries(programs)) {
    const run = spawnSync(process.execPath, [program], { cwd: project, env, encoding: 'utf8', timeout: 120_000 })
    t.equal(run.status, 0, `node ${program} exits 0:\n${run.stdout}${run.stderr}`)
    const outcomes = run.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Outcome)
    t.same(outcomes.map((o) => o.label), labels, `${program} served each form`)
    for (const outcome of outcomes) {
      t.same(outcome, { label: outcome.label, same: true, status: 200, echoed: true, backends: 1, importErrors: 0 },
        `${outcome.label}: the plugin (same function under every name) served the example app`)
    }
  }
})

// Type tests for fastify-fastcgi/lighttpd: the import's options go straight into register().
import Fastify from 'fastify'
import fastcgi from '../plugin'
import { parseLighttpdConfig, parseLighttpdFile } from '../plugin/lighttpd'
import type { ConfigError, ImportedOption, LighttpdFileOptions, LighttpdImport } from '../plugin/lighttpd'

const result: LighttpdImport = parseLighttpdConfig('fastcgi.server = ( ".php" => (( "socket" => "/run/php.sock" )) )')
const errors: ConfigError[] = result.errors
const line: number | undefined = errors[0]?.line
Fastify().register(fastcgi, result.options)
// @ts-expect-error the input is the configuration's text
parseLighttpdConfig(Buffer.from(''))
// @ts-expect-error an error's line is a number
const lineText: string | undefined = errors[0]?.line

export const unused = [line, lineText]

// ---- files: include followed, options with their origin ----
const fromFile: LighttpdImport = parseLighttpdFile('/etc/lighttpd/lighttpd.conf', { root: '/tmp/copy', runIncludeShell: false })
const origin: ImportedOption | undefined = fromFile.imported[0]
const originFile: string | undefined = origin?.file
const fileOptions: LighttpdFileOptions = { includeShellTimeout: 5000 }
// @ts-expect-error runIncludeShell is a boolean
parseLighttpdFile('/etc/lighttpd/lighttpd.conf', { runIncludeShell: 'yes' })
export const unusedFile = [originFile, fileOptions]

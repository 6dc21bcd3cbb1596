#!/usr/bin/env node
'use strict'
// fastify-fastcgi command line.
//
//   fastify-fastcgi check lighttpd.conf   import lighttpd's fastcgi.* settings and validate them:
//                                          prints the plugin options as JSON (exit 0), or the
//                                          errors as FILE:LINE: message (exit 1)
//   fastify-fastcgi check -               the same, reading the configuration from stdin
const fs = require('node:fs')
const path = require('node:path')

const USAGE = `usage: fastify-fastcgi check <lighttpd.conf | ->

Imports lighttpd's fastcgi.server, fastcgi.balance, fastcgi.debug, fastcgi.map-extensions,
server.document-root and index-file.names as fastify-fastcgi options and validates them.
Prints the options as JSON on success (exit 0); prints every error with its line (exit 1).
`

function loadLibrary () {
  const dist = path.join(__dirname, '..', 'dist', 'plugin')
  try {
    return {
      parseLighttpdConfig: require(path.join(dist, 'lighttpd')).parseLighttpdConfig,
      normalizeOptions: require(path.join(dist, 'fastify', 'options')).normalizeOptions
    }
  } catch (err) {
    if (err && err.code === 'MODULE_NOT_FOUND') {
      process.stderr.write(`fastify-fastcgi: ${dist} is missing; build the package first (npm run build)\n`)
      process.exit(2)
    }
    throw err
  }
}

function check (file) {
  let text
  try {
    text = fs.readFileSync(file === '-' ? 0 : file, 'utf8')
  } catch (err) {
    process.stderr.write(`fastify-fastcgi: cannot read ${file}: ${err.message}\n`)
    return 2
  }
  const name = file === '-' ? '<stdin>' : file
  const { parseLighttpdConfig, normalizeOptions } = loadLibrary()
  const { options, errors } = parseLighttpdConfig(text)
  if (errors.length > 0) {
    for (const error of errors) process.stderr.write(`${name}:${error.line}: ${error.message}\n`)
    process.stderr.write(`${errors.length} error${errors.length === 1 ? '' : 's'}: the configuration was not imported completely\n`)
    return 1
  }
  let config
  // a snippet without server.document-root is checked as far as it goes; register() needs one
  const unrooted = options.documentRoot === undefined
  if (unrooted) process.stderr.write(`${name}: warning: no server.document-root: documentRoot must be given when the plugin is registered\n`)
  try {
    config = normalizeOptions(unrooted ? { ...options, documentRoot: '/' } : options)
  } catch (err) {
    process.stderr.write(`${name}: ${err.code !== undefined ? `${err.code}: ` : ''}${err.message}\n`)
    return 1
  }
  for (const warning of config.warnings) process.stderr.write(`${name}: warning: ${warning}\n`)
  process.stdout.write(JSON.stringify(options, null, 2) + '\n')
  return 0
}

function main (argv) {
  const [command, ...rest] = argv
  if (command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(USAGE)
    return 0
  }
  if (command === 'check' && rest.length === 1) return check(rest[0])
  process.stderr.write(USAGE)
  return 2
}

process.exitCode = main(process.argv.slice(2))

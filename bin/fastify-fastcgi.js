#!/usr/bin/env node
'use strict'
// fastify-fastcgi command line.
//
//   fastify-fastcgi check [--root DIR] [--run-include-shell] lighttpd.conf
//       import lighttpd's fastcgi.* settings, following include, and validate them; prints the
//       plugin options as JSON (exit 0). When part of it cannot be imported, still prints the
//       options it could build on stdout, and on stderr what it built and what it could not,
//       each as FILE:LINE (exit 1).
//   fastify-fastcgi check -      the same, reading the configuration from stdin
const fs = require('node:fs')
const path = require('node:path')

const USAGE = `usage: fastify-fastcgi check [--root DIR] [--run-include-shell] <lighttpd.conf | ->

Imports lighttpd's fastcgi.server, fastcgi.balance, fastcgi.debug, fastcgi.map-extensions,
server.document-root and index-file.names as fastify-fastcgi options and validates them,
following include (files and globs, relative paths as lighttpd resolves them).
Prints the options as JSON on stdout. Exit 0: imported completely and valid. Exit 1: stdout has
what could be imported; stderr lists each imported option and each error as FILE:LINE.

  --root DIR            read absolute include paths under DIR (a copy of /etc/lighttpd, an
                        image's root file system): include "/etc/x" reads DIR/etc/x
  --run-include-shell   run include_shell commands (/bin/sh -c, in the main file's
                        directory) and import what they print; without it they are reported
`

function loadLibrary () {
  const dist = path.join(__dirname, '..', 'dist', 'plugin')
  try {
    const lighttpd = require(path.join(dist, 'lighttpd'))
    return {
      parseLighttpdFile: lighttpd.parseLighttpdFile,
      parseLighttpdText: lighttpd.parseLighttpdText,
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

function place (origin, fallback) {
  return `${origin.file ?? fallback}:${origin.line}`
}

function check (file, flags) {
  const name = file === '-' ? '<stdin>' : file
  const library = loadLibrary()
  const importOptions = { root: flags.root, runIncludeShell: flags.runIncludeShell }
  let result
  try {
    result = file === '-'
      ? library.parseLighttpdText(fs.readFileSync(0, 'utf8'), name, process.cwd(), importOptions)
      : library.parseLighttpdFile(file, importOptions)
  } catch (err) {
    process.stderr.write(`fastify-fastcgi: cannot read ${file}: ${err.message}\n`)
    return 2
  }
  const { options, errors, imported } = result
  if (errors.length > 0) {
    // what could be built is not thrown away: the options on stdout, both lists on stderr
    process.stdout.write(JSON.stringify(options, null, 2) + '\n')
    process.stderr.write(imported.length > 0 ? 'imported (the options on stdout):\n' : 'nothing imported\n')
    for (const option of imported) process.stderr.write(`  ${place(option, name)}: ${option.setting} -> ${option.option}\n`)
    process.stderr.write('not imported:\n')
    for (const error of errors) process.stderr.write(`  ${place(error, name)}: ${error.message}\n`)
    process.stderr.write(`${errors.length} error${errors.length === 1 ? '' : 's'}: the configuration was not imported completely\n`)
    return 1
  }
  let config
  // a snippet without server.document-root is checked as far as it goes; register() needs one
  const unrooted = options.documentRoot === undefined
  if (unrooted) process.stderr.write(`${name}: warning: no server.document-root: documentRoot must be given when the plugin is registered\n`)
  try {
    config = library.normalizeOptions(unrooted ? { ...options, documentRoot: '/' } : options)
  } catch (err) {
    process.stderr.write(`${name}: ${err.code !== undefined ? `${err.code}: ` : ''}${err.message}\n`)
    return 1
  }
  for (const warning of config.warnings) process.stderr.write(`${name}: warning: ${warning}\n`)
  process.stdout.write(JSON.stringify(options, null, 2) + '\n')
  return 0
}

function parseCheckArguments (args) {
  const flags = { root: undefined, runIncludeShell: false }
  const files = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    if (arg === '--run-include-shell') flags.runIncludeShell = true
    else if (arg === '--root' && i + 1 < args.length) flags.root = args[++i]
    else if (arg.startsWith('--root=')) flags.root = arg.slice('--root='.length)
    else if (arg.startsWith('--')) return undefined
    else files.push(arg)
  }
  return files.length === 1 ? { file: files[0], flags } : undefined
}

function main (argv) {
  const [command, ...rest] = argv
  if (command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(USAGE)
    return 0
  }
  const parsed = command === 'check' ? parseCheckArguments(rest) : undefined
  if (parsed !== undefined) return check(parsed.file, parsed.flags)
  process.stderr.write(USAGE)
  return 2
}

process.exitCode = main(process.argv.slice(2))

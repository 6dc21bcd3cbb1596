// X-Sendfile family (lighttpd reference 5.6), for backends with `xSendfile`: the backend names
// a file and the gateway sends it instead of the backend's body. X-Sendfile2 (byte ranges of
// one or more files) wins over X-Sendfile, which wins over the deprecated X-LIGHTTPD-send-file.
// Single files go out through @fastify/send (Range, conditional requests, MIME type).
//
// xSendfileDocroot is the security boundary: the path is decoded and normalized, checked
// against the roots, then resolved with realpath and checked again, so neither `..`, `%2e%2e`,
// a symbolic link leading out nor a sibling folder sharing a prefix gets through.
//
// Framing: the Content-Length is the file's size when it was looked at, and the body is exactly
// that many bytes whatever the file does meanwhile. Only regular files are sent (a FIFO would
// block, a directory cannot be read); a file whose size reads as 0 but yields bytes (/proc) is
// sent as what its size says, empty. A file that grows is cut at the announced length; one that
// shrinks aborts the connection, as the client could not otherwise tell the body is short.
//
// Check and send are one open: the file is opened once (O_NOFOLLOW, O_NONBLOCK) after the
// checks, the descriptor is fstat'ed and its location (/proc/self/fd) checked against the roots
// again, and what is sent is read from that descriptor (@fastify/send and X-Sendfile2 ranges
// are handed /proc/self/fd/<fd>, which reopens the same inode; without /proc, the checked
// path). A backend that can write inside the docroot cannot swap the checked file for a
// symbolic link leading out, nor for a FIFO that would block a threadpool thread on open,
// between the check and the read. The descriptor is closed when the reply ends, however it
// ends.
import fs from 'node:fs/promises'
import { constants, createReadStream, existsSync } from 'node:fs'
import type { Stats } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import { Readable } from 'node:stream'
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import { send, mime, isUtf8MimeType } from '@fastify/send'
import { decodePath, encodePath, isPathInside, removeDotSegments } from '../cgi/url-path'
import { BadSendfileError, SendfileChangedError, SendfileForbiddenError, SendfileNotFoundError } from '../errors'

export type SendfileDirective =
  | { readonly kind: 'file', readonly header: string, readonly value: string }
  | { readonly kind: 'ranges', readonly values: readonly string[] }

/** The headers this module consumes; none of them ever reaches the client when acted upon. */
export function isSendfileHeader (lowerName: string): boolean {
  return lowerName === 'x-sendfile' || lowerName === 'x-sendfile2' || lowerName === 'x-lighttpd-send-file'
}

/** What the backend asked for, by lighttpd's precedence; undefined when nothing. */
export function findSendfileDirective (headers: ReadonlyArray<readonly [string, string]>): SendfileDirective | undefined {
  const ranges: string[] = []
  let sendfile: string | undefined
  let legacy: string | undefined
  for (const [name, value] of headers) {
    if (name.length < 10 || (name.charCodeAt(0) | 0x20) !== 0x78 /* x */) continue
    const lower = name.toLowerCase()
    if (lower === 'x-sendfile2') ranges.push(value)
    else if (lower === 'x-sendfile') sendfile ??= value
    else if (lower === 'x-lighttpd-send-file') legacy ??= value
  }
  if (ranges.length > 0) return { kind: 'ranges', values: ranges }
  if (sendfile !== undefined) return { kind: 'file', header: 'X-Sendfile', value: sendfile }
  if (legacy !== undefined) return { kind: 'file', header: 'X-LIGHTTPD-send-file', value: legacy }
  return undefined
}

export interface SendfileResponse {
  /** the backend's status */
  readonly status: number
  /** the backend's headers as they would go to the client (lower-case names) */
  readonly headers: Record<string, string | string[]>
  /** the backend's body: ignored (drained a little, then the backend connection is dropped) */
  readonly body: Readable
  readonly docroots: readonly string[] | undefined
}

// a backend that sends a body beside X-Sendfile usually sends little; past this, drop it
const DISCARD_LIMIT = 64 * 1024

/** Sends the file(s) named by `directive` in place of the backend's body. */
export async function replyWithSendfile (request: FastifyRequest, reply: FastifyReply, response: SendfileResponse, directive: SendfileDirective): Promise<FastifyReply> {
  discardBody(response.body)
  const headers: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(response.headers)) {
    // the file decides the length; lighttpd removes the backend's Content-Length too
    if (isSendfileHeader(name) || name === 'content-length') continue
    headers[name] = value
  }
  if (directive.kind === 'ranges') return await sendRanges(request, reply, response.status, headers, directive.values, response.docroots)

  const file = await locate(request.log, directive.header, directive.value, response.docroots)
  try {
    return await sendOpenFile(request, reply, response.status, headers, directive.header, file)
  } catch (err) {
    await file.close()
    throw err
  }
}

/** Sends the opened `file`; once the reply has a body, closing `file` is that body's business. */
async function sendOpenFile (request: FastifyRequest, reply: FastifyReply, status: number, headers: Record<string, string | string[]>, header: string, file: LocatedFile): Promise<FastifyReply> {
  if (status !== 200) {
    // lighttpd keeps a non-200 status and sends the file as the body, without validators
    delete headers['content-range']
    const size = file.stat.size
    headers['content-length'] = String(size)
    reply.code(status).headers(headers)
    if (request.method === 'HEAD' || status === 204 || status === 304 || size === 0) {
      await file.close()
      return reply.send()
    }
    // a stream of the FileHandle closes it when done; file.close covers a stream never started
    return reply.send(exactly(request.log, file.path, file.handle.createReadStream({ start: 0, end: size - 1 }), size, file.close))
  }

  if (headers['content-type'] === undefined) {
    // send would name the type after /proc/self/fd/<fd>: it is named after the file here
    const type = mime.getType(file.path)
    if (type !== null) headers['content-type'] = isUtf8MimeType(type) ? `${type}; charset=utf-8` : type
  }
  const result = await send(request.raw, encodePath(file.sendPath), {
    dotfiles: 'allow',
    index: false,
    // the backend's Cache-Control and Content-Type go along; send only fills in what is missing
    cacheControl: false,
    contentType: false,
    acceptRanges: true,
    etag: true,
    lastModified: true
  })
  if (result.type === 'error') {
    const code = result.statusCode
    if (code === 404) throw new SendfileNotFoundError()
    if (code !== 412 && code !== 416) {
      request.log.warn({ header, path: file.path, status: code }, 'X-Sendfile file could not be sent')
      throw new SendfileForbiddenError()
    }
    // 412 / 416 are answers to the client's own conditions: send's page, Content-Range included
    discard(result.stream, file.close)
    reply.code(code)
    for (const [name, value] of Object.entries(result.headers)) {
      if (name.toLowerCase() !== 'content-length' && name.toLowerCase() !== 'content-type') reply.header(name, String(value))
    }
    return reply.send()
  }
  delete headers['content-range']
  if (result.statusCode === 304) {
    delete headers['content-type']
    delete headers['content-disposition']
  }
  for (const [name, value] of Object.entries(result.headers)) headers[name.toLowerCase()] = String(value)
  reply.code(result.statusCode).headers(headers)
  const length = Number(headers['content-length'])
  if (result.statusCode === 304 || request.method === 'HEAD' || !(length > 0)) {
    // send reads one byte of an empty range: a 0-byte body must not be read at all
    discard(result.stream, file.close)
    return reply.send()
  }
  // send's stream reopens /proc/self/fd/<fd>, lazily: the descriptor stays open until the end
  return reply.send(exactly(request.log, file.path, result.stream, length, file.close))
}

/**
 * `source`, cut at `length` bytes; when it ends short, the stream errors (before any byte: an
 * error response; after: Fastify destroys the connection).
 */
function exactly (log: FastifyBaseLogger, path: string, source: Readable, length: number, close: () => Promise<void>): Readable {
  const out = Readable.from(takeExactly(log, path, source, length), { objectMode: false })
  // A reply destroyed before its first read (the client left as the file was being sent) never
  // starts the generator, so its finally never runs: the file would stay open for good, and an
  // error of its open would have no listener and end the process. The generator's own reading
  // still sees every error of the source.
  source.on('error', () => {})
  out.once('close', () => discard(source, close))
  return out
}

/**
 * Destroys `source` and, once it has closed, runs `close` (send's stream opens
 * /proc/self/fd/<fd> lazily: the descriptor must outlive that open).
 */
function discard (source: Readable, close: () => Promise<void>): void {
  source.on('error', () => {})
  if (source.closed) {
    void close()
    return
  }
  source.once('close', () => { void close() })
  source.destroy()
}

async function * takeExactly (log: FastifyBaseLogger, path: string, source: Readable, length: number): AsyncGenerator<Buffer> {
  let left = length
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      if (chunk.length >= left) {
        yield chunk.subarray(0, left)
        left = 0
        break
      }
      left -= chunk.length
      yield chunk
    }
  } finally {
    source.destroy()
  }
  if (left > 0) {
    log.warn({ path, announced: length, missing: left }, 'X-Sendfile file shrank while being sent; aborting the response')
    throw new SendfileChangedError()
  }
}

interface LocatedFile {
  /** realpath (as checked; for logs and the MIME type) */
  readonly path: string
  /** the file, open: what is sent is read from it */
  readonly handle: FileHandle
  /** a name that opens `handle`'s file again: /proc/self/fd/<fd> (or `path` without /proc) */
  readonly sendPath: string
  /** fstat of `handle` */
  readonly stat: Stats
  /** closes `handle`; again is a no-op */
  readonly close: () => Promise<void>
}

const PROC_FD = existsSync('/proc/self/fd')
// O_NOFOLLOW: a symbolic link put at the last component after realpath is refused (ELOOP, a
// 403 logged as `cannot be opened`); O_NONBLOCK: a FIFO put there does not block the open
// (regular files ignore it); O_NOCTTY: a terminal put there does not become ours
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY

/**
 * Decode, normalize, check against the docroots, realpath, check again, open, fstat, check
 * where the descriptor really is. The caller owns the returned descriptor.
 * 502 for a path that cannot be decoded or is relative, 403 outside the roots, 404 missing.
 */
async function locate (log: FastifyBaseLogger, header: string, raw: string, docroots: readonly string[] | undefined): Promise<LocatedFile> {
  let decoded: string
  try {
    decoded = decodePath(raw.trim())
  } catch {
    throw new BadSendfileError(`${header} path cannot be decoded`)
  }
  if (decoded.charCodeAt(0) !== 0x2f) throw new BadSendfileError(`${header} path is not absolute`)
  const normalized = removeDotSegments(decoded)
  if (docroots !== undefined && !docroots.some((root) => isPathInside(root, normalized))) {
    log.warn({ header, path: normalized }, 'X-Sendfile path is outside xSendfileDocroot; answering 403')
    throw new SendfileForbiddenError()
  }
  let real: string
  try {
    real = await fs.realpath(normalized)
  } catch (err) {
    throw fileError(log, header, normalized, err)
  }
  const roots = docroots === undefined ? undefined : await Promise.all(docroots.map(async (root) => await fs.realpath(root).catch(() => root)))
  if (roots !== undefined && !roots.some((root) => isPathInside(root, real))) {
    log.warn({ header, path: normalized, realpath: real }, 'X-Sendfile path leads outside xSendfileDocroot (symbolic link); answering 403')
    throw new SendfileForbiddenError()
  }
  let handle: FileHandle
  try {
    handle = await fs.open(real, OPEN_FLAGS)
  } catch (err) {
    throw fileError(log, header, real, err)
  }
  let closed: Promise<void> | undefined
  const close = async (): Promise<void> => {
    closed ??= handle.close().catch((err: unknown) => {
      log.warn({ header, path: real, err }, 'X-Sendfile file could not be closed')
    })
    await closed
  }
  try {
    const stat = await handle.stat()
    if (!stat.isFile()) {
      log.warn({ header, path: real }, 'X-Sendfile names something that is not a regular file; answering 403')
      throw new SendfileForbiddenError()
    }
    const sendPath = PROC_FD ? `/proc/self/fd/${handle.fd}` : real
    if (PROC_FD && roots !== undefined) {
      // a folder on the way swapped for a symbolic link after realpath shows here
      const where = await fs.readlink(sendPath)
      if (!roots.some((root) => isPathInside(root, where))) {
        log.warn({ header, path: real, opened: where }, 'X-Sendfile path leads outside xSendfileDocroot (symbolic link); answering 403')
        throw new SendfileForbiddenError()
      }
    }
    return { path: real, handle, sendPath, stat, close }
  } catch (err) {
    await close()
    throw err
  }
}

function fileError (log: FastifyBaseLogger, header: string, path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ENOENT' || code === 'ENOTDIR') return new SendfileNotFoundError()
  log.warn({ header, path, code }, 'X-Sendfile file cannot be opened; answering 403')
  return new SendfileForbiddenError()
}

interface RangePart {
  readonly file: LocatedFile
  readonly start: number
  /** inclusive; end < start for an empty part */
  readonly end: number
}

// `<url-encoded path> <start>-[<end>]`
const RANGE_ITEM = /^(\S+) (\d{1,15})-(\d{0,15})$/

/** X-Sendfile2: `path range[, path range]` in every header, parts sent one after the other. */
async function sendRanges (request: FastifyRequest, reply: FastifyReply, status: number, headers: Record<string, string | string[]>, values: readonly string[], docroots: readonly string[] | undefined): Promise<FastifyReply> {
  const items: Array<{ path: string, start: number, end: number | undefined }> = []
  for (const value of values) {
    for (const item of value.split(',')) {
      const match = RANGE_ITEM.exec(item.trim())
      if (match === null) throw new BadSendfileError('X-Sendfile2 wants `path start-end` items')
      const start = Number(match[2])
      const end = match[3] === '' ? undefined : Number(match[3])
      if (end !== undefined && start > end + 1) throw new BadSendfileError('X-Sendfile2 range ends before it starts')
      items.push({ path: match[1] as string, start, end })
    }
  }
  const parts: RangePart[] = []
  // one descriptor per file named, however many ranges of it; each range reopens it in turn
  const opened = new Map<string, LocatedFile>()
  const closeAll = async (): Promise<void> => { await Promise.all([...opened.values()].map(async (file) => await file.close())) }
  let length = 0
  try {
    for (const item of items) {
      let file = opened.get(item.path)
      if (file === undefined) {
        file = await locate(request.log, 'X-Sendfile2', item.path, docroots)
        opened.set(item.path, file)
      }
      // lighttpd does not check ranges against the file; here they are cut at its end
      const last = Math.min(item.end ?? file.stat.size - 1, file.stat.size - 1)
      const start = Math.min(item.start, file.stat.size)
      if (last >= start) length += last - start + 1
      parts.push({ file, start, end: last })
    }
  } catch (err) {
    await closeAll()
    throw err
  }
  headers['content-length'] = String(length)
  reply.code(status).headers(headers)
  if (request.method === 'HEAD' || status === 204 || status === 304 || length === 0) {
    await closeAll()
    return reply.send()
  }
  const out = Readable.from(concatParts(request.log, parts))
  // also when the reply is destroyed before its first read (the generator never starts)
  out.once('close', () => { void closeAll() })
  return reply.send(out)
}

async function * concatParts (log: FastifyBaseLogger, parts: readonly RangePart[]): AsyncGenerator<Buffer> {
  for (const part of parts) {
    if (part.end < part.start) continue
    const length = part.end - part.start + 1
    // the same file again, through its descriptor (a stream of the FileHandle would close it,
    // and another range of the file may follow)
    yield * takeExactly(log, part.file.path, createReadStream(part.file.sendPath, { start: part.start, end: part.end }), length)
  }
}

function discardBody (body: Readable): void {
  let seen = 0
  body.on('error', () => {})
  body.on('data', (chunk: Buffer) => {
    seen += chunk.length
    // dropping the body aborts the backend request: its connection is closed, not kept
    if (seen > DISCARD_LIMIT) body.destroy()
  })
  body.resume()
}

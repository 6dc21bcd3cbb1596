// lighttpd's authorizer `docroot` (reference 6): an approved request that no responder takes
// is served as a static file from that root, join(docroot, uri.path), by @fastify/send.
import fs from 'node:fs/promises'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { send } from '@fastify/send'
import { joinPath } from '../cgi/params'
import { encodePath } from '../cgi/url-path'

/** `urlPath` must be normalized (decoded, no dot-segments), so the join cannot leave `docroot`. */
export async function serveFromDocroot (request: FastifyRequest, reply: FastifyReply, docroot: string, urlPath: string): Promise<FastifyReply> {
  const file = joinPath(docroot, urlPath)
  let isDirectory: boolean
  try {
    const stat = await fs.stat(file)
    if (!stat.isFile() && !stat.isDirectory()) return forbidden(reply)
    isDirectory = stat.isDirectory()
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG') {
      reply.callNotFound()
      return reply
    }
    return forbidden(reply)
  }
  if (isDirectory) {
    // as lighttpd's core: a directory is addressed with its trailing slash; no listings
    if (urlPath.endsWith('/')) return forbidden(reply)
    const raw = request.raw.url ?? '/'
    const q = raw.indexOf('?')
    // the normalized path, never the target as sent: `//evil.example/../dir` names /dir here,
    // but as a Location it sends the browser to evil.example
    return reply.redirect(`${encodePath(urlPath)}/${q === -1 ? '' : raw.slice(q)}`, 301)
  }
  const result = await send(request.raw, encodePath(file), { dotfiles: 'allow', index: false })
  if (result.type === 'error' && result.statusCode === 404) {
    result.stream.destroy()
    reply.callNotFound()
    return reply
  }
  reply.code(result.statusCode)
  for (const [name, value] of Object.entries(result.headers)) reply.header(name, String(value))
  return reply.send(result.stream)
}

function forbidden (reply: FastifyReply): FastifyReply {
  return reply.code(403).send({ statusCode: 403, error: 'Forbidden', message: 'Forbidden' })
}

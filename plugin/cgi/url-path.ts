// The request-target as the gateway matches it: decoded, dot-segments removed. A path that
// cannot be decoded, or holds a NUL, never reaches a backend.
import { BadRequestPathError } from '../errors'

export interface RequestTarget {
  readonly path: string
  readonly query: string
}

export function normalizeRequestTarget (rawTarget: string): RequestTarget {
  let target = rawTarget
  if (!target.startsWith('/')) {
    // absolute-form (`http://host/x?y`) reduces to path and query
    const scheme = target.indexOf('://')
    if (scheme !== -1) {
      const slash = target.indexOf('/', scheme + 3)
      target = slash === -1 ? '/' : target.slice(slash)
    } else if (target === '*') {
      target = '/'
    } else {
      throw new BadRequestPathError(JSON.stringify(rawTarget.slice(0, 200)))
    }
  }
  const mark = target.indexOf('?')
  const rawPath = mark === -1 ? target : target.slice(0, mark)
  const query = mark === -1 ? '' : target.slice(mark + 1)
  let decoded: string
  try {
    decoded = rawPath.includes('%') ? decodeURIComponent(rawPath) : rawPath
  } catch {
    throw new BadRequestPathError(`undecodable ${JSON.stringify(rawPath.slice(0, 200))}`)
  }
  if (decoded.includes('\0')) throw new BadRequestPathError('NUL byte in path')
  return { path: removeDotSegments(decoded), query }
}

/** RFC 3986 5.2.4 plus `//` collapsing; `..` above the root stays at the root. */
export function removeDotSegments (input: string): string {
  if (!input.includes('/.') && !input.includes('//')) return input.startsWith('/') ? input : `/${input}`
  const out: string[] = []
  const segments = input.split('/')
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string
    const last = i === segments.length - 1
    if (segment === '..') {
      out.pop()
      if (last) out.push('')
    } else if (segment === '.') {
      if (last) out.push('')
    } else if (segment !== '' || last) {
      out.push(segment)
    }
  }
  return `/${out.join('/')}`
}

/** Segment-aware containment: `/files-private` is not inside `/files`. */
export function isPathInside (root: string, candidate: string): boolean {
  const base = root.endsWith('/') ? root : `${root}/`
  return candidate === root || candidate === base.slice(0, -1) || candidate.startsWith(base)
}

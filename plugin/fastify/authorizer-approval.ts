// What an approving authorizer leaves on a request for whoever serves it later: the variables
// it granted (request.fastcgiVariables, extra params of a responder request), its docroot, and
// which authorizer mappings already approved it. Kept beside the request, not on it, so that
// the responder and the authorizer need not import each other.
import type { FastifyRequest } from 'fastify'

const variables = new WeakMap<FastifyRequest, Record<string, string>>()
const docroots = new WeakMap<FastifyRequest, string>()
const approvals = new WeakMap<FastifyRequest, Set<string>>()

/** request.fastcgiVariables: created empty on first use, one object per request. */
export function variablesOf (request: FastifyRequest): Record<string, string> {
  let vars = variables.get(request)
  if (vars === undefined) {
    vars = {}
    variables.set(request, vars)
  }
  return vars
}

/** The variables if anything created them; undefined otherwise (no allocation per request). */
export function peekVariables (request: FastifyRequest): Record<string, string> | undefined {
  return variables.get(request)
}

export function setVariables (request: FastifyRequest, vars: Record<string, string>): void {
  variables.set(request, vars)
}

/** The docroot of the authorizer that approved the request (lighttpd: the restart keeps it). */
export function authorizedDocroot (request: FastifyRequest): string | undefined {
  return docroots.get(request)
}

export function setAuthorizedDocroot (request: FastifyRequest, docroot: string): void {
  docroots.set(request, docroot)
}

export function isApprovedBy (request: FastifyRequest, mappingKey: string): boolean {
  return approvals.get(request)?.has(mappingKey) === true
}

export function markApproved (request: FastifyRequest, mappingKey: string): void {
  let set = approvals.get(request)
  if (set === undefined) {
    set = new Set()
    approvals.set(request, set)
  }
  set.add(mappingKey)
}
